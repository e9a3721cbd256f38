import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';
import { checkPhases, warmupFactor, warmupSchema } from './warmup.js';

/** Options of {@link warmupCosine}. */
export interface WarmupCosineOptions {
  /** Number of warmup steps W (0: none). Required. */
  readonly warmupSteps: number;
  /** Step T at which the cosine reaches the final learning rate; T > W. Required. */
  readonly totalSteps: number;
  /** Factor s of the learning rate at the first step (n = 0). Default 0. */
  readonly warmupStartFactor: number;
  /** Factor f of the final learning rate, reached at n = T and kept afterwards. Default 0. */
  readonly finalFactor: number;
}

/**
 * Linear warmup, then cosine decay: the schedule of Hugging Face Transformers'
 * `get_cosine_schedule_with_warmup` (with `num_cycles = 0.5`) and `get_cosine_with_min_lr_schedule_with_warmup`
 * (`min_lr_rate` = f), generalised by a warmup start factor s. With n the number of steps applied so far:
 *
 * $$
 * \eta_n = \eta \cdot \begin{cases}
 *   s + (1 - s)\, n / W & n < W \\
 *   f + (1 - f)\, \dfrac{1 + \cos(\pi p)}{2}, \quad p = \dfrac{n - W}{T - W} & W \le n < T \\
 *   f & n \ge T
 * \end{cases}
 * $$
 *
 * With the defaults s = f = 0 this is Transformers' schedule for n ≤ T (so the first update has learning rate
 * 0, as there). Transformers lets the cosine rise again after T; here the learning rate stays at fη.
 */
export const warmupCosineDefinition: ScheduleDefinition<WarmupCosineOptions> = {
  name: 'warmupCosine',
  title: 'Linear warmup, cosine decay',
  schema: {
    warmupSteps: warmupSchema.warmupSteps,
    totalSteps: opt.count(1, 'Step T at which the decay ends.'),
    warmupStartFactor: warmupSchema.warmupStartFactor,
    finalFactor: warmupSchema.finalFactor,
  },
  required: ['warmupSteps', 'totalSteps'],
  check: (o, where) => checkPhases(where, o.warmupSteps, o.totalSteps),
  lrAt({ warmupSteps: w, totalSteps: t, warmupStartFactor: s, finalFactor: f }, baseLr, n) {
    if (n < w) return baseLr * warmupFactor(s, n, w);
    if (n >= t) return baseLr * f;
    const p = (n - w) / (t - w);
    return baseLr * (f + ((1 - f) * (1 + Math.cos(Math.PI * p))) / 2);
  },
};

/**
 * Linear warmup over `warmupSteps`, then cosine decay to `finalFactor`·lr at `totalSteps`; see
 * {@link warmupCosineDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(adamw({ lr: 3e-4 }), warmupCosine({ warmupSteps: 1000, totalSteps: 100_000, finalFactor: 0.1 }));
 * ```
 */
export function warmupCosine(options: Partial<WarmupCosineOptions> & { warmupSteps: number; totalSteps: number }): ScheduleSpec {
  return makeScheduleSpec(warmupCosineDefinition, options);
}
