import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OptionError, createReference, createSpec, decodeNumber, getDefinition, sm3, sm3AccumulatorShapes, tensor, type OptionValue, type Tensor } from '../src/index.js';

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

describe('sm3', () => {
  it("has pytorch_optimizer's defaults and is registered as a per-tensor optimizer", () => {
    expect(sm3().options).toEqual({ lr: 0.1, momentum: 0, beta: 0, eps: 1e-30, nonFinite: 'apply' });
    expect(getDefinition('sm3').kind).toBe('tensor');
  });

  it('validates its options with messages naming option and value', () => {
    expect(() => sm3({ momentum: 1 })).toThrow(/option "momentum" must be a number in \[0, 1\), got 1/);
    expect(() => sm3({ beta: 1.5 })).toThrow(/option "beta" .*got 1\.5/);
    expect(() => sm3({ eps: -1 })).toThrow(OptionError);
    expect(() => sm3({ lr: -0.1 })).toThrow(/option "lr" .*got -0\.1/);
  });

  it('keeps one accumulator per dimension (a row and a column accumulator for a matrix)', () => {
    expect(sm3AccumulatorShapes([3, 4])).toEqual([[3, 1], [1, 4]]);
    expect(sm3AccumulatorShapes([2, 3, 2])).toEqual([[2, 1, 1], [1, 3, 1], [1, 1, 2]]);
    expect(sm3AccumulatorShapes([5])).toEqual([[5]]);
    expect(sm3AccumulatorShapes([])).toEqual([[]]);
    const opt = createReference(sm3(), { w: tensor(new Float64Array(12), [3, 4]) });
    const slots = opt.exportState().params.w!.slots;
    expect(Object.keys(slots).sort()).toEqual(['accumulator0', 'accumulator1', 'momentumBuffer']);
    expect(slots.accumulator0!.shape).toEqual([3, 1]);
    expect(slots.accumulator1!.shape).toEqual([1, 4]);
  });

  it('is Adagrad with ε inside the root on a vector (the cover is the elements themselves)', () => {
    const theta = tensor([1, -2, 3], [3]);
    const expected = [1, -2, 3];
    const sum = [0, 0, 0];
    const opt = createReference(sm3({ lr: 0.1, eps: 1e-8 }), { w: theta });
    for (const g of [[0.5, -1, 2], [1, 0.25, -3], [-2, 1, 0.5]]) {
      opt.step({ w: tensor(g, [3]) });
      g.forEach((x, i) => {
        sum[i] = (sum[i] as number) + x * x;
        expected[i] = (expected[i] as number) - 0.1 * (1 / Math.sqrt((sum[i] as number) + 1e-8)) * x;
      });
    }
    expect(Array.from(theta.data)).toEqual(expected);
  });

  it('bounds each element\'s accumulator by the min over its row and column maxima', () => {
    const theta = tensor(new Float64Array(4), [2, 2]);
    const opt = createReference(sm3({ lr: 1 }), { w: theta });
    opt.step({ w: tensor([1, 2, 3, 4], [2, 2]) }); // ν = g²: rows max (4, 16), columns max (9, 16)
    const slots = opt.exportState().params.w!.slots;
    const read = (s: string): number[] => (slots[s]!.data as unknown[]).map((v) => decodeNumber(v)!);
    expect(read('accumulator0')).toEqual([4, 16]);
    expect(read('accumulator1')).toEqual([9, 16]);
    opt.step({ w: tensor([1, 1, 1, 1], [2, 2]) }); // ν = min(row, col) + 1 = (5, 5, 10, 17)
    expect(read('accumulator0')).toEqual([4, 16]); // exported before the second step
    const after = opt.exportState().params.w!.slots;
    expect((after.accumulator0!.data as unknown[]).map((v) => decodeNumber(v)!)).toEqual([5, 17]);
    expect((after.accumulator1!.data as unknown[]).map((v) => decodeNumber(v)!)).toEqual([10, 17]);
  });
});

// Golden trajectories: tools/golden/sm3.py (pytorch_optimizer's SM3 transcribed into torch 1.13 ops, float64).
// Every parameter after every step and every state slot at the end: the operations are elementwise or max/min
// in the same order, so the agreement is bitwise (tolerance 0).

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

const TOLERANCE = 0;

describe('golden: pytorch_optimizer SM3', () => {
  const base = new URL('./fixtures/sm3/', import.meta.url);
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
      if (process.env.DESCENT_SHOW_TOLERANCE) console.log(`sm3 golden worst so far: ${worst.toExponential(2)}`);
    });
  }
});
