import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link adapnm}; names and defaults as pytorch_optimizer's `AdaPNM`. */
export interface AdapnmOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /**
   * (β₁, β₂, β₀): β₁ sets the decay β₁² of each of the two momentum buffers, β₂ that of the second moment, β₀ the
   * strength of the negative momentum. β₁, β₂ in [0, 1), β₀ in [0, 1]. Default (0.9, 0.999, 1).
   */
  readonly betas: readonly [number, number, number];
  /** Weight decay λ: decoupled (θ·(1 − ηλ)) or L2 (λθ added to the gradient), see `decoupledWeightDecay`. Default 0. */
  readonly weightDecay: number;
  /** Decoupled weight decay as in AdamW (`weight_decouple` upstream). Default true. */
  readonly decoupledWeightDecay: boolean;
  /** With decoupled decay, θ·(1 − λ) instead of θ·(1 − ηλ) (`fixed_decay` upstream). Default false. */
  readonly fixedDecay: boolean;
  /** Normalize by the running maximum of v (`ams_bound` upstream; AMSGrad's maximum). Default true. */
  readonly amsBound: boolean;
  /** ε added after the square root. Default 1e-8. */
  readonly eps: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/** The constant pytorch_optimizer adds to v under the square root (`exp_avg_sq_eps` of `apply_ams_bound`). */
const V_EPS = 1e-15;

/**
 * AdaPNM (Xie, Yuan, Zhu, Sugiyama, "Positive-Negative Momentum: Manipulating Stochastic Gradient Noise to Improve
 * Generalization", ICML 2021, arXiv 2103.17182, Algorithm 2): Adam with the positive-negative momentum of
 * {@link pnmDefinition | PNM} in the numerator, and AMSGrad's maximum by default. Follows pytorch_optimizer's
 * `AdaPNM` (kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/adapnm.py with `BaseOptimizer`'s
 * `apply_weight_decay` and `apply_ams_bound`, commit 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16), and its defaults.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`), buffers A and B with (m⁺, m⁻) = (A, B) on odd steps t and
 * (B, A) on even ones, ν = √((1 + β₀)² + β₀²), c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ, δ = 10⁻¹⁵:
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}(1 - \eta\lambda)\ \text{(decoupled;}\ 1-\lambda\ \text{with fixedDecay) or}\ g_t \leftarrow g_t + \lambda\theta_{t-1}\ \text{(L2)} \\
 * m^{+} &\leftarrow \beta_1^2\, m^{+} + (1-\beta_1^2)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \qquad (\hat v_t = \max(\hat v_{t-1}, v_t)\ \text{with amsBound, else}\ v_t) \\
 * \theta_t &= \theta - \frac{\eta}{c_1}\, \frac{((1+\beta_0)\, m^{+} - \beta_0\, m^{-})/\nu}{(\sqrt{\hat v_t + \delta} + \epsilon)/\sqrt{c_2}}
 * \end{aligned}
 * $$
 *
 * Warning — formulation: the bias correction c₁ uses β₁ (not the buffers' decay β₁²), as upstream; δ = 10⁻¹⁵ is
 * always added under the root (upstream's hidden constant); amsBound is on by default, as upstream. The parity
 * is that of the parameter's own step count (upstream's is per group: they differ only for a parameter that missed
 * a gradient). Upstream's optional AdaNorm rescaling (`adanorm=True` in its kwargs) is not offered. The decay
 * multiplies θ even when λ = 0 (by exactly 1).
 *
 * State: `expAvg` (A), `negExpAvg` (B), named as upstream's buffers (they swap roles every step), `expAvgSq` (v),
 * and `maxExpAvgSq` with amsBound.
 */
export const adapnmDefinition = defineOptimizer<AdapnmOptions>({
  name: 'adapnm',
  title: 'AdaPNM',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.triple(
      [0.9, 0.999, 1],
      [
        { min: { value: 0 }, max: { value: 1, open: true } },
        { min: { value: 0 }, max: { value: 1, open: true } },
        { min: { value: 0 }, max: { value: 1 } },
      ],
      '(β₁, β₂, β₀): momentum decay β₁² of each buffer, second-moment decay, strength β₀ of the negative momentum.',
    ),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (decoupled or L2, see decoupledWeightDecay).'),
    decoupledWeightDecay: opt.flag(true, 'Decoupled weight decay θ ← θ·(1 − ηλ) instead of L2.'),
    fixedDecay: opt.flag(false, 'Decoupled decay θ·(1 − λ), not scaled by η.'),
    amsBound: opt.flag(true, 'Normalize by the running maximum of v.'),
    eps: opt.nonNegative(1e-8, 'ε added after the square root.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (o, shape) => [
    { name: 'expAvg', shape },
    { name: 'negExpAvg', shape },
    { name: 'expAvgSq', shape },
    ...(o.amsBound ? [{ name: 'maxExpAvgSq', shape }] : []),
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2, beta0] = o.betas;
    const { lr, eps, weightDecay: lambda, decoupledWeightDecay, maximize } = o;
    const odd = t % 2 === 1;
    const pos = (odd ? slots.expAvg : slots.negExpAvg) as Float64Array;
    const neg = (odd ? slots.negExpAvg : slots.expAvg) as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const vMax = slots.maxExpAvgSq;
    const beta1Sq = beta1 ** 2;
    const noiseNorm = Math.sqrt((1 + beta0) ** 2 + beta0 ** 2);
    const stepSize = lr / (1 - powInt(beta1, t));
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const decay = 1 - lambda * (o.fixedDecay ? 1 : lr);
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (decoupledWeightDecay) theta[i] = (theta[i] as number) * decay;
      else if (lambda > 0) g = g + lambda * (theta[i] as number);
      pos[i] = beta1Sq * (pos[i] as number) + (1 - beta1Sq) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      let vHat = v[i] as number;
      if (vMax) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
      const denom = (Math.sqrt(vHat + V_EPS) + eps) / biasCorrection2Sqrt;
      const pn = ((pos[i] as number) * (1 + beta0) + -beta0 * (neg[i] as number)) * (1 / noiseNorm);
      // torch's addcdiv(θ, pn, denom, value = −η/c₁) evaluates θ + (value·pn)/denom, in that order.
      theta[i] = (theta[i] as number) + (-stepSize * pn) / denom;
    }
  },
});

/**
 * Creates an AdaPNM spec; see {@link adapnmDefinition} for the update rule and the formulation followed.
 *
 * @example
 * ```ts
 * const spec = adapnm({ lr: 1e-3, betas: [0.9, 0.999, 1], weightDecay: 0.01 }); // decoupled decay, amsBound
 * ```
 */
export function adapnm(options?: Partial<AdapnmOptions & CommonOptions>): OptimizerSpec<AdapnmOptions> {
  return makeSpec(adapnmDefinition, options);
}
