import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link adamAtan2}; names and defaults as lucidrains' `adam_atan2_pytorch.AdamAtan2` (plus `maximize`). */
export interface AdamAtan2Options {
  /** Learning rate η. Default 1e-4. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the moment estimates, each in [0, 1). Default (0.9, 0.99). */
  readonly betas: readonly [number, number];
  /** Decoupled weight decay λ: θ is multiplied by (1 − ηλ) before the update. Default 0. */
  readonly weightDecay: number;
  /** Scale a of the update a·atan2(·, ·); the step of a coordinate is at most a·π/2·η. Default 1.27. */
  readonly a: number;
  /** Scale b of the denominator inside atan2(m̂, b·√v̂). Default 1. */
  readonly b: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Adam-atan2: Adam without ε (Everett et al., "Scaling Exponents Across Parameterizations and Optimizers",
 * arXiv:2407.05872, 2024). The quotient m̂/(√v̂ + ε) is replaced by a·atan2(m̂, b·√v̂), which is bounded, defined
 * at v̂ = 0 and invariant to the scale of the gradient, so there is no ε to tune. Follows lucidrains'
 * adam-atan2-pytorch (`AdamAtan2`, version 0.4): its defaults (lr 1e-4, betas (0.9, 0.99), a = 1.27, b = 1,
 * weight decay 0) and its update rule.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}\,(1 - \eta\lambda) \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * \theta_t &= \theta - \eta\, a\, \operatorname{atan2}\!\Big(\frac{m_t}{1-\beta_1^t},\; b\,\sqrt{\frac{v_t}{1-\beta_2^t}}\Big)
 * \end{aligned}
 * $$
 *
 * Since atan2(y, x) = arctan(y/x) for x > 0 and arctan(z) ≈ z near 0, small steps are Adam's with ε = 0 (times
 * a/b); large ratios saturate at a·π/2. atan2(0, 0) = 0, so a coordinate whose gradients have all been 0 does not
 * move (no NaN). Multiplying every gradient by c > 0 multiplies m by c and √v by c, which leaves the trajectory
 * unchanged. At step 1 with b = 1 the step is a·atan2(g, |g|) = a·(π/4)·sign(g).
 *
 * Weight decay: decoupled, θ·(1 − ηλ), applied only when λ > 0, as in adam-atan2-pytorch 0.4 with its default
 * `decoupled_wd=False` (its first releases, and `decoupled_wd=True`, use θ·(1 − (η/η₀)λ) with η₀ the initial
 * learning rate, the same at a constant rate with λ scaled by 1/η₀; descent does not offer that form). The
 * library decays after computing the update, which is the same since the update does not depend on θ. The
 * moving averages are written as Adam's β·m + (1 − β)·g, and the quotients as m/(1 − β₁ᵗ) and b·√(v/(1 − β₂ᵗ));
 * the library's `lerp_` and its b²-inside-the-root form give the same values up to rounding. Its extensions
 * (`regen_reg_rate`, `cautious_factor`, `cautious_wd`) are not included.
 *
 * State: `expAvg` (m), `expAvgSq` (v).
 */
export const adamAtan2Definition = defineOptimizer<AdamAtan2Options>({
  name: 'adamAtan2',
  title: 'Adam-atan2',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-4, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.99]),
    weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ: θ ← θ·(1 − ηλ).'),
    a: opt.positive(1.27, 'Scale a of the update a·atan2(m̂, b·√v̂).'),
    b: opt.nonNegative(1, 'Scale b of the denominator in atan2(m̂, b·√v̂) (0 gives a·π/2·sign(m̂)).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, weightDecay: lambda, a, b, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    for (let i = 0; i < theta.length; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda > 0) theta[i] = (theta[i] as number) * (1 - lr * lambda);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      const mHat = (m[i] as number) / biasCorrection1;
      const vHat = (v[i] as number) / biasCorrection2;
      theta[i] = (theta[i] as number) - lr * a * Math.atan2(mHat, b * Math.sqrt(vHat));
    }
  },
});

/**
 * Creates an Adam-atan2 spec; see {@link adamAtan2Definition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = adamAtan2({ lr: 3e-4, weightDecay: 0.1 });
 * ```
 */
export function adamAtan2(options?: Partial<AdamAtan2Options & CommonOptions>): OptimizerSpec<AdamAtan2Options> {
  return makeSpec(adamAtan2Definition, options);
}
