import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link adagrad}; names and defaults as `torch.optim.Adagrad`. */
export interface AdagradOptions {
  /** Learning rate η. Default 1e-2. */
  readonly lr: number;
  /** Learning-rate decay δ: the step t uses η / (1 + (t − 1)·δ). Default 0. */
  readonly lrDecay: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  readonly weightDecay: number;
  /** Initial value s₀ of every element of the accumulator `sum`. Default 0. */
  readonly initialAccumulatorValue: number;
  /** ε added to the denominator after the square root. Default 1e-10. */
  readonly eps: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * AdaGrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
 * Optimization", JMLR 2011), following `torch.optim.Adagrad` (dense single-tensor path): every element divides
 * its step by the root of the sum of its squared gradients so far.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`) and t the parameter's step count:
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * \tilde\eta_t &= \frac{\eta}{1 + (t-1)\,\delta} \\
 * s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initialAccumulatorValue} \\
 * \theta_t &= \theta_{t-1} - \tilde\eta_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}
 * \end{aligned}
 * $$
 *
 * As in PyTorch, ε is added after the square root (the overview seed writes it inside, √(G + ε)), and the
 * decayed learning rate η̃ is a host scalar computed from t.
 *
 * State: `sum` (s), initialized to `initialAccumulatorValue`.
 */
export const adagradDefinition = defineOptimizer<AdagradOptions>({
  name: 'adagrad',
  title: 'Adagrad',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-2, 'Learning rate η.'),
    lrDecay: opt.nonNegative(0, 'Learning-rate decay δ: step t uses η / (1 + (t − 1)δ).'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    initialAccumulatorValue: opt.nonNegative(0, 'Initial value of the accumulator of squared gradients.'),
    eps: opt.nonNegative(1e-10, 'ε added to the denominator.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (o, shape) => [{ name: 'sum', shape, init: o.initialAccumulatorValue }],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const { lr, lrDecay, weightDecay: lambda, eps, maximize } = o;
    const s = slots.sum as Float64Array;
    const clr = lr / (1 + (t - 1) * lrDecay);
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      s[i] = (s[i] as number) + g * g;
      const std = Math.sqrt(s[i] as number) + eps;
      theta[i] = (theta[i] as number) - (clr * g) / std;
    }
  },
});

/**
 * Creates an Adagrad spec; see {@link adagradDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = adagrad({ lr: 0.05, initialAccumulatorValue: 0.1 });
 * ```
 */
export function adagrad(options?: Partial<AdagradOptions & CommonOptions>): OptimizerSpec<AdagradOptions> {
  return makeSpec(adagradDefinition, options);
}
