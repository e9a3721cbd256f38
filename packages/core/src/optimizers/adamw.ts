import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { adamDefinition, adamSchema, type AdamOptions } from './adam.js';

/**
 * Options of {@link adamw}; names and defaults as `torch.optim.AdamW`. The same as {@link AdamOptions} except
 * for the meaning and default of `weightDecay`.
 */
export interface AdamwOptions extends Omit<AdamOptions, 'weightDecay'> {
  /**
   * Decoupled weight decay λ: each step first shrinks the parameters, θ ← θ·(1 − ηλ), and the penalty never
   * enters the moment estimates. Default 1e-2 (Adam's L2 `weightDecay` defaults to 0).
   */
  readonly weightDecay: number;
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), following
 * `torch.optim.AdamW` (single-tensor path): Adam whose weight decay shrinks the parameters directly instead of
 * being added to the gradient, so the decay is not rescaled by the adaptive denominator.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`; the decay is not):
 *
 * $$
 * \begin{aligned}
 * \theta' &= \theta_{t-1}\,(1 - \eta\lambda) \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(AMSGrad; otherwise } \hat v_t = v_t\text{)} \\
 * \theta_t &= \theta' - \frac{\eta}{1-\beta_1^t}\; \frac{m_t}{\sqrt{\hat v_t}\,/\sqrt{1-\beta_2^t} + \epsilon}
 * \end{aligned}
 * $$
 *
 * Since the Adam term does not depend on θ, this equals the seed's θ_t = θ_{t−1} − η(m̂/(√v̂ + ε) + λθ_{t−1})
 * up to PyTorch's placement of ε (after the bias-corrected root, as in {@link adam}). The decay is η·λ, the
 * learning rate times λ, as in PyTorch (the paper's Algorithm 2 multiplies λ by the schedule multiplier η_t but
 * not by the learning rate α). With λ = 0 this is exactly {@link adam} with λ = 0.
 *
 * State: `expAvg` (m), `expAvgSq` (v), and `maxExpAvgSq` (v̂) with AMSGrad.
 */
export const adamwDefinition = defineOptimizer<AdamwOptions>({
  name: 'adamw',
  title: 'AdamW',
  kind: 'elementwise',
  schema: {
    ...adamSchema,
    weightDecay: opt.nonNegative(1e-2, 'Decoupled weight decay λ: θ ← θ(1 − ηλ) before the Adam step.'),
  },
  slots: adamDefinition.slots,
  update(ctx) {
    // Decoupled decay first, then exactly Adam's step with its L2 term off: θ ← θ(1 − ηλ); θ ← Adam(θ, g).
    const { lr, weightDecay: lambda } = ctx.options;
    const theta = ctx.param;
    if (lambda !== 0) {
      const shrink = 1 - lr * lambda;
      for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) * shrink;
    }
    adamDefinition.update({ ...ctx, options: { ...ctx.options, weightDecay: 0 } });
  },
});

/**
 * Creates an AdamW spec; see {@link adamwDefinition} for the update rule. `adamw({ amsgrad: true })` is AMSGrad
 * with decoupled weight decay.
 *
 * @example
 * ```ts
 * const spec = adamw({ lr: 3e-4, weightDecay: 0.1 });
 * ```
 */
export function adamw(options?: Partial<AdamwOptions & CommonOptions>): OptimizerSpec<AdamwOptions> {
  return makeSpec(adamwDefinition, options);
}
