import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link adanorm}; names and defaults as pytorch_optimizer's `AdaNorm`. */
export interface AdanormOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the first and second moments, each in [0, 1). Default (0.9, 0.99). */
  readonly betas: readonly [number, number];
  /** γ (`r` upstream), decay rate of the gradient-norm history e. Default 0.95. */
  readonly r: number;
  /** Weight decay λ: decoupled (θ·(1 − ηλ)) or L2 (λθ added to the gradient), see `decoupledWeightDecay`. Default 0. */
  readonly weightDecay: number;
  /** Decoupled weight decay as in AdamW (`weight_decouple` upstream). Default true. */
  readonly decoupledWeightDecay: boolean;
  /** With decoupled decay, θ·(1 − λ) instead of θ·(1 − ηλ) (`fixed_decay` upstream). Default false. */
  readonly fixedDecay: boolean;
  /** Normalize by the running maximum of v (`ams_bound` upstream; AMSGrad's maximum). Default false. */
  readonly amsBound: boolean;
  /** ε added after the square root. Default 1e-8. */
  readonly eps: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/** The constant pytorch_optimizer adds to v under the square root (`exp_avg_sq_eps` of `apply_ams_bound`). */
export const ADANORM_V_EPS = 1e-15;

/**
 * AdaNorm in its AdamNorm form (Dubey, Singh, Basha, Chaudhuri, Chaudhuri, "AdaNorm: Adaptive Gradient Norm
 * Correction based Optimizer for CNNs", WACV 2023, arXiv 2210.06364): Adam whose first moment is fed a gradient
 * rescaled to the running average of past gradient norms whenever the current norm falls below it, so that
 * small gradients late in training keep a representative size. One norm per parameter tensor. Follows
 * pytorch_optimizer's `AdaNorm` (kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/adanorm.py with
 * `BaseOptimizer.get_adanorm_gradient`, `apply_weight_decay` and `apply_ams_bound` of base/optimizer.py, commit
 * 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16), and its defaults.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`), e_0 = 0, c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ, δ = 10⁻¹⁵:
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}(1 - \eta\lambda)\ \text{(decoupled;}\ 1-\lambda\ \text{with fixedDecay) or}\ g_t \leftarrow g_t + \lambda\theta_{t-1}\ \text{(L2)} \\
 * e_t &= \gamma\, e_{t-1} + (1-\gamma)\, \lVert g_t \rVert_2 \\
 * s_t &= \begin{cases} g_t\, e_t / \lVert g_t \rVert_2 & e_t > \lVert g_t \rVert_2 \\ g_t & \text{otherwise} \end{cases} \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, s_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \qquad (\hat v_t = \max(\hat v_{t-1}, v_t)\ \text{with amsBound, else}\ v_t) \\
 * \theta_t &= \theta - \frac{\eta}{c_1}\, \frac{m_t}{(\sqrt{\hat v_t + \delta} + \epsilon)/\sqrt{c_2}}
 * \end{aligned}
 * $$
 *
 * Warning — formulation: the second moment takes the plain gradient (only the first moment sees s_t), as in the
 * paper's AdamNorm and upstream; δ = 10⁻¹⁵ is always added under the root (upstream's hidden constant) and ε is
 * added before dividing by √c₂. Two departures from upstream, both where upstream is broken: its current
 * `get_adanorm_gradient` computes `exp_grad_norm.mul(r).add_(…)` out of place, so e_t stays 0 and AdaNorm
 * degenerates to Adam — descent keeps the history as the paper and earlier pytorch_optimizer releases
 * (`mul_`) do; and where ‖g_t‖ = 0 (an all-zero gradient after some history) upstream divides 0 by 0 and writes
 * NaN into m, while descent takes s_t = g_t = 0. The decay multiplies θ even when λ = 0 (by exactly 1).
 *
 * State: `expAvg` (m), `expAvgVar` (v), `expGradNorm` (e, one number, shape [1]), and `maxExpAvgVar` with amsBound.
 */
export const adanormDefinition = defineOptimizer<AdanormOptions>({
  name: 'adanorm',
  title: 'AdaNorm',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.99]),
    r: opt.unitHalfOpen(0.95, 'γ, decay rate of the gradient-norm history.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (decoupled or L2, see decoupledWeightDecay).'),
    decoupledWeightDecay: opt.flag(true, 'Decoupled weight decay θ ← θ·(1 − ηλ) instead of L2.'),
    fixedDecay: opt.flag(false, 'Decoupled decay θ·(1 − λ), not scaled by η.'),
    amsBound: opt.flag(false, 'Normalize by the running maximum of v.'),
    eps: opt.nonNegative(1e-8, 'ε added after the square root.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgVar', shape },
    { name: 'expGradNorm', shape: [1] },
    ...(o.amsBound ? [{ name: 'maxExpAvgVar', shape }] : []),
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, r, weightDecay: lambda, decoupledWeightDecay, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgVar as Float64Array;
    const e = slots.expGradNorm as Float64Array;
    const vMax = slots.maxExpAvgVar;
    const stepSize = lr / (1 - powInt(beta1, t));
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const decay = 1 - lambda * (o.fixedDecay ? 1 : lr);
    const n = theta.length;

    const g = new Float64Array(n);
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      let gi = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (decoupledWeightDecay) theta[i] = (theta[i] as number) * decay;
      else if (lambda > 0) gi = gi + lambda * (theta[i] as number);
      g[i] = gi;
      sumSq += gi * gi;
    }
    const gradNorm = Math.sqrt(sumSq);
    e[0] = r * (e[0] as number) + (1 - r) * gradNorm;
    const rescale = (e[0] as number) > gradNorm && gradNorm !== 0;

    for (let i = 0; i < n; i++) {
      const gi = g[i] as number;
      const s = rescale ? (gi * (e[0] as number)) / gradNorm : gi;
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * s;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
      let vHat = v[i] as number;
      if (vMax) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
      const denom = (Math.sqrt(vHat + ADANORM_V_EPS) + eps) / biasCorrection2Sqrt;
      // torch's addcdiv(θ, m, denom, value = −η/c₁) evaluates θ + (value·m)/denom, in that order.
      theta[i] = (theta[i] as number) + (-stepSize * (m[i] as number)) / denom;
    }
  },
});

/**
 * Creates an AdaNorm (AdamNorm) spec; see {@link adanormDefinition} for the update rule and the formulation.
 *
 * @example
 * ```ts
 * const spec = adanorm({ lr: 1e-3, r: 0.95, weightDecay: 1e-2 }); // decoupled decay, as upstream
 * ```
 */
export function adanorm(options?: Partial<AdanormOptions & CommonOptions>): OptimizerSpec<AdanormOptions> {
  return makeSpec(adanormDefinition, options);
}
