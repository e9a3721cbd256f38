import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link nadam}; names and defaults as `torch.optim.NAdam` (PyTorch 2.x). */
export interface NadamOptions {
  /** Learning rate η. Default 2e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the moment estimates, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to the denominator after the square root. Default 1e-8. */
  readonly eps: number;
  /**
   * Weight decay λ: an L2 penalty added to the gradient, or, with `decoupledWeightDecay`, a decay θ ← θ(1 − ηλ)
   * applied to the parameter before the update. Default 0.
   */
  readonly weightDecay: number;
  /** Momentum decay ψ of the schedule μ_t = β₁(1 − ½·0.96^{tψ}). Default 4e-3. */
  readonly momentumDecay: number;
  /** Decouple the weight decay from the gradient, as AdamW does (NAdamW). Default false. */
  readonly decoupledWeightDecay: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * NAdam, Adam with Nesterov momentum (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop),
 * with the momentum schedule μ_t of the paper, following `torch.optim.NAdam` (PyTorch 2.x, single-tensor
 * `foreach=False` path): ε is added after the square root of the bias-corrected second moment, and the weight
 * decay is L2 unless `decoupledWeightDecay` is set.
 *
 * With gradient g_t of the loss at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * &\text{coupled: } g_t \leftarrow g_t + \lambda\,\theta_{t-1}
 *   \qquad \text{decoupled: } \theta_{t-1} \leftarrow \theta_{t-1}(1 - \eta\lambda) \\
 * \mu_t &= \beta_1\bigl(1 - \tfrac12\, 0.96^{t\psi}\bigr), \qquad \mu_{t+1} = \beta_1\bigl(1 - \tfrac12\, 0.96^{(t+1)\psi}\bigr) \\
 * \Pi_t &= \prod_{i=1}^{t} \mu_i = \Pi_{t-1}\,\mu_t, \qquad \Pi_0 = 1 \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * d_t &= \sqrt{v_t / (1-\beta_2^t)} + \epsilon \\
 * \theta_t &= \theta_{t-1} - \frac{\eta\,(1-\mu_t)}{1-\Pi_t}\,\frac{g_t}{d_t} - \frac{\eta\,\mu_{t+1}}{1-\Pi_t\,\mu_{t+1}}\,\frac{m_t}{d_t}
 * \end{aligned}
 * $$
 *
 * The scalars μ_t, μ_{t+1}, Π_t and 1 − β₂^t are computed on the host in Float64; Π_t is kept per parameter in
 * the state scalar `muProduct` (PyTorch's `mu_product`).
 *
 * Warning: PyTorch 1.13's single-tensor path computes the second coefficient with Π_t·μ_t·μ_{t+1} (μ_t counted
 * twice) where its own foreach path, its documentation and PyTorch ≥ 2.0 use Π_t·μ_{t+1} = ∏_{i≤t+1} μ_i. This
 * implementation follows the corrected form (PyTorch 2.x); the two differ from the first step on.
 *
 * State: `expAvg` (m), `expAvgSq` (v); scalar `muProduct` (Π_t).
 */
export const nadamDefinition = defineOptimizer<NadamOptions>({
  name: 'nadam',
  title: 'NAdam',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(2e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.999]),
    eps: opt.nonNegative(1e-8, 'ε added to the denominator.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (L2, or decoupled with decoupledWeightDecay).'),
    momentumDecay: opt.nonNegative(4e-3, 'Momentum decay ψ of the μ_t schedule.'),
    decoupledWeightDecay: opt.flag(false, 'Decouple the weight decay (NAdamW).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
  ],
  scalars: () => ({ muProduct: 1 }),
  update({ options: o, param: theta, grad, slots, scalars, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, momentumDecay: psi, decoupledWeightDecay, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const biasCorrection2 = 1 - powInt(beta2, t);
    const decay = 1 - lr * lambda;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
    const muProduct = (scalars.muProduct as number) * mu;
    scalars.muProduct = muProduct;
    const muProductNext = muProduct * muNext;
    const gradCoef = (lr * (1 - mu)) / (1 - muProduct);
    const momentumCoef = (lr * muNext) / (1 - muProductNext);
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) {
        if (decoupledWeightDecay) theta[i] = (theta[i] as number) * decay;
        else g = g + lambda * (theta[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      const denom = Math.sqrt((v[i] as number) / biasCorrection2) + eps;
      theta[i] = (theta[i] as number) - (gradCoef * g) / denom;
      theta[i] = (theta[i] as number) - (momentumCoef * (m[i] as number)) / denom;
    }
  },
});

/**
 * Creates a NAdam spec; see {@link nadamDefinition} for the update rule. `nadam({ weightDecay: 1e-2,
 * decoupledWeightDecay: true })` is NAdamW.
 *
 * @example
 * ```ts
 * const spec = nadam({ lr: 2e-3, momentumDecay: 4e-3 });
 * ```
 */
export function nadam(options?: Partial<NadamOptions & CommonOptions>): OptimizerSpec<NadamOptions> {
  return makeSpec(nadamDefinition, options);
}
