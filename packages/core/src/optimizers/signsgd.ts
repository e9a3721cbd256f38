import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link signsgd}. */
export interface SignsgdOptions {
  /** Learning rate η: every coordinate moves by exactly ±η (after the decay). Default 1e-3. */
  readonly lr: number;
  /** Momentum β in [0, 1). 0 is plain signSGD; β > 0 is Signum (sign of an exponential average). Default 0. */
  readonly momentum: number;
  /** Decoupled weight decay λ: θ is multiplied by (1 − ηλ) before the update. Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * signSGD and Signum (Bernstein, Wang, Azizzadenesheli & Anandkumar, "signSGD: Compressed Optimisation for
 * Non-Convex Problems", ICML 2018): steps of fixed size η along the sign of the gradient (signSGD, β = 0) or of
 * its exponential moving average (Signum, β > 0).
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}\,(1 - \eta\lambda) \\
 * \theta_t &= \theta - \eta\, \operatorname{sign}(g_t) && (\beta = 0,\ \text{signSGD}) \\
 * m_t &= \beta\, m_{t-1} + (1-\beta)\, g_t,\quad \theta_t = \theta - \eta\, \operatorname{sign}(m_t) && (\beta > 0,\ \text{Signum}),\ m_0 = 0
 * \end{aligned}
 * $$
 *
 * sign(0) = 0 (as `torch.sign`), so a coordinate whose gradient (or momentum) is exactly 0 does not move.
 *
 * Weight decay: descent decouples it (θ·(1 − ηλ) before the sign step, as Lion and AdamW do); this is the
 * `wd_lh` term of MXNet's `signum_update`, which also offers `wd`, added to the gradient inside the momentum.
 * That coupled form, the one common PyTorch ports of Signum use (λθ added to g before the sign), is not offered:
 * inside the sign the decay loses its magnitude (λθ only matters where it outweighs the gradient). The
 * momentum starts at 0 (m₁ = (1 − β)g₁), as in the paper's algorithm and those implementations; its sign is
 * that of g₁ either way.
 *
 * State: `momentumBuffer` (m) when β > 0.
 */
export const signsgdDefinition = defineOptimizer<SignsgdOptions>({
  name: 'signsgd',
  title: 'signSGD / Signum',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η (the size of every coordinate step).'),
    momentum: opt.unitHalfOpen(0, 'Momentum β in [0, 1): 0 is signSGD, > 0 is Signum.'),
    weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ: θ ← θ·(1 − ηλ).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (o, shape) => (o.momentum > 0 ? [{ name: 'momentumBuffer', shape }] : []),
  update({ options: o, param: theta, grad, slots }) {
    const { lr, momentum: beta, weightDecay: lambda, maximize } = o;
    const m = slots.momentumBuffer;
    const decay = 1 - lr * lambda;
    for (let i = 0; i < theta.length; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      theta[i] = (theta[i] as number) * decay;
      let d = g;
      if (m) d = m[i] = beta * (m[i] as number) + (1 - beta) * g;
      theta[i] = (theta[i] as number) - lr * Math.sign(d);
    }
  },
});

/**
 * Creates a signSGD (momentum 0) or Signum (momentum > 0) spec; see {@link signsgdDefinition}.
 *
 * @example
 * ```ts
 * const spec = signsgd({ lr: 1e-4, momentum: 0.9 }); // Signum
 * ```
 */
export function signsgd(options?: Partial<SignsgdOptions & CommonOptions>): OptimizerSpec<SignsgdOptions> {
  return makeSpec(signsgdDefinition, options);
}
