import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { powInt } from '../math.js';
import { opt } from '../options.js';
import { scheduleFreeAverageWeight, scheduleFreeWarmup } from './schedule-free-sgd.js';

/**
 * Options of {@link scheduleFreeAdamw}; names and defaults as `AdamWScheduleFreeReference` of
 * facebookresearch/schedule_free (`foreach` is not offered: it is ignored there).
 */
export interface ScheduleFreeAdamwOptions {
  /** Learning rate γ. Default 0.0025. */
  readonly lr: number;
  /** (β₁, β₂): β₁ interpolates between x and z, β₂ is the decay of the second moment, each in [0, 1). Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** ε added to the denominator after the square root. Default 1e-8. */
  readonly eps: number;
  /** Weight decay λ, subtracted from z as γ_t·λ·y (or γ_t·λ·z with `decayAtZ`). Default 0. */
  readonly weightDecay: number;
  /** Linear warmup of the learning rate over this many steps (0: none). Default 0. */
  readonly warmupSteps: number;
  /** Polynomial weighting power r of the average: weights t^r. Default 0. */
  readonly r: number;
  /** The average's weights are (max lr so far)^weightLrPower (0: uniform). Default 2. */
  readonly weightLrPower: number;
  /** Compute the weight decay at z instead of y. Default false. */
  readonly decayAtZ: boolean;
}

/**
 * Schedule-Free AdamW (Defazio et al., "The Road Less Scheduled", NeurIPS 2024): the Schedule-Free y/z/x
 * sequences of {@link scheduleFreeSgdDefinition} with an Adam-preconditioned base step (no first moment: the
 * interpolation plays its part). Follows `AdamWScheduleFreeReference`
 * (schedulefree/adamw_schedulefree_reference.py of facebookresearch/schedule_free, commit 1fb6be51) operation for
 * operation, and its defaults (lr 0.0025, weight_lr_power 2).
 *
 * With gradient g_t at y_{t−1} (the parameters), warmup s_t = min(1, t/T_w), the bias correction folded into the
 * step γ_t = γ·s_t·√(1 − β₂ᵗ), γ_max = max_{i≤t} γ_i, weights w_t = t^r·γ_max^p and c_{t+1} = w_t / Σ_{i≤t} w_i:
 *
 * $$
 * \begin{aligned}
 * z &\leftarrow z_{t-1} - \gamma_t \lambda\, y_{t-1} \quad (\text{or}\ z_{t-1} - \gamma_t\lambda\, z_{t-1}\ \text{with decayAtZ}) \\
 * v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * z_t &= z - \gamma_t\, \frac{g_t}{\sqrt{v_t} + \epsilon} \\
 * x_t &= (1 - c_{t+1})\, x_{t-1} + c_{t+1}\, z_t \\
 * y_t &= \beta_1 x_t + (1 - \beta_1)\, z_t \qquad (\theta \leftarrow y_t)
 * \end{aligned}
 * $$
 *
 * with z_0 = x_0 = y_0 = the parameter at its first update. Note γ_max, and so the weights, include the bias
 * correction √(1 − β₂ᵗ), as upstream.
 *
 * Evaluation weights: the parameters hold y (upstream's train mode); the average x is the state slot `x`, read
 * with `scheduleFreeEvalWeights(opt.exportState())` on any backend (see {@link scheduleFreeSgdDefinition} for why
 * descent has no train/eval switch).
 *
 * Warning: as for Schedule-Free SGD, k, γ_max and Σw are kept per parameter (`lrMax`, `weightSum`) rather than per
 * group; they agree unless a parameter misses a gradient. Upstream's dead first assignment `lr = max(lr, eps)` has
 * no effect there and none here. A descent LR schedule, if one is used, scales γ before the warmup.
 *
 * State: `z`, `x`, `expAvgSq` (v); scalars `lrMax` (initially −1) and `weightSum` (initially 0).
 */
export const scheduleFreeAdamwDefinition = defineOptimizer<ScheduleFreeAdamwOptions>({
  name: 'scheduleFreeAdamw',
  title: 'Schedule-Free AdamW',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(0.0025, 'Learning rate γ.'),
    betas: opt.betas([0.9, 0.999], 'β₁ (interpolation between x and z) and β₂ (second-moment decay).'),
    eps: opt.nonNegative(1e-8, 'ε added to the denominator.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ, applied to z at y (or at z with decayAtZ).'),
    warmupSteps: opt.number(0, 'Linear warmup of the learning rate over this many steps.', { min: { value: 0 }, integer: true }),
    r: opt.nonNegative(0, 'Polynomial weighting power r of the average.'),
    weightLrPower: opt.nonNegative(2, 'Weights of the average are (max lr)^weightLrPower.'),
    decayAtZ: opt.flag(false, 'Compute the weight decay at z instead of y.'),
  },
  slots: (_o, shape) => [
    { name: 'z', shape },
    { name: 'x', shape },
    { name: 'expAvgSq', shape },
  ],
  scalars: () => ({ lrMax: -1, weightSum: 0 }),
  update({ options: o, param: y, grad, slots, scalars, step: t }) {
    const [beta1, beta2] = o.betas;
    const { eps, weightDecay: decay, decayAtZ } = o;
    const z = slots.z as Float64Array;
    const x = slots.x as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const biasCorrection2 = 1 - powInt(beta2, t);
    const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps) * Math.sqrt(biasCorrection2);
    const ckp1 = scheduleFreeAverageWeight(scalars, lr, t, o.r, o.weightLrPower);
    if (t === 1) {
      z.set(y);
      x.set(y);
    }
    const decayRate = lr * decay;
    for (let i = 0; i < y.length; i++) {
      const g = grad[i] as number;
      if (decay !== 0) z[i] = (z[i] as number) - decayRate * (decayAtZ ? (z[i] as number) : (y[i] as number));
      v[i] = (v[i] as number) * beta2 + (1 - beta2) * g * g;
      const denom = Math.sqrt(v[i] as number) + eps;
      z[i] = (z[i] as number) - (lr * g) / denom;
      x[i] = (x[i] as number) * (1 - ckp1) + ckp1 * (z[i] as number);
      y[i] = (x[i] as number) * beta1 + (1 - beta1) * (z[i] as number);
    }
  },
});

/**
 * Creates a Schedule-Free AdamW spec; see {@link scheduleFreeAdamwDefinition} for the update rule and the defaults
 * followed.
 *
 * @example
 * ```ts
 * import { createReference, scheduleFreeAdamw, scheduleFreeEvalWeights, tensor } from '@descent/core';
 *
 * const w = tensor([1, -2]);
 * const opt = createReference(scheduleFreeAdamw({ lr: 0.05, warmupSteps: 10, weightDecay: 0.01 }), { w });
 * for (let i = 0; i < 20; i++) opt.step({ w: tensor([w.data[0]!, w.data[1]!]) }); // ∇½‖w‖² at y
 * const x = scheduleFreeEvalWeights(opt.exportState()).w; // evaluate the model at x
 * console.log(w.data, x?.data);
 * ```
 */
export function scheduleFreeAdamw(options?: Partial<ScheduleFreeAdamwOptions & CommonOptions>): OptimizerSpec<ScheduleFreeAdamwOptions> {
  return makeSpec(scheduleFreeAdamwDefinition, options);
}
