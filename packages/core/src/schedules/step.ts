import { powInt } from '../math.js';
import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link step}; names and defaults as `torch.optim.lr_scheduler.StepLR`. */
export interface StepOptions {
  /** Period s of the decay, in steps. Required. */
  readonly stepSize: number;
  /** Factor γ applied every s steps. Default 0.1. */
  readonly gamma: number;
}

/**
 * Step decay, the closed form of `torch.optim.lr_scheduler.StepLR` (`_get_closed_form_lr`), with n the number
 * of steps applied so far:
 *
 * $$
 * \eta_n = \eta \, \gamma^{\lfloor n / s \rfloor}
 * $$
 *
 * The power γ^⌊n/s⌋ is computed correctly rounded (`powInt`, `src/math.ts`), as glibc's `pow` in PyTorch's closed form.
 *
 * PyTorch's `step()` multiplies the current learning rate by γ every s steps instead; the two agree to a
 * few ulps (checked against PyTorch in `test/schedules.test.ts`).
 */
export const stepDefinition: ScheduleDefinition<StepOptions> = {
  name: 'step',
  title: 'Step decay (StepLR)',
  schema: {
    stepSize: opt.count(1, 'Period s of the decay, in steps.'),
    gamma: opt.nonNegative(0.1, 'Factor γ applied every stepSize steps.'),
  },
  required: ['stepSize'],
  lrAt: ({ stepSize, gamma }, baseLr, n) => baseLr * powInt(gamma, Math.floor(n / stepSize)),
};

/**
 * Multiply the learning rate by γ every `stepSize` steps; see {@link stepDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(sgd({ lr: 0.1, momentum: 0.9 }), step({ stepSize: 30, gamma: 0.1 }));
 * ```
 */
export function step(options: Partial<StepOptions> & { stepSize: number }): ScheduleSpec {
  return makeScheduleSpec(stepDefinition, options);
}
