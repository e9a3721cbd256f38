import { powInt } from '../math.js';
import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link exponential}; the name as `torch.optim.lr_scheduler.ExponentialLR`. */
export interface ExponentialOptions {
  /** Factor γ applied every step. Required (PyTorch has no default). */
  readonly gamma: number;
}

/**
 * Exponential decay, the closed form of `torch.optim.lr_scheduler.ExponentialLR` (`_get_closed_form_lr`),
 * with n the number of steps applied so far:
 *
 * $$
 * \eta_n = \eta \, \gamma^{n}
 * $$
 *
 * γ^n is computed correctly rounded (`powInt`, `src/math.ts`), as glibc's `pow` in PyTorch's closed form.
 *
 * PyTorch's `step()` multiplies the current learning rate by γ each time instead; over 200 steps the two
 * differ by a few ulps (measured in `test/schedules.test.ts`).
 */
export const exponentialDefinition: ScheduleDefinition<ExponentialOptions> = {
  name: 'exponential',
  title: 'Exponential decay (ExponentialLR)',
  schema: {
    gamma: opt.nonNegative(1, 'Factor γ applied every step.'),
  },
  required: ['gamma'],
  lrAt: ({ gamma }, baseLr, n) => baseLr * powInt(gamma, n),
};

/**
 * Multiply the learning rate by γ every step; see {@link exponentialDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(adam({ lr: 1e-3 }), exponential({ gamma: 0.999 }));
 * ```
 */
export function exponential(options: Partial<ExponentialOptions> & { gamma: number }): ScheduleSpec {
  return makeScheduleSpec(exponentialDefinition, options);
}
