import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';
import { checkPhases, warmupFactor, warmupSchema } from './warmup.js';

/** Shape of the decay (cooldown) phase of {@link wsd}. */
export type WsdDecayShape = 'linear' | 'cosine' | '1-sqrt';

/** Options of {@link wsd}. */
export interface WsdOptions {
  /** Number of warmup steps W (0: none). Required. */
  readonly warmupSteps: number;
  /** Length D ≥ 1 of the decay phase, which ends at T. Required. */
  readonly decaySteps: number;
  /** Step T at which the decay ends; W + D ≤ T. Required. */
  readonly totalSteps: number;
  /** Shape h of the decay: `linear`, `cosine` or `1-sqrt`. Default `linear`. */
  readonly decayShape: WsdDecayShape;
  /** Factor s of the learning rate at the first step (n = 0). Default 0. */
  readonly warmupStartFactor: number;
  /** Factor f of the final learning rate, reached at n = T and kept afterwards. Default 0. */
  readonly finalFactor: number;
}

/**
 * Warmup–stable–decay ("trapezoidal"): linear warmup, a constant learning rate, then a decay over the last D
 * steps. This follows Hägele, Bakouch, Kosson, Ben Allal, Von Werra & Jaggi, "Scaling Laws and
 * Compute-Optimal Training Beyond Fixed Training Durations" (NeurIPS 2024) and their code
 * (`wsd_schedule` in epfml/schedules-and-scaling, `src/optim/utils.py`), with the decay length given in steps
 * (their `fract_decay`·T) and their `1/init_div_factor` named s. With n the number of steps applied so far:
 *
 * $$
 * \eta_n = \eta \cdot \begin{cases}
 *   s + (1 - s)\, n / W & n < W \\
 *   1 & W \le n < T - D \\
 *   f + (1 - f)\, h(p), \quad p = \dfrac{n - (T - D)}{D} & T - D \le n < T \\
 *   f & n \ge T
 * \end{cases}
 * \qquad
 * h(p) = \begin{cases} 1 - p & \text{linear} \\ \tfrac{1}{2}(1 + \cos \pi p) & \text{cosine} \\ 1 - \sqrt{p} & \text{1-sqrt} \end{cases}
 * $$
 *
 * The paper finds the 1-sqrt cooldown best; their code's default, and ours, is linear. Their code's default
 * warmup starts at s = 1/100; ours at s = 0, as the other warmup schedules here. The same schedule with a
 * cosine decay is the WSD of MiniCPM (Hu et al. 2024).
 */
export const wsdDefinition: ScheduleDefinition<WsdOptions> = {
  name: 'wsd',
  title: 'Warmup–stable–decay',
  schema: {
    warmupSteps: warmupSchema.warmupSteps,
    decaySteps: opt.count(1, 'Length D of the decay phase at the end.'),
    totalSteps: opt.count(1, 'Step T at which the decay ends.'),
    decayShape: opt.oneOf(['linear', 'cosine', '1-sqrt'], 'linear', 'Shape of the decay.'),
    warmupStartFactor: warmupSchema.warmupStartFactor,
    finalFactor: warmupSchema.finalFactor,
  },
  required: ['warmupSteps', 'decaySteps', 'totalSteps'],
  check: (o, where) => checkPhases(where, o.warmupSteps, o.totalSteps, o.decaySteps),
  lrAt({ warmupSteps: w, decaySteps: d, totalSteps: t, decayShape, warmupStartFactor: s, finalFactor: f }, baseLr, n) {
    if (n < w) return baseLr * warmupFactor(s, n, w);
    if (n < t - d) return baseLr;
    if (n >= t) return baseLr * f;
    const p = (n - (t - d)) / d;
    const h = decayShape === 'linear' ? 1 - p : decayShape === 'cosine' ? (1 + Math.cos(Math.PI * p)) / 2 : 1 - Math.sqrt(p);
    return baseLr * (f + (1 - f) * h);
  },
};

/**
 * Warmup, constant learning rate, then decay over the last `decaySteps` steps; see {@link wsdDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(adamw({ lr: 1e-3 }), wsd({ warmupSteps: 1000, decaySteps: 2000, totalSteps: 20_000, decayShape: '1-sqrt' }));
 * ```
 */
export function wsd(options: Partial<WsdOptions> & { warmupSteps: number; decaySteps: number; totalSteps: number }): ScheduleSpec {
  return makeScheduleSpec(wsdDefinition, options);
}
