import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createReference, createSpec, decodeNumber, mars, marsBranch, tensor, type OptionValue, type Tensor } from '../src/index.js';

/**
 * Golden agreement with AGI-Arena/MARS's mars-adamw, transcribed into PyTorch 1.13 ops by tools/golden/mars.py and
 * run in float64. The reference follows its order of operations except for ‖c_t‖₂ (torch.norm's reduction order
 * is its own), so agreement is to a relative error of 1e-13 per element, and bitwise where no clipping happened.
 */

interface Fixture {
  readonly description: string;
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][] }>;
    readonly state: Readonly<Record<string, { readonly step: number; readonly slots: Record<string, number[]> }>>;
  };
}

const TOLERANCE = 1e-13;
const DIR = new URL('./fixtures/mars/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
let worst = 0;
afterAll(() => console.log(`mars golden: largest relative error ${worst.toExponential(2)}`));

function compare(what: string, actual: ArrayLike<number>, expected: readonly number[], out: string[]): void {
  if (actual.length !== expected.length) out.push(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const x = actual[i] as number;
    const r = expected[i] as number;
    const e = x === r ? 0 : Math.abs(x - r) / Math.abs(r);
    worst = Math.max(worst, e);
    if (!(Math.abs(x - r) <= TOLERANCE * Math.abs(r)) && out.length < 10) out.push(`${what}[${i}]: reference ${x}, torch ${r}`);
  }
}

describe('MARS golden trajectories (float64)', () => {
  it('has the fixtures', () => expect(files.length).toBeGreaterThanOrEqual(7));

  for (const file of files) {
    const fx = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Fixture;
    it(`${file}: ${fx.description.split('.')[0]}`, () => {
      const out: string[] = [];
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const opt = createReference(createSpec(fx.optimizer, fx.options), params);
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        fx.params.forEach((p, i) => compare(`step ${k + 1} ${p.name}`, params[p.name]!.data, fx.expected.steps[k]!.params[i]!, out));
      });
      const state = opt.exportState();
      for (const [name, want] of Object.entries(fx.expected.state)) {
        const got = state.params[name]!;
        expect(got.step).toBe(want.step);
        expect(Object.keys(got.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [slot, data] of Object.entries(want.slots)) compare(`${name}.${slot}`, got.slots[slot]!.data.map((v) => decodeNumber(v) ?? NaN), data, out);
      }
      expect(out, out.join('\n')).toEqual([]);
    });
  }
});

describe('MARS options', () => {
  it('has upstream defaults', () => {
    expect(mars().options).toEqual({
      lr: 3e-3,
      betas: [0.95, 0.99],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      gamma: 0.025,
      optimize1d: false,
      lr1d: 3e-3,
      betas1d: [0.9, 0.95],
      weightDecay1d: 0.1,
      nonFinite: 'apply',
    });
  });

  it('takes the MARS branch for 2-D parameters only, unless optimize1d', () => {
    expect([[3, 4], [5], [], [2, 3, 2]].map((s) => marsBranch({ optimize1d: false }, s))).toEqual([true, false, false, false]);
    expect(marsBranch({ optimize1d: true }, [5])).toBe(true);
  });

  it('clips c_t to norm 1: a huge gradient moves a 2-D parameter by the same first step as a unit one', () => {
    const step = (scale: number): number[] => {
      const w = tensor([0, 0], [1, 2]);
      createReference(mars({ lr: 0.1 }), { w }).step({ w: tensor([3 * scale, 4 * scale], [1, 2]) });
      return [...w.data];
    };
    const [a, b] = [step(1000), step(1)];
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 14));
  });
});
