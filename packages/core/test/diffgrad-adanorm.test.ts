import { describe, expect, it } from 'vitest';
import { OptionError, adanorm, createReference, decodeNumber, diffgrad, tensor, type OptimizerSpec } from '../src/index.js';

/**
 * diffGrad and AdaNorm against hand derivations from the papers' formulas (the expected values are computed here,
 * never taken from the code's output). The golden trajectories are in golden-extra.test.ts.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs of different optimizers
type AnySpec = OptimizerSpec<any>;

function run(spec: AnySpec, theta0: readonly number[], grads: ReadonlyArray<readonly number[]>) {
  const w = tensor([...theta0]);
  const opt = createReference(spec, { w });
  for (const g of grads) opt.step({ w: tensor([...g]) });
  const slot = (name: string): number[] => opt.exportState().params.w!.slots[name]!.data.map((x) => decodeNumber(x) as number);
  return { opt, theta: [...w.data], slot };
}

function expectClose(actual: readonly number[], expected: readonly number[], digits = 14): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}`).toBeCloseTo(expected[i] as number, digits));
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe('diffgrad', () => {
  it('has the authors\' defaults (diffGrad_v2.py) and its slots', () => {
    expect(diffgrad().options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, nonFinite: 'apply' });
    expect(Object.keys(run(diffgrad(), [1], [[1]]).opt.exportState().params.w!.slots)).toEqual(['expAvg', 'expAvgSq', 'previousGrad']);
  });

  it('damps Adam\'s step by sigmoid(|g_{t-1} - g_t|), with g_0 = 0', () => {
    const lr = 0.1;
    const [b1, b2] = [0.9, 0.999];
    const eps = 1e-8;
    const { theta, slot } = run(diffgrad({ lr }), [1], [[2], [-1]]);
    // Step 1: m = 0.2, v = 0.004, ξ = σ(2); step size η√(1−β₂)/(1−β₁).
    const m1 = (1 - b1) * 2;
    const v1 = (1 - b2) * 4;
    const th1 = 1 - ((lr * Math.sqrt(1 - b2)) / (1 - b1)) * ((m1 * sigmoid(2)) / (Math.sqrt(v1) + eps));
    // Step 2: ξ = σ(|2 − (−1)|) = σ(3).
    const m2 = b1 * m1 + (1 - b1) * -1;
    const v2 = b2 * v1 + (1 - b2) * 1;
    const th2 = th1 - ((lr * Math.sqrt(1 - b2 ** 2)) / (1 - b1 ** 2)) * ((m2 * sigmoid(3)) / (Math.sqrt(v2) + eps));
    expectClose(theta, [th2]);
    expectClose(slot('previousGrad'), [-1]);
  });

  it('halves the step when the gradient does not change (ξ = ½), and stores the L2-augmented gradient', () => {
    const a = run(diffgrad({ lr: 0.1, eps: 0 }), [0], [[0.5], [0.5]]);
    const { theta } = run(diffgrad({ lr: 0.1, eps: 0 }), [0], [[0.5]]);
    // Second step: m/√v = 1 (constant gradient, bias-corrected), ξ = σ(0) = ½.
    expectClose(a.theta, [theta[0]! - 0.1 * 0.5], 13);
    const l2 = run(diffgrad({ lr: 0.1, weightDecay: 0.5 }), [2], [[1]]);
    expectClose(l2.slot('previousGrad'), [1 + 0.5 * 2]);
  });

  it('maximize negates the gradient', () => {
    const grads = [[1, -2], [0.5, 3]];
    const a = run(diffgrad({ lr: 0.1, maximize: true, weightDecay: 0.1 }), [1, 1], grads).theta;
    const b = run(diffgrad({ lr: 0.1, weightDecay: 0.1 }), [1, 1], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('validates its options by name and value', () => {
    expect(() => diffgrad({ eps: -1 })).toThrow(OptionError);
    expect(() => diffgrad({ eps: -1 })).toThrow(/eps/);
    expect(() => diffgrad({ betas: [1, 0.9] })).toThrow(/betas/);
  });
});

describe('adanorm', () => {
  it('has pytorch_optimizer\'s defaults and its slots (the norm history is one number)', () => {
    expect(adanorm().options).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.99],
      r: 0.95,
      weightDecay: 0,
      decoupledWeightDecay: true,
      fixedDecay: false,
      amsBound: false,
      eps: 1e-8,
      maximize: false,
      nonFinite: 'apply',
    });
    const { opt } = run(adanorm({ amsBound: true }), [1, 2], [[1, 1]]);
    const slots = opt.exportState().params.w!.slots;
    expect(Object.keys(slots)).toEqual(['expAvg', 'expAvgVar', 'expGradNorm', 'maxExpAvgVar']);
    expect(slots.expGradNorm!.shape).toEqual([1]);
  });

  it('rescales the first moment\'s input to the norm history when the gradient norm falls below it', () => {
    const r = 0.5;
    const [b1, b2] = [0.9, 0.99];
    const { slot } = run(adanorm({ lr: 0.1, r }), [0, 0], [[3, 4], [0.3, 0.4]]);
    // ‖g₁‖ = 5: e₁ = 2.5 < 5, s₁ = g₁. ‖g₂‖ = 0.5: e₂ = 1.25 + 0.25 = 1.5 > 0.5, s₂ = g₂·1.5/0.5 = 3·g₂.
    expectClose(slot('expGradNorm'), [1.5]);
    const m1 = [3, 4].map((g) => (1 - b1) * g);
    const m2 = m1.map((m, i) => b1 * m + (1 - b1) * 3 * [0.3, 0.4][i]!);
    expectClose(slot('expAvg'), m2);
    // The second moment takes the plain gradient.
    const v2 = [3, 4].map((g, i) => b2 * (1 - b2) * g * g + (1 - b2) * [0.3, 0.4][i]! ** 2);
    expectClose(slot('expAvgVar'), v2);
  });

  it('steps like Adam with ε and δ = 1e-15 before the bias correction of the root', () => {
    const lr = 0.1;
    const [b1, b2] = [0.9, 0.99];
    const eps = 1e-3;
    const { theta } = run(adanorm({ lr, eps }), [1], [[2]]);
    const denom = (Math.sqrt((1 - b2) * 4 + 1e-15) + eps) / Math.sqrt(1 - b2);
    expectClose(theta, [1 - (lr / (1 - b1)) * (((1 - b1) * 2) / denom)]);
  });

  it('keeps s = 0 for an all-zero gradient after some history (upstream divides 0 by 0)', () => {
    const { theta, slot } = run(adanorm({ lr: 0.1 }), [1, 1], [[1, 1], [0, 0]]);
    expect(theta.every(Number.isFinite)).toBe(true);
    expect(slot('expAvg').every(Number.isFinite)).toBe(true);
  });

  it('decays decoupled (θ·(1 − ηλ)), fixed (θ·(1 − λ)) or as L2 (into the norm and both moments)', () => {
    expectClose(run(adanorm({ lr: 0.1, weightDecay: 0.2 }), [3], [[0]]).theta, [3 * (1 - 0.02)]);
    expectClose(run(adanorm({ lr: 0.1, weightDecay: 0.2, fixedDecay: true }), [3], [[0]]).theta, [3 * (1 - 0.2)]);
    const l2 = run(adanorm({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: false }), [2], [[0]]);
    expectClose(l2.slot('expAvgVar'), [(1 - 0.99) * 1]);
    expectClose(l2.slot('expGradNorm'), [(1 - 0.95) * 1]);
  });

  it('validates r in [0, 1)', () => {
    expect(() => adanorm({ r: 1 })).toThrow(OptionError);
    expect(() => adanorm({ r: 1 })).toThrow(/"r"/);
  });
});
