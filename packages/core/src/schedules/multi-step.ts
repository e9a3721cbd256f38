import { powInt } from '../math.js';
import { opt } from '../options.js';
import { integerList, makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link multiStep}; names and defaults as `torch.optim.lr_scheduler.MultiStepLR`. */
export interface MultiStepOptions {
  /** Steps at which the learning rate is multiplied by γ: non-negative integers, strictly increasing. Required. */
  readonly milestones: readonly number[];
  /** Factor γ applied at every milestone. Default 0.1. */
  readonly gamma: number;
}

/**
 * Decay at milestones, the closed form of `torch.optim.lr_scheduler.MultiStepLR` (`_get_closed_form_lr`),
 * with n the number of steps applied so far and k(n) the number of milestones m ≤ n:
 *
 * $$
 * \eta_n = \eta \, \gamma^{k(n)}, \qquad k(n) = \#\{\, m \in \text{milestones} : m \le n \,\}
 * $$
 *
 * γ^k is computed correctly rounded (`powInt`, `src/math.ts`), as glibc's `pow` in PyTorch's closed form.
 *
 * The milestones must be strictly increasing, as PyTorch's documentation asks (PyTorch itself stores them in a
 * `Counter`, so there a repeated milestone applies γ twice; here it is an error). A milestone 0 applies to the
 * first step, as in PyTorch.
 */
export const multiStepDefinition: ScheduleDefinition<MultiStepOptions> = {
  name: 'multiStep',
  title: 'Decay at milestones (MultiStepLR)',
  schema: {
    gamma: opt.nonNegative(0.1, 'Factor γ applied at every milestone.'),
  },
  required: ['milestones'],
  extraOptions: { milestones: integerList(0) },
  lrAt({ milestones, gamma }, baseLr, n) {
    let k = 0;
    while (k < milestones.length && (milestones[k] as number) <= n) k++;
    return baseLr * powInt(gamma, k);
  },
};

/**
 * Multiply the learning rate by γ at each milestone; see {@link multiStepDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(sgd({ lr: 0.1 }), multiStep({ milestones: [30, 80], gamma: 0.1 }));
 * ```
 */
export function multiStep(options: Partial<MultiStepOptions> & { milestones: readonly number[] }): ScheduleSpec {
  return makeScheduleSpec(multiStepDefinition, options);
}
