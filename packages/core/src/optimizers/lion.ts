import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link lion}; names and defaults as `torch_optimizer.Lion` (plus `maximize`). */
export interface LionOptions {
  /** Learning rate η. Default 1e-4 (the paper advises 3–10× smaller than AdamW's). */
  readonly lr: number;
  /**
   * (β₁, β₂), each in [0, 1): β₁ interpolates the momentum with the gradient for the update, β₂ decays the
   * momentum itself. Default (0.9, 0.99).
   */
  readonly betas: readonly [number, number];
  /** Decoupled weight decay λ: θ is multiplied by (1 − ηλ) before the update. Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Lion, "EvoLved Sign Momentum" (Chen et al., "Symbolic Discovery of Optimization Algorithms",
 * arXiv:2302.06675, 2023), following the `torch-optimizer` library's `Lion`, itself adapted from Google's code
 * (github.com/google/automl/tree/master/lion), operation for operation.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}\,(1 - \eta\lambda) \\
 * c_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * \theta_t &= \theta - \eta\, \operatorname{sign}(c_t) \\
 * m_t &= \beta_2 m_{t-1} + (1-\beta_2)\, g_t
 * \end{aligned}
 * $$
 *
 * Every coordinate moves by exactly ±η after the decay (0 where c_t = 0: sign(0) = 0 as `torch.sign`). The
 * momentum is updated after the step, with its own rate β₂, so the update direction sees the new gradient with
 * weight 1 − β₁ while the momentum keeps a longer memory. The weight decay is decoupled and scaled by the
 * learning rate (θ·(1 − ηλ), as AdamW), and is applied even at λ = 0 (a multiplication by 1). Because
 * sign(·) has unit magnitude, Lion wants a smaller η and a larger λ than AdamW for the same effective decay.
 *
 * `maximize` is a descent addition (torch-optimizer has none): it negates the gradient, as in `torch.optim`.
 *
 * State: `expAvg` (m).
 */
export const lionDefinition = defineOptimizer<LionOptions>({
  name: 'lion',
  title: 'Lion',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-4, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.99], 'β₁ interpolates momentum and gradient for the update; β₂ decays the momentum.'),
    weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ: θ ← θ·(1 − ηλ).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [{ name: 'expAvg', shape }],
  update({ options: o, param: theta, grad, slots }) {
    const [beta1, beta2] = o.betas;
    const { lr, weightDecay: lambda, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const decay = 1 - lr * lambda;
    for (let i = 0; i < theta.length; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      theta[i] = (theta[i] as number) * decay;
      const c = beta1 * (m[i] as number) + (1 - beta1) * g;
      theta[i] = (theta[i] as number) - lr * Math.sign(c);
      m[i] = beta2 * (m[i] as number) + (1 - beta2) * g;
    }
  },
});

/**
 * Creates a Lion spec; see {@link lionDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = lion({ lr: 3e-5, weightDecay: 0.1 });
 * ```
 */
export function lion(options?: Partial<LionOptions & CommonOptions>): OptimizerSpec<LionOptions> {
  return makeSpec(lionDefinition, options);
}
