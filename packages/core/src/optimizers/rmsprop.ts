import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link rmsprop}; names and defaults as `torch.optim.RMSprop`. */
export interface RmspropOptions {
  /** Learning rate η. Default 1e-2. */
  readonly lr: number;
  /**
   * Smoothing constant α of the running averages, in [0, 1]. Default 0.99. (PyTorch only requires α ≥ 0; an
   * α above 1 makes the "average" diverge, so descent refuses it.)
   */
  readonly alpha: number;
  /** ε added to the denominator after the square root. Default 1e-8. */
  readonly eps: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  readonly weightDecay: number;
  /** Momentum factor μ ≥ 0 of the buffer of normalized gradients; 0 turns momentum off. Default 0. */
  readonly momentum: number;
  /** Divide by an estimate of the gradient's variance, s − ḡ², instead of its raw second moment. Default false. */
  readonly centered: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * RMSprop (Hinton, Srivastava & Swersky, *Neural Networks for Machine Learning*, lecture 6e, 2012), with the
 * centered variant of Graves ("Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850, 2013),
 * following `torch.optim.RMSprop` (single-tensor path).
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * s_t &= \alpha\, s_{t-1} + (1-\alpha)\, g_t^2 \\
 * \bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t \quad \text{(centered)} \\
 * d_t &= \begin{cases} \sqrt{s_t - \bar g_t^2} + \epsilon & \text{centered} \\ \sqrt{s_t} + \epsilon & \text{otherwise} \end{cases} \\
 * b_t &= \mu\, b_{t-1} + g_t / d_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t \quad (\mu > 0) \\
 * \theta_t &= \theta_{t-1} - \eta\, g_t / d_t \quad (\mu = 0)
 * \end{aligned}
 * $$
 *
 * As in PyTorch, ε is added after the square root (the overview seed writes it inside), the momentum buffer
 * starts at 0 (b₁ = g₁/d₁), and the centered variance s − ḡ² is not clamped: rounding can make it slightly
 * negative, and then the step is NaN, exactly as in PyTorch.
 *
 * State: `squareAvg` (s); `momentumBuffer` (b) when μ > 0; `gradAvg` (ḡ) when centered.
 */
export const rmspropDefinition = defineOptimizer<RmspropOptions>({
  name: 'rmsprop',
  title: 'RMSprop',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-2, 'Learning rate η.'),
    alpha: opt.unitClosed(0.99, 'Smoothing constant α of the running averages, in [0, 1].'),
    eps: opt.nonNegative(1e-8, 'ε added to the denominator.'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    momentum: opt.nonNegative(0, 'Momentum factor μ (0: no momentum buffer).'),
    centered: opt.flag(false, 'Normalize by the centered second moment (variance estimate).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (o, shape) => [
    { name: 'squareAvg', shape },
    ...(o.momentum > 0 ? [{ name: 'momentumBuffer', shape }] : []),
    ...(o.centered ? [{ name: 'gradAvg', shape }] : []),
  ],
  update({ options: o, param: theta, grad, slots }) {
    const { lr, alpha, eps, weightDecay: lambda, momentum: mu, maximize } = o;
    const s = slots.squareAvg as Float64Array;
    const gBar = slots.gradAvg;
    const b = slots.momentumBuffer;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      s[i] = alpha * (s[i] as number) + (1 - alpha) * g * g;
      let avg: number;
      if (gBar) {
        gBar[i] = alpha * (gBar[i] as number) + (1 - alpha) * g;
        avg = Math.sqrt((s[i] as number) - (gBar[i] as number) * (gBar[i] as number));
      } else {
        avg = Math.sqrt(s[i] as number);
      }
      avg = avg + eps;
      if (b) {
        b[i] = mu * (b[i] as number) + g / avg;
        theta[i] = (theta[i] as number) - lr * (b[i] as number);
      } else {
        theta[i] = (theta[i] as number) - (lr * g) / avg;
      }
    }
  },
});

/**
 * Creates an RMSprop spec; see {@link rmspropDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = rmsprop({ lr: 1e-3, momentum: 0.9, centered: true });
 * ```
 */
export function rmsprop(options?: Partial<RmspropOptions & CommonOptions>): OptimizerSpec<RmspropOptions> {
  return makeSpec(rmspropDefinition, options);
}
