import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link pnm}; names and defaults as pytorch_optimizer's `PNM`. */
export interface PnmOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /**
   * (β₁, β₀): β₁ sets the momentum decay β₁² of each of the two buffers, β₀ the strength of the negative momentum
   * (the noise term), each in [0, 1]. Default (0.9, 1).
   */
  readonly betas: readonly [number, number];
  /** Weight decay λ: decoupled (θ·(1 − ηλ)) or L2 (λθ added to the gradient), see `decoupledWeightDecay`. Default 0. */
  readonly weightDecay: number;
  /** Decoupled weight decay as in AdamW (`weight_decouple` upstream). Default true. */
  readonly decoupledWeightDecay: boolean;
  /** With decoupled decay, θ·(1 − λ) instead of θ·(1 − ηλ) (`fixed_decay` upstream). Default false. */
  readonly fixedDecay: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Positive-Negative Momentum (Xie, Yuan, Zhu, Sugiyama, "Positive-Negative Momentum: Manipulating Stochastic
 * Gradient Noise to Improve Generalization", ICML 2021, arXiv 2103.17182), the SGD form: two momentum buffers,
 * each fed the gradient every other step; the step combines the one just updated (positively, 1 + β₀) with the
 * other (negatively, −β₀), which enlarges the gradient noise without changing the expected direction. Follows
 * pytorch_optimizer's `PNM` (kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/pnm.py with
 * `BaseOptimizer.apply_weight_decay`, commit 0283cf58f7b0d6cfdc7043fe6c54ce9c8c5efc16), and its defaults.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`), buffers A and B, (m⁺, m⁻) = (A, B) on odd steps t and
 * (B, A) on even ones, and ν = √((1 + β₀)² + β₀²):
 *
 * $$
 * \begin{aligned}
 * \theta &\leftarrow \theta_{t-1}(1 - \eta\lambda)\ \text{(decoupled;}\ 1-\lambda\ \text{with fixedDecay) or}\ g_t \leftarrow g_t + \lambda\theta_{t-1}\ \text{(L2)} \\
 * m^{+} &\leftarrow \beta_1^2\, m^{+} + (1-\beta_1^2)\, g_t \\
 * \theta_t &= \theta - \eta\, \frac{(1+\beta_0)\, m^{+} - \beta_0\, m^{-}}{\nu}
 * \end{aligned}
 * $$
 *
 * Warning — formulation: no bias correction (as upstream and the paper's Algorithm 1 in its SGD form). The parity
 * is that of the parameter's own step count (descent counts steps per parameter; upstream counts per param group,
 * so the two differ only for a parameter that missed a gradient on some step). Upstream accepts an `eps` it never
 * uses; descent does not offer it. The decay multiplies θ even when λ = 0 (by exactly 1).
 *
 * State: `posMomentum` (A) and `negMomentum` (B), named as upstream's buffers (they swap roles every step).
 */
export const pnmDefinition = defineOptimizer<PnmOptions>({
  name: 'pnm',
  title: 'PNM',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.pair(
      [0.9, 1],
      [
        { min: { value: 0 }, max: { value: 1 } },
        { min: { value: 0 }, max: { value: 1 } },
      ],
      '(β₁, β₀): momentum decay β₁² of each buffer, and the strength β₀ of the negative momentum.',
    ),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (decoupled or L2, see decoupledWeightDecay).'),
    decoupledWeightDecay: opt.flag(true, 'Decoupled weight decay θ ← θ·(1 − ηλ) instead of L2.'),
    fixedDecay: opt.flag(false, 'Decoupled decay θ·(1 − λ), not scaled by η.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'posMomentum', shape },
    { name: 'negMomentum', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta0] = o.betas;
    const { lr, weightDecay: lambda, decoupledWeightDecay, maximize } = o;
    const odd = t % 2 === 1;
    const pos = (odd ? slots.posMomentum : slots.negMomentum) as Float64Array;
    const neg = (odd ? slots.negMomentum : slots.posMomentum) as Float64Array;
    const beta1Sq = beta1 ** 2;
    const noiseNorm = Math.sqrt((1 + beta0) ** 2 + beta0 ** 2);
    const decay = 1 - lambda * (o.fixedDecay ? 1 : lr);
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (decoupledWeightDecay) theta[i] = (theta[i] as number) * decay;
      else if (lambda > 0) g = g + lambda * (theta[i] as number);
      pos[i] = beta1Sq * (pos[i] as number) + (1 - beta1Sq) * g;
      const delta = ((pos[i] as number) * (1 + beta0) + -beta0 * (neg[i] as number)) * (1 / noiseNorm);
      theta[i] = (theta[i] as number) + -lr * delta;
    }
  },
});

/**
 * Creates a PNM spec; see {@link pnmDefinition} for the update rule and the formulation followed.
 *
 * @example
 * ```ts
 * const spec = pnm({ lr: 0.1, betas: [0.9, 1], weightDecay: 5e-4 });
 * ```
 */
export function pnm(options?: Partial<PnmOptions & CommonOptions>): OptimizerSpec<PnmOptions> {
  return makeSpec(pnmDefinition, options);
}
