import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OptionError,
  adabelief,
  adamAtan2,
  createReference,
  createSpec,
  decodeNumber,
  lion,
  signsgd,
  specFromJSON,
  tensor,
  type OptimizerSpec,
} from '../src/index.js';

/**
 * Lion, signSGD/Signum, Adam-atan2 and AdaBelief against hand derivations, closed forms and invariants.
 * Expected values are computed here from the papers' formulas (the test keeps its own copy of the momentum
 * where it needs one), never taken from the code's output.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs of different optimizers
type AnySpec = OptimizerSpec<any>;

/** Runs `grads` (one array per step) on a single parameter `w`; returns the optimizer and the live data. */
function run(spec: AnySpec, theta0: readonly number[], grads: ReadonlyArray<readonly number[]>) {
  const w = tensor([...theta0]);
  const opt = createReference(spec, { w });
  for (const g of grads) opt.step({ w: tensor([...g]) });
  return { opt, theta: [...w.data] };
}

/** A state slot of parameter `w` as plain numbers. */
function slot(opt: { exportState(): { params: Record<string, { slots: Record<string, { data: unknown[] }> } | undefined> } }, name: string): number[] {
  const s = opt.exportState().params.w!.slots[name];
  if (!s) throw new Error(`no slot ${name}`);
  return s.data.map((x) => decodeNumber(x) as number);
}

