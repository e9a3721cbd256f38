import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import type { PortableState } from '../state.js';
import { decodeArray } from '../state.js';

/**
 * Options of {@link scheduleFreeSgd}; names and defaults as `SGDScheduleFreeReference` of facebookresearch/schedule_free
 * (`foreach` is not offered: it is ignored there).
 */
export interface ScheduleFreeSgdOptions {
  /** Learning rate γ. Default 1.0. */
  readonly lr: number;
  /** Interpolation β between the average x and the base sequence z, in (0, 1). Default 0.9. */
  readonly momentum: number;
  /** L2 weight decay λ, added to the gradient at y (the parameters). Default 0. */
  readonly weightDecay: number;
  /** Linear warmup of the learning rate over this many steps (0: none). Default 0. */
  readonly warmupSteps: number;
  /** Polynomial weighting power r of the average: weights (t)^r. Default 0. */
  readonly r: number;
  /** The average's weights are (max lr so far)^weightLrPower (0: uniform). Default 2. */
  readonly weightLrPower: number;
}

/**
 * The host scalars shared by both Schedule-Free optimizers, in the order of the upstream reference code: given the
 * warmed-up learning rate `lr` of this step (for AdamW already multiplied by √(1 − β₂ᵗ)), updates the per-parameter
 * scalars `lrMax` and `weightSum` in place and returns c_{t+1} = w_t / Σ w (0 when the sum is 0, as upstream's
 * `ZeroDivisionError` branch).
 */
export function scheduleFreeAverageWeight(scalars: Record<string, number>, lr: number, t: number, r: number, weightLrPower: number): number {
  const lrMax = Math.max(lr, scalars.lrMax as number);
  scalars.lrMax = lrMax;
  const weight = t ** r * lrMax ** weightLrPower;
  const weightSum = (scalars.weightSum as number) + weight;
  scalars.weightSum = weightSum;
  return weightSum === 0 ? 0 : weight / weightSum;
}

/** Upstream's linear warmup: (k + 1)/warmupSteps while k = t − 1 < warmupSteps, then 1. */
export function scheduleFreeWarmup(t: number, warmupSteps: number): number {
  return t - 1 < warmupSteps ? t / warmupSteps : 1;
}

/**
 * Schedule-Free SGD (Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky, "The Road Less Scheduled", NeurIPS
 * 2024): SGD on a base sequence z, an online weighted average x of the z's, and gradients taken at the
 * interpolation y between them — no learning-rate schedule is needed. Follows `SGDScheduleFreeReference`
 * (schedulefree/sgd_schedulefree_reference.py of facebookresearch/schedule_free, commit 59ed9b66) operation for
 * operation, and its defaults (lr 1, momentum 0.9, weight_lr_power 2).
 *
 * With gradient g_t at y_{t−1} (the parameters), warmup s_t = min(1, t/T_w), γ_t = γ·s_t, γ_max = max_{i≤t} γ_i,
 * weights w_t = t^r·γ_max^p (p = weightLrPower) and c_{t+1} = w_t / Σ_{i≤t} w_i:
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\, y_{t-1} \\
 * z_t &= z_{t-1} - \gamma_t\, g_t \\
 * x_t &= (1 - c_{t+1})\, x_{t-1} + c_{t+1}\, z_t \\
 * y_t &= \beta\, x_t + (1 - \beta)\, z_t \qquad (\theta \leftarrow y_t)
 * \end{aligned}
 * $$
 *
 * with z_0 = x_0 = y_0 = the parameter at its first update.
 *
 * Evaluation weights: as upstream in train mode, the parameters hold y. The average x — the weights to evaluate
 * and to ship — is the state slot `x`; get it with {@link scheduleFreeEvalWeights} from `exportState()` (any
 * backend), which is what upstream's `optimizer.eval()` copies into the parameters. descent has no train/eval
 * mode: the parameters are never swapped, so a step is always a training step, the state is the same in any
 * "mode", and it travels unchanged through `exportState`/`importState` between backends. To evaluate, load x into
 * a copy of the model (or into the model, and the parameters back from y = the model's weights before stepping
 * again).
 *
 * Warning: upstream keeps k, γ_max and Σw per parameter group and advances them for the whole group every step;
 * descent keeps `lrMax` and `weightSum` per parameter (host scalars) and counts t per parameter, as PyTorch's
 * Adam counts `state['step']`. They agree unless a parameter misses a gradient on some step. Upstream's
 * redundant copy `y` of the parameters is not kept (y is the parameter). A descent LR schedule, if one is used,
 * scales γ before the warmup.
 *
 * State: `z`, `x`; scalars `lrMax` (initially −1) and `weightSum` (initially 0).
 */
