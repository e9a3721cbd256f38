import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';
import { checkPhases, warmupFactor, warmupSchema } from './warmup.js';

/** Options of {@link warmupLinear}. */
export interface WarmupLinearOptions {
  /** Number of warmup steps W (0: none). Required. */
  readonly warmupSteps: number;
  /** Step T at which the decay reaches the final learning rate; T > W. Required. */
  readonly totalSteps: number;
  /** Factor s of the learning rate at the first step (n = 0). Default 0. */
  readonly warmupStartFactor: number;
  /** Factor f of the final learning rate, reached at n = T and kept afterwards. Default 0. */
  readonly finalFactor: number;
}

/**
 * Linear warmup, then linear decay: the schedule of Hugging Face Transformers'
 * `get_linear_schedule_with_warmup`, generalised by a warmup start factor s and a final factor f. With n the
 * number of steps applied so far:
 *
 * $$
 * \eta_n = \eta \cdot \begin{cases}
 *   s + (1 - s)\, n / W & n < W \\
 *   f + (1 - f)(1 - p), \quad p = \dfrac{n - W}{T - W} & W \le n < T \\
 *   f & n \ge T
 * \end{cases}
 * $$
 *
 * With the defaults s = f = 0 this is Transformers' schedule (learning rate 0 at the first update and from
 * step T on).
 */
export const warmupLinearDefinition: ScheduleDefinition<WarmupLinearOptions> = {
  name: 'warmupLinear',
  title: 'Linear warmup, linear decay',
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
    return baseLr * (f + (1 - f) * (1 - p));
  },
};

/**
 * Linear warmup over `warmupSteps`, then linear decay to `finalFactor`·lr at `totalSteps`; see
 * {@link warmupLinearDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(adamw({ lr: 5e-5 }), warmupLinear({ warmupSteps: 500, totalSteps: 10_000 }));
 * ```
 */
export function warmupLinear(options: Partial<WarmupLinearOptions> & { warmupSteps: number; totalSteps: number }): ScheduleSpec {
  return makeScheduleSpec(warmupLinearDefinition, options);
}