function expectClose(actual: readonly number[], expected: readonly number[], digits = 14): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}`).toBeCloseTo(expected[i] as number, digits));
}

const SEED = 20240607;

/** Parameters on a dyadic grid (k·2⁻¹⁰, |k| ≤ 2²⁰) and learning rates 2⁻ʲ: θ ± η is then exact in Float64. */
const dyadicParam = fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((k) => k / 1024);
const dyadicLr = fc.integer({ min: 0, max: 10 }).map((j) => 2 ** -j);
/** Gradients that are often exactly 0, so sign(0) = 0 is exercised. */
const gradValue = fc.oneof(fc.constant(0), fc.constant(-0), fc.double({ min: -1e3, max: 1e3, noNaN: true }));
const beta = fc.double({ min: 0, max: 0.999, noNaN: true });

/** n parameters and `steps` gradients of the same length. */
function problem(param: fc.Arbitrary<number>) {
  return fc.integer({ min: 1, max: 6 }).chain((n) =>
    fc.record({
      theta: fc.array(param, { minLength: n, maxLength: n }),
      grads: fc.array(fc.array(gradValue, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 4 }),
    }),
  );
}

describe('lion', () => {
  it('has the torch-optimizer defaults and one expAvg slot', () => {
    expect(lion().options).toEqual({ lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, nonFinite: 'apply' });
    const { opt } = run(lion(), [1, 2], [[1, 1]]);
    expect(Object.keys(opt.exportState().params.w!.slots)).toEqual(['expAvg']);
  });

  it('moves every coordinate by exactly ±lr, 0 where c = β₁m + (1−β₁)g is 0 (no decay)', () => {
    fc.assert(
      fc.property(problem(dyadicParam), dyadicLr, beta, beta, fc.boolean(), ({ theta, grads }, lr, b1, b2, maximize) => {
        const w = tensor([...theta]);
        const opt = createReference(lion({ lr, betas: [b1, b2], maximize }), { w });
        const m = theta.map(() => 0); // the test's own momentum
        for (const g0 of grads) {
          const g = g0.map((x) => (maximize ? -x : x));
          const before = [...w.data];
          opt.step({ w: tensor([...g0]) });
          for (let i = 0; i < theta.length; i++) {
            const c = b1 * m[i]! + (1 - b1) * g[i]!;
            const moved = w.data[i]! - before[i]!;
            expect(Math.abs(moved) === lr || moved === 0).toBe(true);
            expect(moved).toBe(c === 0 ? 0 : -lr * Math.sign(c));
            m[i] = b2 * m[i]! + (1 - b2) * g[i]!;
          }
        }
        expect(slot(opt, 'expAvg')).toEqual(m);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('with decay: θ ← θ·(1 − ηλ) − η·sign(c), for arbitrary doubles and options', () => {
    fc.assert(
      fc.property(
        problem(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        beta,
        beta,
        ({ theta, grads }, lr, lambda, b1, b2) => {
          const w = tensor([...theta]);
          const opt = createReference(lion({ lr, betas: [b1, b2], weightDecay: lambda }), { w });
          const m = theta.map(() => 0);
          for (const g of grads) {
            const before = [...w.data];
            opt.step({ w: tensor([...g]) });
            for (let i = 0; i < theta.length; i++) {
              const decayed = before[i]! * (1 - lr * lambda);
              const c = b1 * m[i]! + (1 - b1) * g[i]!;
              expect(w.data[i]).toBe(decayed - lr * Math.sign(c));
              m[i] = b2 * m[i]! + (1 - b2) * g[i]!;
            }
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('decay multiplies θ by exactly (1 − ηλ) where the sign is 0', () => {
    const theta0 = [3, -2.5, 0.1, 1e-300, -7e12];
    const { theta } = run(lion({ lr: 0.01, weightDecay: 0.5 }), theta0, [[0, 0, 0, 0, 0]]);
    expect(theta).toEqual(theta0.map((x) => x * (1 - 0.01 * 0.5)));
    expect(theta).not.toEqual(theta0);
  });

  it('two steps by hand: the momentum can outvote a new gradient, and is updated after the step', () => {
    // β = (0.9, 0.99), η = 0.1, θ₀ = 1.
    // Step 1: m₀ = 0, c = 0.1·g₁ → sign(g₁) = (+, −, 0): θ₁ = (0.9, 1.1, 1); m₁ = 0.01·g₁ = (0.005, −0.02, 0).
    // Step 2: c = 0.9·m₁ + 0.1·g₂ = (0.0045 − 0.001, −0.018 + 0.1, 0) = (0.0035, 0.082, 0) → (+, +, 0):
    //   θ₂ = (0.8, 1.0, 1) although g₂[0] < 0; m₂ = 0.99·m₁ + 0.01·g₂ = (0.00485, −0.0098, 0).
    const { opt, theta } = run(lion({ lr: 0.1 }), [1, 1, 1], [
      [0.5, -2, 0],
      [-0.01, 1, 0],
    ]);
    expectClose(theta, [0.8, 1.0, 1], 15);
    expectClose(slot(opt, 'expAvg'), [0.00485, -0.0098, 0], 15);
  });

  it('maximize equals minimizing with negated gradients', () => {
    const grads = [
      [1, -2, 0.5],
      [-3, 0.25, 0],
    ];
    const a = run(lion({ lr: 0.05, weightDecay: 0.1, maximize: true }), [1, 2, 3], grads).theta;
    const b = run(lion({ lr: 0.05, weightDecay: 0.1 }), [1, 2, 3], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('rejects bad options with messages naming the option and the value', () => {
    expect(() => lion({ betas: [1, 0.99] })).toThrow(OptionError);
    expect(() => lion({ betas: [1, 0.99] })).toThrow(/"betas\[0\]".*got 1/);
    expect(() => lion({ weightDecay: -1 })).toThrow(/"weightDecay".*got -1/);
  });
});

describe('signsgd', () => {
  it('defaults: lr 1e-3, momentum 0, no slot; a momentumBuffer slot only with momentum', () => {
    expect(signsgd().options).toEqual({ lr: 1e-3, momentum: 0, weightDecay: 0, maximize: false, nonFinite: 'apply' });
    expect(Object.keys(run(signsgd(), [1], [[1]]).opt.exportState().params.w!.slots)).toEqual([]);
    expect(Object.keys(run(signsgd({ momentum: 0.9 }), [1], [[1]]).opt.exportState().params.w!.slots)).toEqual(['momentumBuffer']);
  });

  it('moves every coordinate by exactly ±lr (0 where the signed quantity is 0), with and without momentum', () => {
    fc.assert(
      fc.property(
        problem(dyadicParam),
        dyadicLr,
        fc.oneof(fc.constant(0), beta),
        fc.boolean(),
        ({ theta, grads }, lr, momentum, maximize) => {
          const w = tensor([...theta]);
          const opt = createReference(signsgd({ lr, momentum, maximize }), { w });
          const m = theta.map(() => 0);
          for (const g0 of grads) {
            const before = [...w.data];
            opt.step({ w: tensor([...g0]) });
            for (let i = 0; i < theta.length; i++) {
              const g = maximize ? -g0[i]! : g0[i]!;
              let d = g;
              if (momentum > 0) d = m[i] = momentum * m[i]! + (1 - momentum) * g;
              const moved = w.data[i]! - before[i]!;
              expect(Math.abs(moved) === lr || moved === 0).toBe(true);
              expect(moved).toBe(d === 0 ? 0 : -lr * Math.sign(d));
            }
          }
          if (momentum > 0) expect(slot(opt, 'momentumBuffer')).toEqual(m);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('plain signSGD by hand, with decoupled decay', () => {
    // θ₀ = (1, −2, 4), g = (3, 1e-9, 0), η = 0.5, λ = 0.1: θ·(1 − 0.05) − 0.5·(1, 1, 0) = (0.45, −2.4, 3.8).
    const { theta } = run(signsgd({ lr: 0.5, weightDecay: 0.1 }), [1, -2, 4], [[3, 1e-9, 0]]);
    expectClose(theta, [0.45, -2.4, 3.8], 15);
  });

  it('Signum by hand: the sign of the averaged gradient, not of the last one', () => {
    // β = 0.9, η = 0.1, θ₀ = (0, 0). Step 1: m₁ = 0.1·(1, −1) → θ₁ = (−0.1, 0.1).
    // Step 2: g₂ = (−0.5, 0.5): m₂ = 0.9·m₁ + 0.1·g₂ = (0.09 − 0.05, −0.09 + 0.05) = (0.04, −0.04)
    //   → θ₂ = (−0.2, 0.2), where signSGD would step back to (0, 0).
    const grads = [
      [1, -1],
      [-0.5, 0.5],
    ];
    const signum = run(signsgd({ lr: 0.1, momentum: 0.9 }), [0, 0], grads);
    expectClose(signum.theta, [-0.2, 0.2], 15);
    expectClose(slot(signum.opt, 'momentumBuffer'), [0.04, -0.04], 15);
    expectClose(run(signsgd({ lr: 0.1 }), [0, 0], grads).theta, [0, 0], 15);
  });

  it('rejects momentum outside [0, 1)', () => {
    expect(() => signsgd({ momentum: 1 })).toThrow(/"momentum".*got 1/);
    expect(() => signsgd({ momentum: -0.5 })).toThrow(/"momentum".*got -0.5/);
  });
});

describe('adamAtan2', () => {
  it("has adam-atan2-pytorch's defaults", () => {
    expect(adamAtan2().options).toEqual({ lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, a: 1.27, b: 1, maximize: false, nonFinite: 'apply' });
  });

  it('step 1 with b = 1 is a·atan2(g, |g|) = a·(π/4)·sign(g) per element', () => {
    const lr = 0.01;
    const a = 1.27;
    const theta0 = [1, -1, 0.5, 2, 3];
    const g = [4, -0.001, 1e-30, 0, -1e30];
    const { theta } = run(adamAtan2({ lr }), theta0, [g]);
    expectClose(
      theta,
      theta0.map((t, i) => t - lr * a * (Math.PI / 4) * Math.sign(g[i]!)),
      15,
    );
    expect(theta[3]).toBe(2); // g = 0: atan2(0, 0) = 0
  });

  it('a zero gradient gives no NaN and no move, step after step', () => {
    const { opt, theta } = run(adamAtan2({ lr: 0.1 }), [1, -2], [
      [0, 0],
      [0, -0],
      [0, 0],
    ]);
    expect(theta).toEqual([1, -2]);
    expect(slot(opt, 'expAvg').every((x) => x === 0)).toBe(true);
    expect(slot(opt, 'expAvgSq')).toEqual([0, 0]);
  });

  it('two steps by hand', () => {
    // β = (0.9, 0.99), η = 0.1, a = 1.27, b = 1, θ₀ = 0, g = (1, −3).
    // Step 1: m = 0.1, v = 0.01, m̂ = 1, v̂ = 1 → θ₁ = −0.127·atan2(1, 1) = −0.127·π/4.
    // Step 2: m = 0.09 − 0.3 = −0.21, v = 0.0099 + 0.09 = 0.0999; c₁ = 0.19, c₂ = 0.0199
    //   → θ₂ = θ₁ − 0.127·atan2(−0.21/0.19, √(0.0999/0.0199)).
    const { opt, theta } = run(adamAtan2({ lr: 0.1 }), [0], [[1], [-3]]);
    const theta1 = -0.127 * (Math.PI / 4);
    expectClose(theta, [theta1 - 0.127 * Math.atan2(-0.21 / 0.19, Math.sqrt(0.0999 / 0.0199))], 14);
    expectClose(slot(opt, 'expAvg'), [-0.21], 15);
    expectClose(slot(opt, 'expAvgSq'), [0.0999], 15);
  });

  it('is invariant to the scale of the gradients (c > 0), exactly for powers of two', () => {
    const theta0 = [0.3, -1.2, 2.5, 0];
    const grads = [
      [0.4, -1.5, 0, 2],
      [-0.2, -0.7, 0.001, 2.5],
      [0.9, 0.1, -3, 0],
      [0.05, -0.05, 0.5, -1],
    ];
    const spec = adamAtan2({ lr: 0.03, weightDecay: 0.1, b: 1.5 });
    const base = run(spec, theta0, grads).theta;
    for (const c of [2 ** 7, 2 ** -9]) {
      expect(run(spec, theta0, grads.map((g) => g.map((x) => c * x))).theta).toEqual(base);
    }
    for (const c of [3.7, 1e-3, 12345.678]) {
      expectClose(run(spec, theta0, grads.map((g) => g.map((x) => c * x))).theta, base, 13);
    }
    // And the trajectory does depend on the direction: negating one gradient changes it.
    expect(run(spec, theta0, [grads[0]!.map((x) => -x), ...grads.slice(1)]).theta).not.toEqual(base);
  });

  it('decoupled decay multiplies θ by exactly (1 − ηλ) where the update is 0', () => {
    const { theta } = run(adamAtan2({ lr: 0.02, weightDecay: 0.3 }), [5, -0.25], [[0, 0]]);
    expect(theta).toEqual([5 * (1 - 0.02 * 0.3), -0.25 * (1 - 0.02 * 0.3)]);
  });

  it('b = 0 gives a·(π/2)·sign(m̂) (sign descent)', () => {
    const { theta } = run(adamAtan2({ lr: 0.1, b: 0 }), [0, 0], [[2, -1e-5]]);
    expectClose(theta, [-0.127 * (Math.PI / 2), 0.127 * (Math.PI / 2)], 15);
  });

  it('maximize equals minimizing with negated gradients', () => {
    const grads = [
      [1, -2],
      [0.5, 3],
    ];
    const a = run(adamAtan2({ lr: 0.1, maximize: true }), [1, 1], grads).theta;
    const b = run(adamAtan2({ lr: 0.1 }), [1, 1], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('rejects a ≤ 0 and b < 0', () => {
    expect(() => adamAtan2({ a: 0 })).toThrow(/"a".*got 0/);
    expect(() => adamAtan2({ b: -1 })).toThrow(/"b".*got -1/);
  });
});

describe('adabelief', () => {
  it('has the adabelief-pytorch 0.2.x defaults', () => {
    expect(adabelief().options).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-16,
      weightDecay: 0,
      decoupledWeightDecay: true,
      amsgrad: false,
      rectify: true,
      degeneratedToSgd: true,
      maximize: false,
      nonFinite: 'apply',
    });
  });

  it('two steps by hand (no rectification): ε inside the state and after the root', () => {
    // β = (0.9, 0.999), η = 0.1, ε = 1e-4, θ₀ = 1, g = (2, −1).
    // Step 1: m = 0.2, r = 2 − 0.2 = 1.8, s = 0.001·3.24 + 1e-4 = 0.00334; c₁ = 0.1, c₂ = 0.001
    //   → θ₁ = 1 − (0.1/0.1)·0.2/(√(0.00334/0.001) + 1e-4).
    // Step 2: m = 0.18 − 0.1 = 0.08, r = −1.08, s = 0.999·0.00334 + 0.001·1.1664 + 1e-4 = 0.00460306;
    //   c₁ = 0.19, c₂ = 0.001999 → θ₂ = θ₁ − (0.1/0.19)·0.08/(√(0.00460306/0.001999) + 1e-4).
    const { opt, theta } = run(adabelief({ lr: 0.1, eps: 1e-4, rectify: false }), [1], [[2], [-1]]);
    const theta1 = 1 - 0.2 / (Math.sqrt(3.34) + 1e-4);
    const theta2 = theta1 - (0.1 / 0.19) * (0.08 / (Math.sqrt(0.00460306 / 0.001999) + 1e-4));
    expectClose(theta, [theta2], 14);
    expectClose(slot(opt, 'expAvg'), [0.08], 15);
    expectClose(slot(opt, 'expAvgVar'), [0.00460306], 15);
  });

  it('AMSGrad normalizes by the running maximum of s', () => {
    // β = (0.9, 0.5), η = 0.1, ε = 0, θ₀ = 0. Step 1: g = 1, m = 0.1, r = 0.9, s = 0.5·0.81 = 0.405;
    //   c₁ = 0.1, c₂ = 0.5 → θ₁ = −1·0.1/√0.81 = −1/9.
    // Step 2: g = 0.1 = m₂ (0.09 + 0.01), so r = 0 and s = 0.2025 < ŝ = 0.405; c₁ = 0.19, c₂ = 0.75
    //   → θ₂ = θ₁ − (0.1/0.19)·0.1/√(0.405/0.75) (plain AdaBelief would use √(0.2025/0.75)).
    const opts = { lr: 0.1, betas: [0.9, 0.5] as [number, number], eps: 0, rectify: false };
    const ams = run(adabelief({ ...opts, amsgrad: true }), [0], [[1], [0.1]]);
    const plain = run(adabelief(opts), [0], [[1], [0.1]]);
    expectClose(ams.theta, [-1 / 9 - (0.1 / 0.19) * (0.1 / Math.sqrt(0.405 / 0.75))], 14);
    expectClose(plain.theta, [-1 / 9 - (0.1 / 0.19) * (0.1 / Math.sqrt(0.2025 / 0.75))], 14);
    expectClose(slot(ams.opt, 'maxExpAvgVar'), [0.405], 15);
    expectClose(slot(ams.opt, 'expAvgVar'), [0.2025], 15);
  });

  it('rectify: bias-corrected momentum SGD while ρ_t < 5, then the rectified step (β₂ = 0.9: from t = 6)', () => {
    // ρ∞ = 2/(1 − 0.9) − 1 = 19; ρ_t = 19 − 2t·0.9ᵗ/(1 − 0.9ᵗ): ρ₅ = 19 − 5.9049/0.40951 ≈ 4.58, ρ₆ ≈ 5.39.
    const b1 = 0.8;
    const b2 = 0.9;
    const lr = 0.05;
    const eps = 1e-6;
    const grads = [1, -0.5, 2, 0.25, -1, 0.75, 0.3].map((g) => [g]);
    const w = tensor([1]);
    const opt = createReference(adabelief({ lr, betas: [b1, b2], eps }), { w });
    let m = 0;
    let s = 0;
    let theta = 1;
    grads.forEach(([g], k) => {
      const t = k + 1;
      m = b1 * m + (1 - b1) * g!;
      s = b2 * s + (1 - b2) * (g! - m) ** 2 + eps;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const rho = 19 - (2 * t * b2 ** t) / c2;
      if (t <= 5) {
        expect(rho).toBeLessThan(5);
        theta -= (lr / c1) * m;
      } else {
        expect(rho).toBeGreaterThanOrEqual(5);
        const r = Math.sqrt((c2 * (rho - 4) * (rho - 2) * 19) / ((19 - 4) * (19 - 2) * rho));
        theta -= ((lr * r) / c1) * (m / (Math.sqrt(s) + eps));
      }
      opt.step({ w: tensor([g!]) });
      expect(w.data[0], `step ${t}`).toBeCloseTo(theta, 13);
    });
  });

  it('rectify without degeneratedToSgd: no move while ρ_t < 5', () => {
    const grads = [[1], [2], [3], [4], [5]];
    expect(run(adabelief({ lr: 0.1, betas: [0.8, 0.9], degeneratedToSgd: false }), [7], grads).theta).toEqual([7]);
    // With the default, step 1 is θ − η·m₁/(1 − β₁) = θ − η·g₁.
    expectClose(run(adabelief({ lr: 0.1 }), [7], [[3]]).theta, [7 - 0.3], 15);
  });

  it('weight decay: decoupled multiplies θ by (1 − ηλ); L2 adds λθ to the gradient', () => {
    // Zero gradient: decoupled gives exactly θ·(1 − ηλ) (m = 0, so the Adam-like step is 0).
    expect(run(adabelief({ lr: 0.1, weightDecay: 0.2, rectify: false }), [3, -4], [[0, 0]]).theta).toEqual([3 * (1 - 0.02), -4 * (1 - 0.02)]);
    // L2: g = λθ = (0.6, −0.8); at step 1 m = 0.1g, r = 0.9g, s = 0.001·0.81g² + ε, so with ε → 0 the step is
    // η·(0.1g/0.1)/(0.9|g|) = η·sign(g)/0.9.
    const l2 = run(adabelief({ lr: 0.1, weightDecay: 0.2, decoupledWeightDecay: false, rectify: false }), [3, -4], [[0, 0]]);
    expectClose(l2.theta, [3 - 0.1 / 0.9, -4 + 0.1 / 0.9], 12);
  });

  it('maximize equals minimizing with negated gradients', () => {
    const grads = [
      [1, -2],
      [0.5, 3],
      [-1, 1],
    ];
    const a = run(adabelief({ lr: 0.1, maximize: true, weightDecay: 0.1 }), [1, 1], grads).theta;
    const b = run(adabelief({ lr: 0.1, weightDecay: 0.1 }), [1, 1], grads.map((g) => g.map((x) => -x))).theta;
    expect(a).toEqual(b);
  });

  it('refuses amsgrad with rectify (the rectified update ignores the maximum)', () => {
    expect(() => adabelief({ amsgrad: true })).toThrow(OptionError);
    expect(() => adabelief({ amsgrad: true })).toThrow(/option "amsgrad" requires rectify = false.*got amsgrad true and rectify true/);
    expect(Object.keys(run(adabelief({ amsgrad: true, rectify: false }), [1], [[1]]).opt.exportState().params.w!.slots)).toEqual([
      'expAvg',
      'expAvgVar',
      'maxExpAvgVar',
    ]);
  });
});

describe('registry', () => {
  it('knows all four by name and round-trips their specs through JSON', () => {
    for (const name of ['lion', 'signsgd', 'adamAtan2', 'adabelief']) {
      const spec = createSpec(name, { lr: 0.01 });
      expect(spec.name).toBe(name);
      expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    }
    expect(() => createSpec('lion', { weight_decay: 0.1 })).toThrow(/did you mean "weightDecay"/);
  });
});
