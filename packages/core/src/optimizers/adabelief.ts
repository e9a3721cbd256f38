import { OptionError } from '../errors.js';
import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link adabelief}; names and defaults as `adabelief_pytorch.AdaBelief` 0.2.x (plus `maximize`). */
export interface AdabeliefOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the first moment and of the "belief" s, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε, added to s inside the square root (every step, into the state) and again after it. Default 1e-16. */
  readonly eps: number;
  /** Weight decay λ: decoupled (θ·(1 − ηλ)) or L2 (λθ added to the gradient), see `decoupledWeightDecay`. Default 0. */
  readonly weightDecay: number;
  /** Decoupled weight decay as in AdamW (`weight_decouple` in adabelief-pytorch). Default true. */
  readonly decoupledWeightDecay: boolean;
  /** Normalize by the running maximum of s (AMSGrad). Needs `rectify: false`. Default false. */
  readonly amsgrad: boolean;
  /** Rectified update as in RAdam (Liu et al., ICLR 2020). Default true. */
  readonly rectify: boolean;
  /**
   * With `rectify`, while the variance is intractable (ρ_t < 5), take a bias-corrected momentum SGD step instead
   * of none (`degenerated_to_sgd` in adabelief-pytorch). Default true.
   */
  readonly degeneratedToSgd: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * AdaBelief (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients",
 * NeurIPS 2020): Adam with the second moment of the gradient replaced by that of its deviation from the
 * momentum, s ≈ E[(g − m)²], so the step is large where the gradient is close to its prediction. Follows the
 * authors' adabelief-pytorch 0.2.x (`AdaBelief` in pypi_packages/adabelief_pytorch0.2.x of
 * juntang-zhuang/Adabelief-Optimizer) operation for operation, and its defaults: eps 1e-16, decoupled weight
 * decay and rectification on. (Version 0.0.5 defaulted to eps 1e-8, L2 decay, no rectification; the paper's
 * Algorithm 2 is `{ rectify: false, decoupledWeightDecay: false, weightDecay: 0 }`.)
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`), bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ:
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}\,(1 - \eta\lambda) \ \text{(decoupled) or}\ g_t \leftarrow g_t + \lambda\,\theta_{t-1}\ \text{(L2)} \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * s_t &= \beta_2 s_{t-1} + (1-\beta_2)\, (g_t - m_t)^2 + \epsilon \\
 * \hat s_t &= \max(\hat s_{t-1}, s_t)\ \text{(AMSGrad; otherwise}\ \hat s_t = s_t\text{)} \\
 * \theta_t &= \theta - \frac{\eta}{c_1}\, \frac{m_t}{\sqrt{\hat s_t / c_2} + \epsilon} \qquad \text{(no rectification)}
 * \end{aligned}
 * $$
 *
 * ε enters twice, as in the authors' code: it is added to s every step *into the stored state* (so s carries
 * the accumulated ε's) and again after the square root. Note m_t is updated before the residual g_t − m_t.
 *
 * With `rectify` (RAdam's rule, forked in their code): ρ∞ = 2/(1 − β₂) − 1, ρ_t = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ), and
 *
 * $$
 * \theta_t = \begin{cases}
 * \theta - \eta\, \dfrac{r_t}{c_1}\, \dfrac{m_t}{\sqrt{s_t} + \epsilon}, \quad
 *   r_t = \sqrt{c_2\, \dfrac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}} & \rho_t \ge 5 \\
 * \theta - \dfrac{\eta}{c_1}\, m_t & \rho_t < 5,\ \text{degeneratedToSgd} \\
 * \theta & \rho_t < 5,\ \text{otherwise}
 * \end{cases}
 * $$
 *
 * (c₂ is inside r_t and not under the root of s_t there, exactly as in their code.) The rectified update never
 * reads the AMSGrad maximum, so adabelief-pytorch's `amsgrad` has no effect on the parameters when `rectify` is
 * on; descent refuses that combination instead of offering an option that does nothing.
 *
 * Not offered: `fixed_decay` (θ·(1 − λ), found in some 0.2.x copies; at a constant rate it is λ scaled by
 * 1/η). `maximize` is a descent addition: it negates the gradient first, as in `torch.optim`. Their code adds
 * L2 decay to `p.grad` in place; descent never writes the user's gradient.
 *
 * State: `expAvg` (m), `expAvgVar` (s), and `maxExpAvgVar` (ŝ) with AMSGrad.
 */
export const adabeliefDefinition = defineOptimizer<AdabeliefOptions>({
  name: 'adabelief',
  title: 'AdaBelief',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.999]),
    eps: opt.nonNegative(1e-16, 'ε added to s inside the square root (into the state) and after it.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (decoupled or L2, see decoupledWeightDecay).'),
    decoupledWeightDecay: opt.flag(true, 'Decoupled weight decay θ ← θ·(1 − ηλ) instead of L2.'),
    amsgrad: opt.flag(false, 'Normalize by the running maximum of s (needs rectify: false).'),
    rectify: opt.flag(true, 'RAdam-style rectified update.'),
    degeneratedToSgd: opt.flag(true, 'With rectify, take momentum SGD steps while ρ_t < 5.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  check(o, where) {
    if (o.amsgrad && o.rectify) {
      throw new OptionError(
        `${where}: option "amsgrad" requires rectify = false (the rectified update ignores the AMSGrad maximum), got amsgrad ${o.amsgrad} and rectify ${o.rectify}`,
      );
    }
  },
  slots: (o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgVar', shape },
    ...(o.amsgrad ? [{ name: 'maxExpAvgVar', shape }] : []),
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, decoupledWeightDecay, rectify, degeneratedToSgd, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const s = slots.expAvgVar as Float64Array;
    const sMax = slots.maxExpAvgVar;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);

    // Host scalars of the rectified rule (RAdam), in the order of the authors' code.
    const beta2t = powInt(beta2, t);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rho = rhoInf - (2 * t * beta2t) / (1 - beta2t);
    let rectifiedStep = 0;
    if (rectify && rho >= 5) {
      const ratio = ((((1 - beta2t) * (rho - 4)) / (rhoInf - 4)) * (rho - 2)) / rho;
      rectifiedStep = Math.sqrt((ratio * rhoInf) / (rhoInf - 2)) / biasCorrection1;
    }
    const sgdStep = rectify && rho < 5 && degeneratedToSgd ? 1 / biasCorrection1 : 0;

    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) {
        if (decoupledWeightDecay) theta[i] = (theta[i] as number) * (1 - lr * lambda);
        else g = g + lambda * (theta[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      const residual = g - (m[i] as number);
      s[i] = beta2 * (s[i] as number) + (1 - beta2) * residual * residual;
      s[i] = (s[i] as number) + eps;
      if (!rectify) {
        let sHat = s[i] as number;
        if (sMax) sHat = sMax[i] = Math.max(sMax[i] as number, sHat);
        const denom = Math.sqrt(sHat) / biasCorrection2Sqrt + eps;
        theta[i] = (theta[i] as number) - (lr / biasCorrection1) * ((m[i] as number) / denom);
      } else if (rho >= 5) {
        const denom = Math.sqrt(s[i] as number) + eps;
        theta[i] = (theta[i] as number) - rectifiedStep * lr * ((m[i] as number) / denom);
      } else if (sgdStep > 0) {
        theta[i] = (theta[i] as number) - sgdStep * lr * (m[i] as number);
      }
    }
  },
});

/**
 * Creates an AdaBelief spec; see {@link adabeliefDefinition} for the update rule and the defaults followed.
 *
 * @example
 * ```ts
 * const spec = adabelief({ lr: 1e-3, eps: 1e-16, weightDecay: 1e-2 }); // rectified, decoupled decay
 * const paper = adabelief({ rectify: false, decoupledWeightDecay: false });
 * ```
 */
export function adabelief(options?: Partial<AdabeliefOptions & CommonOptions>): OptimizerSpec<AdabeliefOptions> {
  return makeSpec(adabeliefDefinition, options);
}
