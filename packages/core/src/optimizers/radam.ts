import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link radam}; names and defaults as `torch.optim.RAdam` (PyTorch 2.x). */
export interface RadamOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the moment estimates, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to √v before dividing (rectified steps only). Default 1e-8. */
  readonly eps: number;
  /**
   * Weight decay λ: an L2 penalty added to the gradient, or, with `decoupledWeightDecay`, a decay θ ← θ(1 − ηλ)
   * applied to the parameter before the update. Default 0.
   */
  readonly weightDecay: number;
  /** Decouple the weight decay from the gradient, as AdamW does (RAdamW). Default false. */
  readonly decoupledWeightDecay: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * RAdam, rectified Adam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020),
 * following `torch.optim.RAdam` (PyTorch 2.x, single-tensor `foreach=False` path). While the approximated
 * length ρ_t of the simple moving average is too short (ρ_t ≤ 5) the variance of the adaptive learning rate is
 * intractable and the step is SGD with bias-corrected momentum; afterwards it is the Adam step scaled by the
 * rectification term r_t.
 *
 * With gradient g_t of the loss at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * &\text{coupled: } g_t \leftarrow g_t + \lambda\,\theta_{t-1}
 *   \qquad \text{decoupled: } \theta_{t-1} \leftarrow \theta_{t-1}(1 - \eta\lambda) \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad \hat m_t = m_t / (1-\beta_1^t) \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad \rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t} \\
 * \theta_t &= \begin{cases}
 *   \theta_{t-1} - \eta\, \hat m_t\, \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}\, r_t,
 *     \quad r_t = \sqrt{\dfrac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}} & \rho_t > 5 \\[2ex]
 *   \theta_{t-1} - \eta\, \hat m_t & \rho_t \le 5
 * \end{cases}
 * \end{aligned}
 * $$
 *
 * ρ_t grows with t towards ρ_∞ (ρ_1 = 1); with β₂ = 0.999 the first five steps are un-rectified and rectification
 * starts at t = 6. When β₂ ≤ 2/3, ρ_∞ ≤ 5 and RAdam never rectifies. Every scalar (ρ_∞, ρ_t, r_t, the bias
 * corrections) is computed on the host in Float64 from the parameter's step count t; the elementwise product is
 * evaluated as PyTorch does, ((m̂·η)·a)·r with a = √(1−β₂^t)/(√v + ε).
 *
 * State: `expAvg` (m), `expAvgSq` (v).
 */
export const radamDefinition = defineOptimizer<RadamOptions>({
  name: 'radam',
  title: 'RAdam',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.999]),
    eps: opt.nonNegative(1e-8, 'ε added to the denominator.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (L2, or decoupled with decoupledWeightDecay).'),
    decoupledWeightDecay: opt.flag(false, 'Decouple the weight decay (RAdamW).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, decoupledWeightDecay, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const decay = 1 - lr * lambda;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * powInt(beta2, t)) / biasCorrection2;
    const rectified = rhoT > 5;
    const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) {
        if (decoupledWeightDecay) theta[i] = (theta[i] as number) * decay;
        else g = g + lambda * (theta[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      const mHat = (m[i] as number) / biasCorrection1;
      if (rectified) {
        // PyTorch evaluates `scalar / tensor` as reciprocal(tensor)·scalar: two roundings, kept for bitwise agreement.
        const adaptiveLr = (1 / (Math.sqrt(v[i] as number) + eps)) * biasCorrection2Sqrt;
        theta[i] = (theta[i] as number) - mHat * lr * adaptiveLr * rect;
      } else {
        theta[i] = (theta[i] as number) - mHat * lr;
      }
    }
  },
});

/**
 * Creates a RAdam spec; see {@link radamDefinition} for the update rule. `radam({ weightDecay: 1e-2,
 * decoupledWeightDecay: true })` is RAdamW.
 *
 * @example
 * ```ts
 * const spec = radam({ lr: 1e-3 });
 * ```
 */
export function radam(options?: Partial<RadamOptions & CommonOptions>): OptimizerSpec<RadamOptions> {
  return makeSpec(radamDefinition, options);
}
