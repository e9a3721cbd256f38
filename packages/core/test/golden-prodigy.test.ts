import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createReference, createSpec, decodeNumber, prodigy, tensor, type GroupConfig, type OptionValue, type Tensor } from '../src/index.js';

/**
 * Golden agreement with konstmish/prodigy's `Prodigy`, transcribed into PyTorch 1.13 ops by tools/golden/prodigy.py
 * and run in float64: every parameter after every step, the groups' shared scalars (d, dMax, dNumerator, k) after
 * every step, and every slot at the end. The reference follows upstream's order of operations except inside the
 * reductions ⟨ĝ, x̂₀ − x̂⟩ (torch.dot) and ‖s‖₁ (torch.sum), whose summation order is torch's own; d is a ratio of two
 * such sums, so every later value carries their rounding: agreement to a relative error of 1e-11 (the largest
 * seen is printed).
 */

interface Fixture {
  readonly description: string;
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly groups?: ReadonlyArray<{ readonly params: string[]; readonly options: Record<string, OptionValue> }>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][]; readonly groups: ReadonlyArray<Record<string, number>> }>;
    readonly state: Readonly<Record<string, { readonly step: number; readonly updates: number; readonly slots: Record<string, number[]> }>>;
  };
}

const TOLERANCE = 1e-11;
const DIR = new URL('./fixtures/prodigy/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
let worst = 0;
let bitwise = 0;
let compared = 0;
afterAll(() => console.log(`prodigy golden: ${compared} values, ${bitwise} bitwise, largest relative error ${worst.toExponential(2)}`));

function compare(what: string, actual: ArrayLike<number>, expected: readonly number[], out: string[]): void {
  if (actual.length !== expected.length) out.push(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const x = actual[i] as number;
    const r = expected[i] as number;
    compared++;
    if (x === r) bitwise++;
    const e = x === r ? 0 : Math.abs(x - r) / Math.abs(r);
    worst = Math.max(worst, e);
    if (!(x === r || Math.abs(x - r) <= TOLERANCE * Math.abs(r)) && out.length < 10) out.push(`${what}[${i}]: reference ${x}, torch ${r}`);
  }
}

describe('Prodigy golden trajectories (float64)', () => {
  it('has the fixtures, with several parameters in a group and with two groups', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(files).toContain('two-groups.json');
  });

  for (const file of files) {
    const fx = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Fixture;
    it(`${file}: ${fx.description.split('.')[0]}`, () => {
      const out: string[] = [];
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const groups = (fx.groups ?? []) as unknown as GroupConfig[];
      const opt = createReference(createSpec(fx.optimizer, fx.options), params, { groups });
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        const want = fx.expected.steps[k]!;
        fx.params.forEach((p, i) => compare(`step ${k + 1} ${p.name}`, params[p.name]!.data, want.params[i]!, out));
        const got = opt.exportState().groups!;
        expect(got.length).toBe(want.groups.length);
        want.groups.forEach((g, gi) => {
          for (const key of ['d', 'dMax', 'dNumerator', 'k']) compare(`step ${k + 1} group ${gi} ${key}`, [decodeNumber(got[gi]!.scalars[key]) ?? NaN], [g[key]!], out);
        });
      });
      const state = opt.exportState();
      for (const [name, want] of Object.entries(fx.expected.state)) {
        const got = state.params[name]!;
        // descent counts a parameter's step in the first pass: the same as upstream unless a first pass found D = 0.
        expect(got.step).toBe(want.updates);
        expect(Object.keys(got.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [slot, data] of Object.entries(want.slots)) compare(`${name}.${slot}`, got.slots[slot]!.data.map((v) => decodeNumber(v) ?? NaN), data, out);
      }
      expect(out, out.join('\n')).toEqual([]);
    });
  }
});

