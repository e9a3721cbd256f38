import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link adadelta}; names and defaults as `torch.optim.Adadelta`. */
export interface AdadeltaOptions {
  /** Learning rate η scaling the Adadelta step (Zeiler's method has none: η = 1). Default 1.0. */
  readonly lr: number;
  /** Decay rate ρ of both running averages, in [0, 1]. Default 0.9. */
  readonly rho: number;
  /** ε added inside both square roots. Default 1e-6. */
  readonly eps: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012), following
 * `torch.optim.Adadelta` (single-tensor path): the step is the gradient rescaled by the ratio of the RMS of
 * past updates to the RMS of gradients, then multiplied by a learning rate η (1 in the paper).
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * s_t &= \rho\, s_{t-1} + (1-\rho)\, g_t^2 \\
 * \Delta_t &= \frac{\sqrt{a_{t-1} + \epsilon}}{\sqrt{s_t + \epsilon}}\; g_t \\
 * a_t &= \rho\, a_{t-1} + (1-\rho)\, \Delta_t^2 \\
 * \theta_t &= \theta_{t-1} - \eta\, \Delta_t
 * \end{aligned}
 * $$
 *
 * The accumulated update a holds Δ before the learning rate is applied, as in PyTorch (so η scales the whole
 * trajectory's displacement linearly for given gradients). ε sits inside both roots, as in the paper and the
 * overview seed; with s₀ = a₀ = 0 the first step is √ε / √((1−ρ)g² + ε)·g ≈ √(ε/(1−ρ))·sign(g).
 *
 * State: `squareAvg` (s), `accDelta` (a).
 */
export const adadeltaDefinition = defineOptimizer<AdadeltaOptions>({
  name: 'adadelta',
  title: 'Adadelta',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1.0, 'Learning rate η scaling the Adadelta step.'),
    rho: opt.unitClosed(0.9, 'Decay rate ρ of the running averages, in [0, 1].'),
    eps: opt.nonNegative(1e-6, 'ε added inside the square roots.'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'squareAvg', shape },
    { name: 'accDelta', shape },
  ],
  update({ options: o, param: theta, grad, slots }) {
    const { lr, rho, eps, weightDecay: lambda, maximize } = o;
    const s = slots.squareAvg as Float64Array;
    const a = slots.accDelta as Float64Array;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      s[i] = rho * (s[i] as number) + (1 - rho) * g * g;
      const std = Math.sqrt((s[i] as number) + eps);
      const delta = (Math.sqrt((a[i] as number) + eps) / std) * g;
      a[i] = rho * (a[i] as number) + (1 - rho) * delta * delta;
      theta[i] = (theta[i] as number) - lr * delta;
    }
  },
});

/**
 * Creates an Adadelta spec; see {@link adadeltaDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = adadelta({ rho: 0.95 });
 * ```
 */
export function adadelta(options?: Partial<AdadeltaOptions & CommonOptions>): OptimizerSpec<AdadeltaOptions> {
  return makeSpec(adadeltaDefinition, options);
}
