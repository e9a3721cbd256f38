import { describe, expect, it } from 'vitest';
import { adopt, adoptClip, createReference, decodeNumber, tensor, type OptimizerSpec } from '../src/index.js';

/** ADOPT against hand derivations from the update rule (golden trajectories: golden-extra.test.ts). */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs of different optimizers
function run(spec: OptimizerSpec<any>, theta0: readonly number[], grads: ReadonlyArray<readonly number[]>) {
  const w = tensor([...theta0]);
  const opt = createReference(spec, { w });
  for (const g of grads) opt.step({ w: tensor([...g]) });
  const slot = (name: string): number[] => opt.exportState().params.w!.slots[name]!.data.map((x) => decodeNumber(x) as number);
  return { theta: [...w.data], slot };
}

function expectClose(actual: readonly number[], expected: readonly number[], digits = 14): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}`).toBeCloseTo(expected[i] as number, digits));
}

describe('adopt', () => {
  it("has the authors' defaults", () => {
    expect(adopt().options).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.9999],
      eps: 1e-6,
      clipLambda: 'quarterPower',
      weightDecay: 0,
      decoupledWeightDecay: false,
      maximize: false,
      nonFinite: 'apply',
    });
  });

  it('only initialises v on the first step, then normalises by the previous v before the momentum', () => {
    const lr = 0.1;
    const [b1, b2] = [0.9, 0.9999];
    const first = run(adopt({ lr }), [1], [[2]]);
    expect(first.theta).toEqual([1]);
    expect(first.slot('expAvgSq')).toEqual([4]);
    expect(first.slot('expAvg')).toEqual([0]);
    // Step 2: u = 3/√4 = 1.5, clipped to ±1^{1/4} = ±1 → m = 0.1·1; θ = 1 − 0.1·0.1; v = β₂·4 + (1 − β₂)·9.
    const second = run(adopt({ lr }), [1], [[2], [3]]);
    expectClose(second.slot('expAvg'), [(1 - b1) * 1]);
    expectClose(second.theta, [1 - lr * (1 - b1)]);
    expectClose(second.slot('expAvgSq'), [b2 * 4 + (1 - b2) * 9]);
    // Without clipping the normalised gradient 1.5 goes in whole.
    expectClose(run(adopt({ lr, clipLambda: 'none' }), [1], [[2], [3]]).slot('expAvg'), [(1 - b1) * 1.5]);
  });

  it('clips to ±(t − 1)^{1/4}, correctly rounded like Python’s step**0.25', () => {
    // Python: 4**0.25, 8**0.25, 11**0.25 (V8's ** is an ulp off at each of these).
    expect(adoptClip('quarterPower', 4)).toBe(1.4142135623730951);
    expect(adoptClip('quarterPower', 8)).toBe(1.681792830507429);
    expect(adoptClip('quarterPower', 11)).toBe(1.8211602868378718);
    expect(adoptClip('quarterPower', 16)).toBe(2);
    expect(adoptClip('none', 5)).toBe(Infinity);
    for (let s = 1; s <= 300; s++) expect(Math.abs(adoptClip('quarterPower', s) - s ** 0.25)).toBeLessThanOrEqual(2 ** -52 * s ** 0.25);
  });

  it('floors √v at ε', () => {
    const { slot } = run(adopt({ lr: 0.1, eps: 0.5, clipLambda: 'none' }), [0], [[0], [0.2]]);
    expectClose(slot('expAvg'), [0.1 * (0.2 / 0.5)]);
  });

  it('L2 decay enters g from the first step; decoupled decay skips the first step', () => {
    const l2 = run(adopt({ weightDecay: 0.5 }), [2], [[0]]);
    expect(l2.slot('expAvgSq')).toEqual([1]);
    const dec = run(adopt({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true }), [2], [[0]]);
    expect(dec.theta).toEqual([2]);
    const dec2 = run(adopt({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true, eps: 1 }), [2], [[0], [0]]);
    expectClose(dec2.theta, [2 - 0.05 * 2]);
  });

  it('maximize negates the gradient', () => {
    const grads = [[1, -2], [0.5, 3], [2, 2]];
    const a = run(adopt({ lr: 0.1, maximize: true, weightDecay: 0.1 }), [1, 1], grads).theta;
    const b = run(adopt({ lr: 0.1, weightDecay: 0.1 }), [1, 1], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('names the option and the value it rejects', () => {
    expect(() => adopt({ clipLambda: 'sqrt' as never })).toThrow(/option "clipLambda" must be one of "quarterPower", "none", got "sqrt"/);
  });
});