describe('Prodigy options and groups', () => {
  it('has upstream defaults (beta3 and growthRate null for None and ∞; fsdp_in_use left out)', () => {
    expect(prodigy().options).toEqual({
      lr: 1,
      betas: [0.9, 0.999],
      beta3: null,
      eps: 1e-8,
      weightDecay: 0,
      decouple: true,
      useBiasCorrection: false,
      safeguardWarmup: false,
      d0: 1e-6,
      dCoef: 1,
      growthRate: null,
      sliceP: 1,
      nonFinite: 'apply',
    });
    expect(() => prodigy({ fsdpInUse: true } as never)).toThrow(/unknown option "fsdpInUse"/);
    expect(() => prodigy({ beta3: 1 })).toThrow(/option "beta3" must be a number in \[0, 1\), got 1/);
    expect(() => prodigy({ sliceP: 0 })).toThrow(/option "sliceP"/);
  });

  it('refuses per-group overrides of the options of the shared D estimate, and unequal non-zero group lrs', () => {
    const w = tensor([1, 2]);
    const b = tensor([3]);
    for (const key of ['betas', 'beta3', 'd0', 'dCoef', 'growthRate', 'useBiasCorrection', 'decouple']) {
      const value = key === 'betas' ? [0.5, 0.9] : key === 'useBiasCorrection' || key === 'decouple' ? false : 0.5;
      expect(() => createReference(prodigy(), { w, b }, { groups: [{ params: ['w'], options: { [key]: value } }] })).toThrow(
        new RegExp(`option "${key}" applies to the whole optimizer`),
      );
    }
    const opt = createReference(prodigy(), { w, b }, { groups: [{ params: ['w'], options: { lr: 0.5 } }] });
    const before = JSON.stringify(opt.exportState());
    expect(() => opt.step({ w: tensor([1, 1]), b: tensor([1]) })).toThrow(/group 0 has lr 0.5; Prodigy's groups may only differ in lr by being 0 .*nothing was updated/);
    expect(JSON.stringify(opt.exportState())).toBe(before);
    expect([...w.data]).toEqual([1, 2]);
  });

  it('round-trips the group scalars through portable state and refuses bad ones', () => {
    const make = (w = [1, -2, 3], b = [0.5]) =>
      createReference(prodigy({ d0: 1e-3 }), { w: tensor(w), b: tensor(b) }, { groups: [{ params: ['b'], options: { weightDecay: 0.1 } }] });
    const a = make();
    for (let i = 0; i < 4; i++) a.step({ w: tensor([0.3 * i - 1, 1, 2]), b: tensor([1 - i]) });
    const state = JSON.parse(JSON.stringify(a.exportState())) as ReturnType<typeof a.exportState>;
    expect(state.groups).toHaveLength(2);
    expect(state.groups![0]!.scalars.k).toBe(4);
    const b = make([...a.params.get('w')!.data], [...a.params.get('b')!.data]);
    b.importState(state);
    expect(b.exportState()).toEqual(state);
    const g = { w: tensor([0.1, 0.2, 0.3]), b: tensor([0.4]) };
    a.step(g);
    b.step(g);
    expect(b.exportState()).toEqual(a.exportState());
    expect([...b.params.get('w')!.data]).toEqual([...a.params.get('w')!.data]);
    const c = make();
    const fresh = JSON.stringify(c.exportState());
    expect(() => c.importState({ ...state, groups: undefined })).toThrow(/groups must be a list of 2 group states/);
    expect(() => c.importState({ ...state, groups: [state.groups![0], { scalars: { ...state.groups![1]!.scalars, dHat: 1 } }] })).toThrow(/group 1: unknown scalar "dHat"/);
    expect(() => c.importState({ ...state, groups: [state.groups![0], { scalars: { ...state.groups![1]!.scalars, d: 'x' } }] })).toThrow(/group 1: scalar "d" must be a number/);
    expect(JSON.stringify(c.exportState())).toBe(fresh);
  });

  it('states of optimizers without phases have no groups, and refuse them', () => {
    const opt = createReference(createSpec('adam'), { w: tensor([1]) });
    const s = opt.exportState();
    expect('groups' in s).toBe(false);
    expect(() => opt.importState({ ...s, groups: [] })).toThrow(/state has group scalars/);
  });
});
