import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createReference,
  createSpec,
  decodeNumber,
  scheduleFreeAdamw,
  scheduleFreeEvalWeights,
  scheduleFreeSgd,
  tensor,
  type OptionValue,
  type Tensor,
} from '../src/index.js';

/**
 * Golden agreement with facebookresearch/schedule_free's reference classes, transcribed into PyTorch 1.13 ops by
 * tools/golden/schedule_free.py and run in float64. The reference follows their order of operations, so every
 * parameter after every step and every slot and scalar at the end must agree bit for bit.
 */

interface Fixture {
  readonly description: string;
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly groups?: ReadonlyArray<{ readonly params: string[]; readonly options: Record<string, OptionValue> }>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][] }>;
    readonly state: Readonly<Record<string, { readonly step: number; readonly scalars: Record<string, number>; readonly slots: Record<string, number[]> }>>;
  };
}

const DIR = new URL('./fixtures/schedule-free/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

function mismatches(what: string, actual: ArrayLike<number>, expected: readonly number[], out: string[]): void {
  if (actual.length !== expected.length) out.push(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length && out.length < 10; i++) {
    if (!Object.is(actual[i], expected[i])) out.push(`${what}[${i}]: reference ${actual[i]}, torch ${expected[i]}`);
  }
}

describe('Schedule-Free golden trajectories (float64, bitwise)', () => {
  it('has fixtures for both optimizers', () => {
    const names = new Set(files.map((f) => (JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as Fixture).optimizer));
    expect([...names].sort()).toEqual(['scheduleFreeAdamw', 'scheduleFreeSgd']);
  });

  for (const file of files) {
    const fx = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Fixture;
    it(`${file}: ${fx.description.split('.')[0]}`, () => {
      const out: string[] = [];
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const groups = fx.groups?.map((g) => ({ params: g.params, options: g.options }));
      const opt = createReference(createSpec(fx.optimizer, fx.options), params, groups ? { groups } : undefined);
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        fx.params.forEach((p, i) => mismatches(`step ${k + 1} ${p.name}`, params[p.name]!.data, fx.expected.steps[k]!.params[i]!, out));
      });
      const state = opt.exportState();
      for (const [name, want] of Object.entries(fx.expected.state)) {
        const got = state.params[name]!;
        expect(got.step).toBe(want.step);
        expect(Object.keys(got.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [slot, data] of Object.entries(want.slots)) mismatches(`${name}.${slot}`, got.slots[slot]!.data.map((v) => decodeNumber(v) ?? NaN), data, out);
        expect(Object.keys(got.scalars).sort()).toEqual(Object.keys(want.scalars).sort());
        for (const [s, v] of Object.entries(want.scalars)) mismatches(`${name}.${s}`, [decodeNumber(got.scalars[s]) ?? NaN], [v], out);
        mismatches(`eval weights ${name}`, scheduleFreeEvalWeights(state)[name]!.data, want.slots.x!, out);
      }
      expect(out, out.join('\n')).toEqual([]);
    });
  }
});

describe('Schedule-Free options and evaluation weights', () => {
  it('has upstream defaults', () => {
    expect(scheduleFreeSgd().options).toEqual({ lr: 1, momentum: 0.9, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, nonFinite: 'apply' });
    expect(scheduleFreeAdamw().options).toEqual({
      lr: 0.0025,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      warmupSteps: 0,
      r: 0,
      weightLrPower: 2,
      decayAtZ: false,
      nonFinite: 'apply',
    });
  });

  it('refuses momentum outside (0, 1) and a fractional warmup, naming option and value', () => {
    expect(() => scheduleFreeSgd({ momentum: 0 })).toThrow(/momentum.*0/);
    expect(() => scheduleFreeSgd({ momentum: 1 })).toThrow(/momentum.*1/);
    expect(() => scheduleFreeAdamw({ warmupSteps: 1.5 })).toThrow(/warmupSteps.*1\.5/);
  });

  it('leaves out parameters not updated yet, and the first step starts z and x from the parameter', () => {
    const a = tensor([1, 2]);
    const b = tensor([3]);
    const opt = createReference(scheduleFreeSgd({ lr: 0.5, momentum: 0.5 }), { a, b });
    expect(scheduleFreeEvalWeights(opt.exportState())).toEqual({});
    opt.step({ a: tensor([1, 1]) });
    // z = a − 0.5·g = [0.5, 1.5]; c = 1 so x = z; y = x.
    expect(Object.keys(scheduleFreeEvalWeights(opt.exportState()))).toEqual(['a']);
    expect([...scheduleFreeEvalWeights(opt.exportState()).a!.data]).toEqual([0.5, 1.5]);
    expect([...a.data]).toEqual([0.5, 1.5]);
  });
});
