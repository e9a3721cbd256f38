import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { powInt } from '../math.js';

/** Options of {@link lamb}; names and defaults as torch-optimizer's `Lamb` (camelCased). */
export interface LambOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the moment estimates, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to √v (not bias-corrected) before dividing. Default 1e-6. */
  readonly eps: number;
  /** λ: λθ is added to the Adam step before its norm is taken (decoupled from the moments). Default 0. */
  readonly weightDecay: number;
  /** The weight norm ‖θ‖ is clamped to [0, clampValue] in the trust ratio. Default 10. */
  readonly clampValue: number;
  /** Fix the trust ratio at 1 (an Adam-like step with decoupled decay), for comparison. Default false. */
  readonly adam: boolean;
  /** Multiply the step by the bias correction √(1−β₂ᵗ)/(1−β₁ᵗ). Default false, as torch-optimizer. */
  readonly debias: boolean;
}

/**
 * LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", ICLR 2020),
 * following torch-optimizer's `Lamb` (jettify/pytorch-optimizer, `torch_optimizer/lamb.py`, the version with
 * `clamp_value` and `debias`) operation for operation. Each parameter tensor gets its own trust ratio from two
 * norms taken over the whole tensor (flattened): the clamped weight norm and the norm of the Adam step.
 *
 * With gradient g_t of the loss at θ_{t−1} and c the `clampValue`:
 *
 * $$
 * \begin{aligned}
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * u_t &= \frac{m_t}{\sqrt{v_t} + \epsilon} + \lambda\,\theta_{t-1} \\
 * r_t &= \begin{cases}
 *   1 & \text{adam, or } \min(\lVert\theta_{t-1}\rVert, c) = 0, \text{ or } \lVert u_t\rVert = 0 \\
 *   \min(\lVert\theta_{t-1}\rVert, c)\,/\,\lVert u_t\rVert & \text{otherwise}
 * \end{cases} \\
 * s_t &= \begin{cases} \sqrt{1-\beta_2^t}\,/\,(1-\beta_1^t) & \text{debias} \\ 1 & \text{otherwise} \end{cases} \\
 * \theta_t &= \theta_{t-1} - \eta\, s_t\, r_t\, u_t
 * \end{aligned}
 * $$
 *
 * Norms are Euclidean over all elements of the tensor. Away from the clamp and the zero-norm cases the step has
 * length η·s_t·‖θ_{t−1}‖ whatever the gradient's scale: that is the point of the trust ratio.
 *
 * Differences from the paper (Algorithm 2, arXiv 1904.00962): the paper bias-corrects m and v before dividing
 * (so ε meets the corrected √v̂), whereas torch-optimizer by default does not correct at all ("paper v3 does not
 * use debiasing") and with `debias` folds the correction into the step size, leaving ε on the uncorrected √v;
 * the paper's scaling function φ is the identity or a clamp to [γ_l, γ_u], here a clamp to [0, c]; the paper
 * applies the ratio per layer, here per parameter tensor (a layer's weight and bias get separate ratios).
 * Notes on torch-optimizer itself: its docstring says ε defaults to 1e-8 but the code uses 1e-6 (we use the
 * code's 1e-6); it rejects lr = 0 (older versions accepted it) while lr here may be 0, as for every optimizer
 * in this library (warm-up schedules start there); `clampValue`, `adam` and `debias` are optimizer-wide
 * attributes there and ordinary, group-overridable options here. With `adam: true` the step is
 * η·s_t·(m/(√v+ε) + λθ), which for λ = 0, ε = 0 and `debias` equals torch.optim.Adam's step with ε = 0.
 * The LAMB section of seed 000 quotes the same torch-optimizer code; its formula puts ε inside the square
 * root and η inside the normalized update (which would make the step length independent of η), neither of
 * which the code does.
 *
 * State: `expAvg` (m), `expAvgSq` (v).
 */
export const lambDefinition = defineOptimizer<LambOptions>({
  name: 'lamb',
  title: 'LAMB',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.999]),
    eps: opt.nonNegative(1e-6, 'ε added to √v before dividing.'),
    weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ, added to the Adam step before the trust ratio.'),
    clampValue: opt.nonNegative(10, 'Upper clamp c of the weight norm in the trust ratio.'),
    adam: opt.flag(false, 'Fix the trust ratio at 1 (Adam-like step, for comparison).'),
    debias: opt.flag(false, 'Scale the step by the bias correction √(1−β₂ᵗ)/(1−β₁ᵗ).'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
  ],
  update({ options: o, param: theta, grad: g, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, clampValue, adam, debias } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const s = debias ? Math.sqrt(1 - powInt(beta2, t)) / (1 - powInt(beta1, t)) : 1;
    const stepSize = lr * s;

    // ‖θ_{t−1}‖, clamped to [0, c].
    let thetaSq = 0;
    for (let i = 0; i < theta.length; i++) thetaSq += (theta[i] as number) * (theta[i] as number);
    const weightNorm = Math.min(Math.max(Math.sqrt(thetaSq), 0), clampValue);

    // Moments, and the Adam step u with decoupled decay.
    const u = new Float64Array(theta.length);
    let uSq = 0;
    for (let i = 0; i < theta.length; i++) {
      const gi = g[i] as number;
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * gi;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
      let ui = (m[i] as number) / (Math.sqrt(v[i] as number) + eps);
      if (lambda !== 0) ui = ui + lambda * (theta[i] as number);
      u[i] = ui;
      uSq += ui * ui;
    }
    const adamNorm = Math.sqrt(uSq);

    // Trust ratio, 1 when either norm is 0 (as torch-optimizer: a NaN norm gives a NaN ratio).
    let trustRatio = weightNorm === 0 || adamNorm === 0 ? 1 : weightNorm / adamNorm;
    if (adam) trustRatio = 1;

    for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) - stepSize * trustRatio * (u[i] as number);
  },
});

/**
 * Creates a LAMB spec; see {@link lambDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = lamb({ lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export function lamb(options?: Partial<LambOptions & CommonOptions>): OptimizerSpec<LambOptions> {
  return makeSpec(lambDefinition, options);
}