export const scheduleFreeSgdDefinition = defineOptimizer<ScheduleFreeSgdOptions>({
  name: 'scheduleFreeSgd',
  title: 'Schedule-Free SGD',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1.0, 'Learning rate γ.'),
    momentum: opt.number(0.9, 'Interpolation β between the average x and the base sequence z.', { min: { value: 0, open: true }, max: { value: 1, open: true } }),
    weightDecay: opt.nonNegative(0, 'L2 weight decay λ, evaluated at y.'),
    warmupSteps: opt.number(0, 'Linear warmup of the learning rate over this many steps.', { min: { value: 0 }, integer: true }),
    r: opt.nonNegative(0, 'Polynomial weighting power r of the average.'),
    weightLrPower: opt.nonNegative(2, 'Weights of the average are (max lr)^weightLrPower.'),
  },
  slots: (_o, shape) => [
    { name: 'z', shape },
    { name: 'x', shape },
  ],
  scalars: () => ({ lrMax: -1, weightSum: 0 }),
  update({ options: o, param: y, grad, slots, scalars, step: t }) {
    const { momentum: beta, weightDecay: lambda } = o;
    const z = slots.z as Float64Array;
    const x = slots.x as Float64Array;
    const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps);
    const ckp1 = scheduleFreeAverageWeight(scalars, lr, t, o.r, o.weightLrPower);
    if (t === 1) {
      z.set(y);
      x.set(y);
    }
    for (let i = 0; i < y.length; i++) {
      let g = grad[i] as number;
      if (lambda !== 0) g = g + lambda * (y[i] as number);
      z[i] = (z[i] as number) - lr * g;
      x[i] = (x[i] as number) * (1 - ckp1) + ckp1 * (z[i] as number);
      y[i] = (x[i] as number) * beta + (1 - beta) * (z[i] as number);
    }
  },
});

/**
 * Creates a Schedule-Free SGD spec; see {@link scheduleFreeSgdDefinition} for the update rule, the defaults and
 * where the evaluation weights are.
 *
 * @example
 * ```ts
 * import { createReference, scheduleFreeEvalWeights, scheduleFreeSgd, tensor } from '@descent/core';
 *
 * const w = tensor([1, -2]);
 * const opt = createReference(scheduleFreeSgd({ lr: 0.1, warmupSteps: 2 }), { w });
 * for (let i = 0; i < 3; i++) opt.step({ w: tensor([w.data[0]!, w.data[1]!]) }); // ∇½‖w‖² at y
 * const { w: x } = scheduleFreeEvalWeights(opt.exportState()); // the averaged weights to evaluate
 * console.log(w.data, x?.data);
 * ```
 */
export function scheduleFreeSgd(options?: Partial<ScheduleFreeSgdOptions & CommonOptions>): OptimizerSpec<ScheduleFreeSgdOptions> {
  return makeSpec(scheduleFreeSgdDefinition, options);
}

/**
 * The evaluation weights x of a Schedule-Free optimizer (`scheduleFreeSgd`, `scheduleFreeAdamw`) from its exported
 * state, by parameter name, as Float64 arrays — what upstream's `optimizer.eval()` copies into the parameters.
 * Parameters that have not been updated yet are left out (their evaluation weights are the parameters themselves,
 * as upstream leaves a parameter without state alone). Works on the state of any backend.
 */
export function scheduleFreeEvalWeights(state: PortableState): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [name, p] of Object.entries(state.params)) {
    const x = p.slots.x;
    if (p.step === 0 || !x) continue;
    const size = x.shape.reduce((a, b) => a * b, 1);
    Object.defineProperty(out, name, { value: { shape: [...x.shape], data: decodeArray(x.data, size, `${name}.x`) }, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
