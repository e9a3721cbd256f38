import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { powInt } from '../math.js';
import { opt } from '../options.js';

/**
 * Options of {@link mars}; names and defaults as `MARS` of AGI-Arena/MARS (MARS/optimizers/mars.py) with
 * `mars_type="mars-adamw"` and `is_approx=True`, the only forms offered.
 */
export interface MarsOptions {
  /** Learning rate η of the MARS parameters. Default 3e-3. */
  readonly lr: number;
  /** (β₁, β₂) of the MARS parameters, each in [0, 1). Default (0.95, 0.99). */
  readonly betas: readonly [number, number];
  /** ε added to the bias-corrected root of the second moment. Default 1e-8. */
  readonly eps: number;
  /** Decoupled weight decay λ of the MARS parameters (θ·λ added to the step direction). Default 0. */
  readonly weightDecay: number;
  /** Normalize by the running maximum of v (AMSGrad), in both branches. Default false. */
  readonly amsgrad: boolean;
  /** γ, the scale of the variance-reduction term g_t − g_{t−1}. Default 0.025. */
  readonly gamma: number;
  /** Use MARS for every parameter; otherwise only 2-D parameters, the others get AdamW with the `*1d` options. Default false. */
  readonly optimize1d: boolean;
  /** Learning rate of the AdamW parameters (not 2-D, without `optimize1d`). Default 3e-3. */
  readonly lr1d: number;
  /** (β₁, β₂) of the AdamW parameters. Default (0.9, 0.95). */
  readonly betas1d: readonly [number, number];
  /** Decoupled weight decay of the AdamW parameters. Default 0.1. */
  readonly weightDecay1d: number;
}

/** Whether a parameter of this shape takes the MARS branch (upstream's `optimize_1d or is_grad_2d`). */
export function marsBranch(o: Pick<MarsOptions, 'optimize1d'>, shape: readonly number[]): boolean {
  return o.optimize1d || shape.length === 2;
}

/**
 * The 1-D branch's step size: upstream multiplies the group lr by `lr_1d_factor = lr_1d / lr` (taken at
 * construction). Both `lr` and `lr1d` are learning-rate options here, so a schedule scales both; at a constant
 * lr this is upstream's product exactly, and 0 when the scheduled lr is 0.
 */
export function marsLr1d(o: Pick<MarsOptions, 'lr' | 'lr1d'>): number {
  return o.lr > 0 ? o.lr * (o.lr1d / o.lr) : o.lr1d;
}

/**
 * MARS (Yuan, Liu, Wu, Zhou, Gu, "MARS: Unleashing the Power of Variance Reduction for Training Large Models",
 * 2024), the AdamW form "mars-adamw": Adam on a variance-reduced gradient c_t, a scaled correction of g_t by the
 * change of the gradient since the last step, clipped to norm 1. Follows `MARS` and `update_fn` of AGI-Arena/MARS
 * (MARS/optimizers/mars.py, commit 20c60c1c) operation for operation, with `mars_type="mars-adamw"`,
 * `is_approx=True` (g_{t−1} is the previous step's gradient at the previous point), and its defaults.
 *
 * For a 2-D parameter (or any, with `optimize1d`), with c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ and g_0 = 0:
 *
 * $$
 * \begin{aligned}
 * c_t &= g_t + \gamma\,\frac{\beta_1}{1-\beta_1}\,(g_t - g_{t-1}), \qquad
 *   c_t \leftarrow c_t / \lVert c_t\rVert_2 \ \text{if}\ \lVert c_t\rVert_2 > 1 \\
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, c_t \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, c_t^2 \qquad (\hat v_t = \max(\hat v_{t-1}, v_t)\ \text{with AMSGrad, else}\ v_t) \\
 * \theta_t &= \theta_{t-1} - \eta\left(\lambda\,\theta_{t-1} + \frac{m_t}{(\sqrt{\hat v_t}/\sqrt{c_2} + \epsilon)\, c_1}\right)
 * \end{aligned}
 * $$
 *
 * Other parameters (without `optimize1d`: every parameter that is not 2-D, vectors, scalars and conv kernels alike,
 * as upstream's `len(grad.shape) == 2`) take the same AdamW step on g_t itself, without the correction or the
 * clipping, with `betas1d`, `weightDecay1d` and the step size {@link marsLr1d}. Both branches store g_t as
 * `lastGrad`.
 *
 * Warning: only "mars-adamw" with the approximate g_{t−1} is offered: "mars-lion", "mars-shampoo" and
 * `is_approx=False` (which needs the gradient at the new point from an extra backward pass) are not. The ε is
 * added after the root and then multiplied by c₁, as upstream (not Adam's ε placement); the weight decay term is
 * computed even when λ = 0, as upstream. `lr1d` is a learning-rate option, so a schedule scales it with `lr`.
 *
 * State: `expAvg` (m), `lastGrad` (g_{t−1}), `expAvgSq` (v), and `maxExpAvgSq` with AMSGrad.
 */
