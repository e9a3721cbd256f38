import { describe, expect, it } from 'vitest';
import { OptionError, ademamix, ademamixSchedule, createReference, decodeNumber, tensor, type OptimizerSpec } from '../src/index.js';

/** AdEMAMix against hand derivations from the update rule (golden trajectories: golden-extra.test.ts). */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs of different optimizers
function run(spec: OptimizerSpec<any>, theta0: readonly number[], grads: ReadonlyArray<readonly number[]>) {
  const w = tensor([...theta0]);
  const opt = createReference(spec, { w });
  for (const g of grads) opt.step({ w: tensor([...g]) });
  const slots = opt.exportState().params.w!.slots;
  const slot = (name: string): number[] => slots[name]!.data.map((x) => decodeNumber(x) as number);
  return { theta: [...w.data], slot, names: Object.keys(slots) };
}

function expectClose(actual: readonly number[], expected: readonly number[], digits = 14): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}`).toBeCloseTo(expected[i] as number, digits));
}

describe('ademamix', () => {
  it("has apple/ml-ademamix's defaults (no warmup) and its slots", () => {
    expect(ademamix().options).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999, 0.9999],
      alpha: 2,
      beta3Warmup: 0,
      alphaWarmup: 0,
      eps: 1e-8,
      weightDecay: 0,
      maximize: false,
      nonFinite: 'apply',
    });
    expect(run(ademamix(), [1], [[1]]).names).toEqual(['expAvgFast', 'expAvgSlow', 'expAvgSq']);
    expect(run(ademamix({ betas: [0, 0.999, 0.9999] }), [1], [[1]]).names).toEqual(['expAvgSlow', 'expAvgSq']);
  });

  it('mixes the bias-corrected fast EMA with α times the (uncorrected) slow EMA', () => {
    const lr = 0.1;
    const [b1, b2, b3] = [0.9, 0.999, 0.9999];
    const { theta } = run(ademamix({ lr }), [1], [[2]]);
    const m1 = (1 - b1) * 2;
    const m2 = (1 - b3) * 2;
    const v = (1 - b2) * 4;
    const u = (m1 / (1 - b1) + 2 * m2) / (Math.sqrt(v) / Math.sqrt(1 - b2) + 1e-8);
    expectClose(theta, [1 - lr * u]);
  });

  it('warms α up linearly from 0 and β₃ up from β₁ linearly in half-life', () => {
    const o = ademamix({ alpha: 4, alphaWarmup: 4, beta3Warmup: 4, betas: [0.5, 0.999, 0.9] }).options;
    expect(ademamixSchedule(o, 1).alpha).toBe(1);
    expect(ademamixSchedule(o, 4)).toEqual({ alpha: 4, beta3: 0.9 });
    // Half-lives f(β) = ln ½ / ln(β + 1e-8) − 1; at a = ½ the half-life is the mean, β₃ = ½^(1/(f + 1)).
    const f = (b: number): number => Math.log(0.5) / Math.log(b + 1e-8) - 1;
    const mid = ademamixSchedule(o, 2).beta3;
    expect(mid).toBeCloseTo(0.5 ** (1 / ((f(0.5) + f(0.9)) / 2 + 1)), 14);
    expect(mid).toBeGreaterThan(0.5);
    expect(mid).toBeLessThan(0.9);
  });

  it('adds weight decay to the update, scaled by lr; maximize negates the gradient', () => {
    const plain = run(ademamix({ lr: 0.1 }), [3], [[1]]).theta[0]!;
    expectClose(run(ademamix({ lr: 0.1, weightDecay: 0.5 }), [3], [[1]]).theta, [plain - 0.1 * 0.5 * 3]);
    const grads = [[1, -2], [0.5, 3]];
    const a = run(ademamix({ lr: 0.1, maximize: true, weightDecay: 0.1 }), [1, 1], grads).theta;
    const b = run(ademamix({ lr: 0.1, weightDecay: 0.1 }), [1, 1], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('validates betas as a triple of decay rates and warmups as integers ≥ 0, naming option and value', () => {
    expect(() => ademamix({ betas: [0.9, 0.999] as never })).toThrow(OptionError);
    expect(() => ademamix({ betas: [0.9, 0.999] as never })).toThrow(/option "betas" must be a triple/);
    expect(() => ademamix({ betas: [0.9, 0.999, 1] })).toThrow(/option "betas\[2\]" must be a number in \[0, 1\), got 1/);
    expect(() => ademamix({ alphaWarmup: 1.5 })).toThrow(/option "alphaWarmup" must be an integer/);
  });
});
