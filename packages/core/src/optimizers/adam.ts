import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link adam}; names and defaults as `torch.optim.Adam`. */
export interface AdamOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the moment estimates, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to the denominator after the square root. Default 1e-8. */
  readonly eps: number;
  /** L2 penalty λ added to the gradient (coupled; see {@link adamw} for decoupled decay). Default 0. */
  readonly weightDecay: number;
  /** Use the running maximum of v̂ (AMSGrad, Reddi et al. 2018). Default false. */
  readonly amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/** Option schema of {@link adam} (shared with the Adam half of {@link muonWithAuxAdam}). */
export const adamSchema = {
  lr: opt.nonNegative(1e-3, 'Learning rate η.'),
  betas: opt.betas([0.9, 0.999]),
  eps: opt.nonNegative(1e-8, 'ε added to the denominator.'),
  weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
  amsgrad: opt.flag(false, 'Use the AMSGrad variant.'),
  maximize: opt.flag(false, 'Maximize the objective.'),
} as const;

/**
 * Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), with the AMSGrad variant
 * (Reddi et al., "On the Convergence of Adam and Beyond", ICLR 2018), following `torch.optim.Adam`: ε is added
 * after the square root of the bias-corrected second moment, and weight decay is L2 (added to the gradient).
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(AMSGrad; otherwise } \hat v_t = v_t\text{)} \\
 * \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\; \frac{m_t}{\sqrt{\hat v_t}\,/\sqrt{1-\beta_2^t} + \epsilon}
 * \end{aligned}
 * $$
 *
 * The bias corrections are host scalars computed in Float64 from the parameter's step count t.
 *
 * TF/Keras's `Adam` places ε differently (the paper's ε̂, from the faster form of the update in its section 2):
 * it adds ε̂ to √v_t before the bias correction and folds the corrections into the step size,
 *
 * $$
 * \theta_t = \theta_{t-1} - \eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\;\frac{m_t}{\sqrt{v_t} + \hat\epsilon},
 * $$
 *
 * which is the rule above with ε = ε̂/√(1−β₂ᵗ): with the same number, Keras's ε is effectively larger while
 * 1 − β₂ᵗ is small and damps the first steps more (and its default is 1e-7, not 1e-8).
 *
 * State: `expAvg` (m), `expAvgSq` (v), and `maxExpAvgSq` (v̂) with AMSGrad.
 */
export const adamDefinition = defineOptimizer<AdamOptions>({
  name: 'adam',
  title: 'Adam',
  kind: 'elementwise',
  schema: adamSchema,
  slots: (o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
    ...(o.amsgrad ? [{ name: 'maxExpAvgSq', shape }] : []),
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const vMax = slots.maxExpAvgSq;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const stepSize = lr / biasCorrection1;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      let vHat = v[i] as number;
      if (vMax) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
      const denom = Math.sqrt(vHat) / biasCorrection2Sqrt + eps;
      theta[i] = (theta[i] as number) - (stepSize * (m[i] as number)) / denom;
    }
  },
});

/**
 * Creates an Adam spec; see {@link adamDefinition} for the update rule. `adam({ amsgrad: true })` is AMSGrad.
 *
 * @example
 * ```ts
 * const spec = adam({ lr: 3e-4, betas: [0.9, 0.95] });
 * ```
 */
export function adam(options?: Partial<AdamOptions & CommonOptions>): OptimizerSpec<AdamOptions> {
  return makeSpec(adamDefinition, options);
}