export const marsDefinition = defineOptimizer<MarsOptions>({
  name: 'mars',
  title: 'MARS',
  kind: 'tensor',
  lrOptions: ['lr', 'lr1d'],
  schema: {
    lr: opt.nonNegative(3e-3, 'Learning rate η of the MARS parameters.'),
    betas: opt.betas([0.95, 0.99]),
    eps: opt.nonNegative(1e-8, 'ε added to the bias-corrected root of v.'),
    weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ of the MARS parameters.'),
    amsgrad: opt.flag(false, 'Normalize by the running maximum of v (AMSGrad).'),
    gamma: opt.nonNegative(0.025, 'Scale γ of the variance-reduction term.'),
    optimize1d: opt.flag(false, 'Use MARS for every parameter, not only 2-D ones.'),
    lr1d: opt.nonNegative(3e-3, 'Learning rate of the AdamW (not 2-D) parameters.'),
    betas1d: opt.betas([0.9, 0.95], 'Decay rates (β₁, β₂) of the AdamW (not 2-D) parameters.'),
    weightDecay1d: opt.nonNegative(0.1, 'Decoupled weight decay of the AdamW (not 2-D) parameters.'),
  },
  slots: (o, shape) => [
    { name: 'expAvg', shape },
    { name: 'lastGrad', shape },
    { name: 'expAvgSq', shape },
    ...(o.amsgrad ? [{ name: 'maxExpAvgSq', shape }] : []),
  ],
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const m = slots.expAvg as Float64Array;
    const last = slots.lastGrad as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const vMax = slots.maxExpAvgSq;
    const n = theta.length;
    const isMars = marsBranch(o, shape);
    const [beta1, beta2] = isMars ? o.betas : o.betas1d;
    const lr = isMars ? o.lr : marsLr1d(o);
    const wd = isMars ? o.weightDecay : o.weightDecay1d;
    // The direction the moments see: c_t (MARS) or g_t (AdamW).
    const c = new Float64Array(n);
    if (isMars) {
      const coef = o.gamma * (beta1 / (1 - beta1));
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        c[i] = ((grad[i] as number) - (last[i] as number)) * coef + (grad[i] as number);
        sumSq += (c[i] as number) * (c[i] as number);
      }
      const norm = Math.sqrt(sumSq);
      if (norm > 1) for (let i = 0; i < n; i++) c[i] = (c[i] as number) / norm;
    } else {
      c.set(grad);
    }
    const biasCorrection1 = 1 - powInt(beta1, t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - powInt(beta2, t));
    for (let i = 0; i < n; i++) {
      const ci = c[i] as number;
      m[i] = (m[i] as number) * beta1 + (1 - beta1) * ci;
      v[i] = (v[i] as number) * beta2 + (1 - beta2) * ci * ci;
      let vHat = v[i] as number;
      if (vMax) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
      const denom = (Math.sqrt(vHat) * invSqrtBc2 + o.eps) * biasCorrection1;
      theta[i] = (theta[i] as number) + ((theta[i] as number) * wd + (m[i] as number) / denom) * -lr;
      last[i] = grad[i] as number;
    }
  },
});

/**
 * Creates a MARS (mars-adamw) spec; see {@link marsDefinition} for the update rule and the defaults followed.
 *
 * @example
 * ```ts
 * import { createReference, mars, tensor } from '@descent/core';
 *
 * const w = tensor([0.5, -1, 2, 0.25], [2, 2]); // 2-D: the MARS branch
 * const b = tensor([1, -1]); // 1-D: AdamW with lr1d, betas1d, weightDecay1d
 * const opt = createReference(mars({ lr: 1e-2, gamma: 0.025, weightDecay: 0.01 }), { w, b });
 * opt.step({ w: tensor([0.5, -1, 2, 0.25], [2, 2]), b: tensor([1, -1]) });
 * console.log(w.data, b.data);
 * ```
 */
export function mars(options?: Partial<MarsOptions & CommonOptions>): OptimizerSpec<MarsOptions> {
  return makeSpec(marsDefinition, options);
}
