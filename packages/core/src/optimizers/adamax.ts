import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link adamax}; names and defaults as `torch.optim.Adamax`. */
export interface AdamaxOptions {
  /** Learning rate η. Default 2e-3. */
  readonly lr: number;
  /** (β₁, β₂): decay rates of the first moment and of the infinity norm, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to |g| inside the maximum (not to a denominator, unlike Adam). Default 1e-8. */
  readonly eps: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Adamax, the infinity-norm variant of Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization",
 * ICLR 2015, section 7.1), following `torch.optim.Adamax`: the second moment is replaced by an exponentially
 * weighted infinity norm u, ε is added to |g| *inside* the maximum, only the first moment is bias-corrected, and
 * weight decay is L2 (added to the gradient).
 *
 * With gradient g_t of the loss at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * u_t &= \max\bigl(\beta_2 u_{t-1},\ |g_t| + \epsilon\bigr) \\
 * \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{u_t}
 * \end{aligned}
 * $$
 *
 * u needs no bias correction: the maximum is not an average, so it does not start biased towards 0 (the paper's
 * argument). Because ε sits inside the maximum, u_t ≥ ε > 0 whenever ε > 0, so the division is always defined.
 * The bias correction 1 − β₁^t is a host scalar computed in Float64 from the parameter's step count t. The
 * arithmetic follows PyTorch's single-tensor (`foreach=False`) path: the parameter update is
 * θ − (η/(1 − β₁^t)·m)/u, as `addcdiv` computes it.
 *
 * State: `expAvg` (m), `expInf` (u).
 */
export const adamaxDefinition = defineOptimizer<AdamaxOptions>({
  name: 'adamax',
  title: 'Adamax',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(2e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.999], 'Decay rates (β₁, β₂) of the first moment and of the infinity norm.'),
    eps: opt.nonNegative(1e-8, 'ε added to |g| inside the maximum.'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expInf', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const u = slots.expInf as Float64Array;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const clr = lr / biasCorrection1;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      // Math.max propagates NaN, as torch.amax does.
      u[i] = Math.max(beta2 * (u[i] as number), Math.abs(g) + eps);
      theta[i] = (theta[i] as number) - (clr * (m[i] as number)) / (u[i] as number);
    }
  },
});

/**
 * Creates an Adamax spec; see {@link adamaxDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = adamax({ lr: 2e-3, betas: [0.9, 0.999] });
 * ```
 */
export function adamax(options?: Partial<AdamaxOptions & CommonOptions>): OptimizerSpec<AdamaxOptions> {
  return makeSpec(adamaxDefinition, options);
}
