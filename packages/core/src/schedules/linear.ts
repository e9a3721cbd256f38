import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link linear}; names and defaults as `torch.optim.lr_scheduler.LinearLR`. */
export interface LinearOptions {
  /** Factor a of the learning rate at the first step, in (0, 1]. Default 1/3. */
  readonly startFactor: number;
  /** Factor b reached after `totalIters` steps and kept, in [0, 1]. Default 1. */
  readonly endFactor: number;
  /** Number of steps T over which the factor moves from a to b. Default 5. */
  readonly totalIters: number;
}

/**
 * Linear change of a multiplicative factor, the closed form of `torch.optim.lr_scheduler.LinearLR`
 * (`_get_closed_form_lr`, same operation order), with n the number of steps applied so far:
 *
 * $$
 * \eta_n = \eta \Big( a + \frac{(b - a)\,\min(n, T)}{T} \Big)
 * $$
 *
 * The ranges are PyTorch 2.x's: a in (0, 1], b in [0, 1]. PyTorch's `step()` multiplies by a ratio of
 * consecutive factors instead; the two agree to a few ulps.
 */
export const linearDefinition: ScheduleDefinition<LinearOptions> = {
  name: 'linear',
  title: 'Linear factor (LinearLR)',
  schema: {
    startFactor: opt.number(1 / 3, 'Factor of the learning rate at the first step.', { min: { value: 0, open: true }, max: { value: 1 } }),
    endFactor: opt.unitClosed(1, 'Factor reached after totalIters steps.'),
    totalIters: opt.count(5, 'Number of steps of the linear change.'),
  },
  lrAt: ({ startFactor: a, endFactor: b, totalIters: t }, baseLr, n) => baseLr * (a + ((b - a) * Math.min(t, n)) / t),
};

/**
 * Scale the learning rate by a factor moving linearly from `startFactor` to `endFactor` over `totalIters`
 * steps; see {@link linearDefinition}.
 *
 * @example
 * ```ts
 * const warmup = linear({ startFactor: 0.01, totalIters: 500 });
 * ```
 */
export function linear(options: Partial<LinearOptions> = {}): ScheduleSpec {
  return makeScheduleSpec(linearDefinition, options);
}
