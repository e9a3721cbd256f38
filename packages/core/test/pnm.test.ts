import { describe, expect, it } from 'vitest';
import { OptionError, adapnm, createReference, decodeNumber, pnm, tensor, type OptimizerSpec } from '../src/index.js';

/** PNM and AdaPNM against hand derivations from the paper's formulas (golden trajectories: golden-extra.test.ts). */

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

describe('pnm', () => {
  it("has pytorch_optimizer's defaults (no eps: upstream never reads it)", () => {
    expect(pnm().options).toEqual({ lr: 1e-3, betas: [0.9, 1], weightDecay: 0, decoupledWeightDecay: true, fixedDecay: false, maximize: false, nonFinite: 'apply' });
    expect(() => pnm({ eps: 1e-8 } as never)).toThrow(/unknown option "eps"/);
  });

  it('alternates the two buffers by step parity and combines them as ((1 + β₀)m⁺ − β₀m⁻)/ν', () => {
    const [b1, b0] = [0.5, 0.5];
    const lr = 0.1;
    const nu = Math.sqrt((1 + b0) ** 2 + b0 ** 2);
    const { theta, slot } = run(pnm({ lr, betas: [b1, b0] }), [1], [[2], [4], [8]]);
    const k = b1 * b1;
    // Step 1 (odd): A = (1 − k)·2; B = 0. Step 2 (even): B = (1 − k)·4. Step 3 (odd): A = k·A + (1 − k)·8.
    const a1 = (1 - k) * 2;
    const b2 = (1 - k) * 4;
    const a3 = k * a1 + (1 - k) * 8;
    const th1 = 1 - (lr * ((1 + b0) * a1)) / nu;
    const th2 = th1 - (lr * ((1 + b0) * b2 - b0 * a1)) / nu;
    const th3 = th2 - (lr * ((1 + b0) * a3 - b0 * b2)) / nu;
    expectClose(slot('posMomentum'), [a3]);
    expectClose(slot('negMomentum'), [b2]);
    expectClose(theta, [th3]);
  });

  it('decays decoupled, fixed or as L2, and maximize negates the gradient', () => {
    expectClose(run(pnm({ lr: 0.1, weightDecay: 0.2 }), [3], [[0]]).theta, [3 * (1 - 0.02)]);
    expectClose(run(pnm({ lr: 0.1, weightDecay: 0.2, fixedDecay: true }), [3], [[0]]).theta, [3 * (1 - 0.2)]);
    const l2 = run(pnm({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: false, betas: [0.5, 1] }), [2], [[0]]);
    expectClose(l2.slot('posMomentum'), [(1 - 0.25) * 1]);
    const grads = [[1, -2], [0.5, 3]];
    const a = run(pnm({ lr: 0.1, maximize: true }), [1, 1], grads).theta;
    const b = run(pnm({ lr: 0.1 }), [1, 1], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('accepts betas in [0, 1] (closed, as upstream) and names the element it rejects', () => {
    expect(() => pnm({ betas: [1, 1] })).not.toThrow();
    expect(() => pnm({ betas: [0.9, 1.5] })).toThrow(OptionError);
    expect(() => pnm({ betas: [0.9, 1.5] })).toThrow(/option "betas\[1\]" must be .*got 1.5/);
  });
});

describe('adapnm', () => {
  it("has pytorch_optimizer's defaults (amsBound on) and its slots", () => {
    expect(adapnm().options).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999, 1],
      weightDecay: 0,
      decoupledWeightDecay: true,
      fixedDecay: false,
      amsBound: true,
      eps: 1e-8,
      maximize: false,
      nonFinite: 'apply',
    });
    const w = tensor([1]);
    const opt = createReference(adapnm(), { w });
    opt.step({ w: tensor([1]) });
    expect(Object.keys(opt.exportState().params.w!.slots)).toEqual(['expAvg', 'negExpAvg', 'expAvgSq', 'maxExpAvgSq']);
  });

  it('divides the positive-negative momentum by the bias-corrected Adam denominator (c₁ with β₁, not β₁²)', () => {
    const [b1, b2, b0] = [0.5, 0.9, 0.5];
    const lr = 0.1;
    const eps = 1e-3;
    const nu = Math.sqrt((1 + b0) ** 2 + b0 ** 2);
    const { theta, slot } = run(adapnm({ lr, eps, betas: [b1, b2, b0], amsBound: false }), [1], [[2], [4]]);
    const k = b1 * b1;
    const a1 = (1 - k) * 2;
    const v1 = (1 - b2) * 4;
    const th1 = 1 - (lr / (1 - b1)) * (((1 + b0) * a1) / nu) / ((Math.sqrt(v1 + 1e-15) + eps) / Math.sqrt(1 - b2));
    const bBuf = (1 - k) * 4;
    const v2 = b2 * v1 + (1 - b2) * 16;
    const th2 = th1 - (lr / (1 - b1 ** 2)) * (((1 + b0) * bBuf - b0 * a1) / nu) / ((Math.sqrt(v2 + 1e-15) + eps) / Math.sqrt(1 - b2 ** 2));
    expectClose(slot('expAvg'), [a1]);
    expectClose(slot('negExpAvg'), [bBuf]);
    expectClose(theta, [th2]);
  });

  it('validates betas: β₁, β₂ in [0, 1), β₀ in [0, 1], naming the element', () => {
    expect(() => adapnm({ betas: [0.9, 0.999, 1] })).not.toThrow();
    expect(() => adapnm({ betas: [0.9, 1, 1] })).toThrow(/option "betas\[1\]" must be a number in \[0, 1\), got 1/);
    expect(() => adapnm({ betas: [0.9, 0.999] as never })).toThrow(OptionError);
  });
});
