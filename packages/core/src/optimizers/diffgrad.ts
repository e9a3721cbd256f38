import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link diffgrad}; names and defaults as the authors' `diffgrad` (diffGrad_v2.py), plus `maximize`. */
export interface DiffgradOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the first and second moments, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to √v (not bias-corrected, as in the authors' code). Default 1e-8. */
  readonly eps: number;
  /** L2 penalty λ added to the gradient (the stored previous gradient includes it). Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * diffGrad (Dubey, Chakraborty, Roy, Mukherjee, Singh, Chaudhuri, "diffGrad: An Optimization Method for
 * Convolutional Neural Networks", IEEE TNNLS 2019, arXiv 1909.11015): Adam whose first moment is damped, per
 * element, by the friction coefficient ξ_t = sigmoid(|g_{t−1} − g_t|) ∈ [½, 1): where the gradient barely
 * changes (near a flat optimum) the step is halved, where it changes fast the step is Adam's. Follows the
 * authors' repository shivram1987/diffGrad, file `diffGrad_v2.py` (commit 93fb7fcdf1ddefea04d4273b91f42f1c6e0da4b4),
 * operation for operation: the first `diffGrad.py` stored a reference to the gradient as the previous gradient,
 * so |g_{t−1} − g_t| was always 0 after in-place updates; v2 stores a copy, as here.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`), g_0 = 0, bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ:
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * \xi_t &= \frac{1}{1 + e^{-|g_{t-1} - g_t|}} \\
 * \theta_t &= \theta_{t-1} - \frac{\eta\sqrt{c_2}}{c_1}\, \frac{\xi_t\, m_t}{\sqrt{v_t} + \epsilon}
 * \end{aligned}
 * $$
 *
 * Warning — formulation: ε is added to √v_t *before* the bias correction (the step size carries √c₂, the
 * Adam paper's "efficient" form, as in the authors' code), not after it as in `torch.optim.Adam`; the
 * previous gradient stored is the one after the L2 term; on the first step ξ₁ = sigmoid(|g₁|), not ½.
 * pytorch_optimizer's `DiffGrad` (kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/diffgrad.py at commit
 * 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16) differs: it applies ξ only on its optional rectified path (its default
 * path is Adam with m/(√v + ε)·η/c₁, no √c₂ and no weight decay) and decays decoupled there; descent follows the
 * authors. `maximize` is a descent addition (negates the gradient first, as `torch.optim`).
 *
 * State: `expAvg` (m), `expAvgSq` (v), `previousGrad` (g_{t−1}).
 */
export const diffgradDefinition = defineOptimizer<DiffgradOptions>({
  name: 'diffgrad',
  title: 'diffGrad',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.999]),
    eps: opt.nonNegative(1e-8, 'ε added to √v (before the bias correction).'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
    { name: 'previousGrad', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const previous = slots.previousGrad as Float64Array;
    const stepSize = (lr * Math.sqrt(1 - powInt(beta2, t))) / (1 - powInt(beta1, t));
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      const denom = Math.sqrt(v[i] as number) + eps;
      const friction = 1 / (1 + Math.exp(-Math.abs((previous[i] as number) - g)));
      previous[i] = g;
      // torch's addcdiv(θ, m·ξ, denom, value = −step) evaluates θ + (value·(m·ξ))/denom, in that order.
      theta[i] = (theta[i] as number) + (-stepSize * ((m[i] as number) * friction)) / denom;
    }
  },
});

/**
 * Creates a diffGrad spec; see {@link diffgradDefinition} for the update rule and the formulation followed.
 *
 * @example
 * ```ts
 * import { createReference, diffgrad, tensor } from '@descent/core';
 *
 * const w = tensor(Float64Array.from([1, -2]), [2]);
 * const opt = createReference(diffgrad({ lr: 0.1 }), { w });
 * opt.step({ w: tensor(Float64Array.from([0.5, -1]), [2]) });
 * console.log(Array.from(w.data)); // each coordinate moved against its gradient by about 0.1·ξ
 * ```
 */
export function diffgrad(options?: Partial<DiffgradOptions & CommonOptions>): OptimizerSpec<DiffgradOptions> {
  return makeSpec(diffgradDefinition, options);
}
