import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link ademamix}; names and defaults as apple/ml-ademamix's PyTorch `AdEMAMix` (plus `maximize`). */
export interface AdemamixOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂, β₃): decay rates of the fast EMA, the second moment and the slow EMA, each in [0, 1). Default (0.9, 0.999, 0.9999). */
  readonly betas: readonly [number, number, number];
  /** α, the weight of the slow EMA in the mix. Default 2. */
  readonly alpha: number;
  /** T_β₃: steps of the β₃ warmup (linear in half-life, from β₁ to β₃); 0 = none (upstream's `None`). Default 0. */
  readonly beta3Warmup: number;
  /** T_α: steps of the linear α warmup from 0; 0 = none (upstream's `None`). Default 0. */
  readonly alphaWarmup: number;
  /** ε added to the bias-corrected √v. Default 1e-8. */
  readonly eps: number;
  /** Weight decay λ, added to the update as in AdamW (θ ← θ − η(u + λθ)). Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/** f(β) = ln ½ / ln(β + 10⁻⁸) − 1, the half-life of an EMA with decay β (upstream's `linear_hl_warmup_scheduler`). */
function halfLife(beta: number): number {
  return Math.log(0.5) / Math.log(beta + 1e-8) - 1;
}

/**
 * The scheduled α and β₃ of AdEMAMix at step t, as apple/ml-ademamix's `linear_warmup_scheduler` (α from 0) and
 * `linear_hl_warmup_scheduler` (β₃ from β₁, linear in the half-life f), evaluated in the same order on the host.
 */
export function ademamixSchedule(o: AdemamixOptions, t: number): { readonly alpha: number; readonly beta3: number } {
  const [beta1, , beta3Final] = o.betas;
  let alpha = o.alpha;
  if (t < o.alphaWarmup) {
    const a = t / o.alphaWarmup;
    alpha = (1 - a) * 0 + a * o.alpha;
  }
  let beta3 = beta3Final;
  if (t < o.beta3Warmup) {
    const a = t / o.beta3Warmup;
    beta3 = Math.pow(0.5, 1 / ((1 - a) * halfLife(beta1) + a * halfLife(beta3Final) + 1));
  }
  return { alpha, beta3 };
}

/**
 * AdEMAMix (Pagliardini, Ablin, Grangier, "The AdEMAMix Optimizer: Better, Faster, Older", arXiv 2409.03137):
 * Adam whose numerator mixes the usual fast EMA of the gradient with a slow one (β₃ ≈ 0.9999, a half-life of
 * thousands of steps) weighted by α, so old gradients keep contributing; α and β₃ can be warmed up to avoid early
 * instability. Follows apple/ml-ademamix, `pytorch/ademamix.py` (commit e7327151bbf2c812ae2c080de5491c685b6eb509),
 * operation for operation, with its defaults and both schedulers.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`), c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ, and α_t, β₃,t the scheduled
 * values (a = t/T; α_t = aα for t < T_α; β₃,t = f⁻¹((1 − a) f(β₁) + a f(β₃)) for t < T_β₃, f(β) = ln ½ / ln β − 1):
 *
 * $$
 * \begin{aligned}
 * m_1 &= \beta_1 m_1 + (1-\beta_1)\, g_t \qquad (m_1 = g_t \text{ when } \beta_1 = 0) \\
 * m_2 &= \beta_{3,t}\, m_2 + (1-\beta_{3,t})\, g_t \\
 * v &= \beta_2 v + (1-\beta_2)\, g_t^2 \\
 * u &= \frac{m_1/c_1 + \alpha_t\, m_2}{\sqrt{v}/\sqrt{c_2} + \epsilon} + \lambda\,\theta_{t-1} \\
 * \theta_t &= \theta_{t-1} - \eta\, u
 * \end{aligned}
 * $$
 *
 * Warning — formulation: the slow EMA m₂ is not bias-corrected (as in the paper and upstream); weight decay is
 * added to the update, AdamW-style (scaled by η, not decoupled from it); warmups are counted in the parameter's
 * own steps; f adds 10⁻⁸ to β inside the logarithm, as upstream. The warmup length 0 means no warmup (upstream's
 * `None`, which behaves the same). Upstream adds λθ even when λ = 0; descent skips it then (the same except for a
 * non-finite θ). `maximize` is a descent addition.
 *
 * State: `expAvgFast` (m₁, absent when β₁ = 0, as upstream), `expAvgSlow` (m₂), `expAvgSq` (v).
 */
export const ademamixDefinition = defineOptimizer<AdemamixOptions>({
  name: 'ademamix',
  title: 'AdEMAMix',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas3([0.9, 0.999, 0.9999], 'Decay rates (β₁, β₂, β₃) of the fast EMA, the second moment and the slow EMA.'),
    alpha: opt.nonNegative(2, 'α, the weight of the slow EMA.'),
    beta3Warmup: opt.number(0, 'Steps of the β₃ warmup (0: none).', { min: { value: 0 }, integer: true }),
    alphaWarmup: opt.number(0, 'Steps of the α warmup (0: none).', { min: { value: 0 }, integer: true }),
    eps: opt.nonNegative(1e-8, 'ε added to the bias-corrected √v.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ added to the update.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (o, shape) => [
    ...(o.betas[0] !== 0 ? [{ name: 'expAvgFast', shape }] : []),
    { name: 'expAvgSlow', shape },
    { name: 'expAvgSq', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, maximize } = o;
    const { alpha, beta3 } = ademamixSchedule(o, t);
    const fast = slots.expAvgFast;
    const slow = slots.expAvgSlow as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    for (let i = 0; i < theta.length; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      let m1 = g;
      if (fast) m1 = fast[i] = beta1 * (fast[i] as number) + (1 - beta1) * g;
      slow[i] = beta3 * (slow[i] as number) + (1 - beta3) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      const denom = Math.sqrt(v[i] as number) / biasCorrection2Sqrt + eps;
      let u = (m1 / biasCorrection1 + alpha * (slow[i] as number)) / denom;
      if (lambda !== 0) u = u + lambda * (theta[i] as number);
      theta[i] = (theta[i] as number) + -lr * u;
    }
  },
});

/**
 * Creates an AdEMAMix spec; see {@link ademamixDefinition} for the update rule and the formulation followed.
 *
 * @example
 * ```ts
 * const spec = ademamix({ lr: 1e-3, betas: [0.9, 0.999, 0.9999], alpha: 5, alphaWarmup: 10000, beta3Warmup: 10000 });
 * ```
 */
export function ademamix(options?: Partial<AdemamixOptions & CommonOptions>): OptimizerSpec<AdemamixOptions> {
  return makeSpec(ademamixDefinition, options);
}
