import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OptionError, ParamError, amos, amosScale, createReference, createSpec, decodeNumber, getDefinition, tensor, type OptionValue, type Tensor } from '../src/index.js';

/** ‖a − b‖_F / ‖b‖_F. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

describe('amos', () => {
  it("has pytorch_optimizer's defaults and is registered as a per-tensor optimizer", () => {
    expect(amos().options).toEqual({ lr: 1e-3, beta: 0.999, momentum: 0, extraL2: 0, cCoef: 0.25, dCoef: 0.25, eps: 1e-18, maximize: false, nonFinite: 'apply' });
    expect(getDefinition('amos').kind).toBe('tensor');
  });

  it('validates its options with messages naming option and value', () => {
    expect(() => amos({ beta: 1 })).toThrow(/option "beta" must be a number in \[0, 1\), got 1/);
    expect(() => amos({ momentum: -0.5 })).toThrow(/option "momentum" .*got -0\.5/);
    expect(() => amos({ extraL2: -1 })).toThrow(OptionError);
    expect(() => amos({ cCoef: -1 })).toThrow(/option "cCoef" .*got -1/);
    expect(() => amos({ c_coef: 1 } as never)).toThrow(/cCoef/);
  });

  it('refuses 0-D parameters and keeps one v and one decay per tensor (expAvg only with momentum)', () => {
    expect(() => createReference(amos(), { s: tensor([1], []) })).toThrow(ParamError);
    expect(() => createReference(amos(), { s: tensor([1], []) })).toThrow(/amos: parameter "s" with shape \[\]: Amos needs a parameter with at least 1 dimension/);
    expect(amosScale([5])).toBe(0.5);
    expect(amosScale([3, 8])).toBe(0.5);
    expect(amosScale([2, 4, 3])).toBe(0.5);
    const plain = createReference(amos(), { w: tensor(new Float64Array(12), [3, 4]) }).exportState().params.w!.slots;
    expect(Object.keys(plain).sort()).toEqual(['decay', 'expAvgSq']);
    expect(plain.decay!.shape).toEqual([1]);
    const withMomentum = createReference(amos({ momentum: 0.9 }), { w: tensor(new Float64Array(12), [3, 4]) }).exportState().params.w!.slots;
    expect(Object.keys(withMomentum).sort()).toEqual(['decay', 'expAvg', 'expAvgSq']);
  });

  it('takes a first step of η̃·sign-like size: u = η̃·g/√mean(g²) when θ = 0 and b = 0', () => {
    const theta = tensor(new Float64Array(4), [4]);
    createReference(amos({ lr: 0.01, eps: 0 }), { w: theta }).step({ w: tensor([1, -1, 2, -2], [4]) });
    const rms = Math.sqrt((1 + 1 + 4 + 4) / 4);
    // v₁ = (1 − β)·mean(g²), r̂ = (1 − β)/v₁ = 1/mean(g²): u = 0.5·η·g/rms.
    [1, -1, 2, -2].forEach((g, i) => expect(theta.data[i]).toBeCloseTo((-0.5 * 0.01 * g) / rms, 15));
  });
});

// Golden trajectories: tools/golden/amos.py (pytorch_optimizer's Amos transcribed into torch 1.13 ops, float64).
// Every parameter after every step and every state slot at the end, normwise per tensor. Not bitwise: torch's
// mean(g²) sums in another order than the reference's loop; measured worst over the committed fixtures: 4.0e-16.

interface Fixture {
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly groups?: ReadonlyArray<{ readonly params: string[]; readonly options: Record<string, OptionValue> }>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][] }>;
    readonly state: Readonly<Record<string, { readonly step: number; readonly slots: Record<string, number[]> }>>;
  };
}

const TOLERANCE = 1e-14;

describe('golden: pytorch_optimizer Amos', () => {
  const base = new URL('./fixtures/amos/', import.meta.url);
  const files = readdirSync(base).filter((f) => f.endsWith('.json')).sort();
  it('has fixtures', () => expect(files.length).toBeGreaterThan(5));
  let worst = 0;
  for (const file of files) {
    it(file, () => {
      const fx = JSON.parse(readFileSync(new URL(file, base), 'utf8')) as Fixture;
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const opt = createReference(createSpec(fx.optimizer, fx.options), params, fx.groups ? { groups: fx.groups } : undefined);
      const check = (what: string, actual: ArrayLike<number>, expected: readonly number[]): void => {
        expect(actual.length, what).toBe(expected.length);
        const zero = expected.every((x) => x === 0);
        const error = zero ? Math.max(0, ...Array.from(actual, Math.abs)) : relDiff(actual, expected);
        worst = Math.max(worst, error);
        if (!(error <= TOLERANCE)) expect.fail(`${file} ${what}: normwise error ${error}`);
      };
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        fx.params.forEach((p, i) => check(`step ${k + 1} ${p.name}`, params[p.name]!.data, fx.expected.steps[k]!.params[i]!));
      });
      const state = opt.exportState().params;
      for (const [name, want] of Object.entries(fx.expected.state)) {
        expect(state[name]!.step).toBe(want.step);
        expect(Object.keys(state[name]!.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [s, data] of Object.entries(want.slots)) {
          check(`state ${name}.${s}`, (state[name]!.slots[s]!.data as unknown[]).map((v) => decodeNumber(v)!), data);
        }
      }
      if (process.env.DESCENT_SHOW_TOLERANCE) console.log(`amos golden worst so far: ${worst.toExponential(2)}`);
    });
  }
});
