import { OptionError } from '../errors.js';
import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link sgd}; names and defaults as `torch.optim.SGD`. */
export interface SgdOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** Momentum factor μ. Default 0 (plain SGD). */
  readonly momentum: number;
  /** Dampening τ applied to the gradient in the momentum buffer. Default 0. */
  readonly dampening: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  readonly weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  readonly nesterov: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Stochastic gradient descent with optional momentum, dampening, L2 weight decay and Nesterov momentum,
 * following `torch.optim.SGD` (PyTorch 2.x) option for option and operation for operation.
 *
 * With gradient g_t of the loss at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * b_t &= \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
 * d_t &= \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise (} d_t = g_t \text{ when } \mu = 0\text{)} \end{cases} \\
 * \theta_t &= \theta_{t-1} - \eta\, d_t
 * \end{aligned}
 * $$
 *
 * This is PyTorch's formulation, in which the learning rate multiplies the whole buffer (the seeds write
 * momentum as v_t = γ v_{t−1} + η g_t; the two agree for a constant η). Batch gradient descent (BGD) is this
 * optimizer fed the gradient of the full batch: the update is the same, only the gradient differs.
 * For the look-ahead form of Nesterov's method see {@link nag}.
 *
 * References: Robbins & Monro (1951); Polyak (1964) for momentum; Sutskever et al., "On the importance of
 * initialization and momentum in deep learning" (ICML 2013) for the Nesterov form used here.
 *
 * State: `momentumBuffer` (b) when μ ≠ 0.
 */
export const sgdDefinition = defineOptimizer<SgdOptions>({
  name: 'sgd',
  title: 'SGD',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    momentum: opt.nonNegative(0, 'Momentum factor μ.'),
    dampening: opt.number(0, 'Dampening τ of the momentum buffer.', { min: { value: 0 }, max: { value: 1 } }),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    nesterov: opt.flag(false, 'Use Nesterov momentum.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  check(o, where) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new OptionError(`${where}: option "nesterov" requires momentum > 0 and dampening = 0, got momentum ${o.momentum} and dampening ${o.dampening}`);
    }
  },
  slots: (o, shape) => (o.momentum !== 0 ? [{ name: 'momentumBuffer', shape }] : []),
  update({ options: o, param: theta, grad, slots, step }) {
    const { lr, momentum: mu, dampening: tau, weightDecay: lambda, nesterov, maximize } = o;
    const b = slots.momentumBuffer;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      let d = g;
      if (b) {
        b[i] = step === 1 ? g : mu * (b[i] as number) + (1 - tau) * g;
        d = nesterov ? g + mu * (b[i] as number) : (b[i] as number);
      }
      theta[i] = (theta[i] as number) - lr * d;
    }
  },
});

/**
 * Creates an SGD spec; see {@link sgdDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = sgd({ lr: 0.1, momentum: 0.9, nesterov: true });
 * ```
 */
export function sgd(options?: Partial<SgdOptions & CommonOptions>): OptimizerSpec<SgdOptions> {
  return makeSpec(sgdDefinition, options);
}
