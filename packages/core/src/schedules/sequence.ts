import { OptionError, show } from '../errors.js';
// A cycle (index.ts lists this definition): only used inside functions, after every module has loaded.
import { scheduleDefinitions, scheduledLr } from './index.js';
import { checkScheduleSpec, integerList, makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link sequence}; names as `torch.optim.lr_scheduler.SequentialLR`. */
export interface SequenceOptions {
  /** The schedules, in order (at least one). Required. */
  readonly schedules: readonly ScheduleSpec[];
  /** The steps at which each schedule after the first takes over: one fewer than the schedules, strictly increasing, ≥ 1. */
  readonly milestones: readonly number[];
}

function parseSchedules(value: unknown, where: string, key: string): ScheduleSpec[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new OptionError(`${where}: option "${key}" must be a non-empty list of schedules, got ${show(value)}`);
  }
  return value.map((s: unknown, i) => checkScheduleSpec(scheduleDefinitions, s, `${where}: ${key}[${i}]`));
}

/**
 * Schedules joined at milestones, as `torch.optim.lr_scheduler.SequentialLR` (PyTorch 2.x): schedule k runs from
 * milestone m_k (m_0 = 0) until the next, and its step count restarts at its milestone. With n the number of
 * steps applied so far and k the number of milestones ≤ n:
 *
 * $$
 * \eta_n = S_k(\eta,\; n - m_k)
 * $$
 *
 * where S_k(η, j) is schedule k's learning rate after j steps for base rate η (the group's learning rate,
 * for every part). Parts may themselves be sequences.
 *
 * How this relates to PyTorch's `SequentialLR`, which steps stateful schedulers:
 * - At a milestone PyTorch calls the new scheduler's `step(0)` (2.x's newest code: `_update_lr(0)`), which
 *   sets its `last_epoch` to 0 and its learning rate from its **closed form** (`_get_closed_form_lr`) of the
 *   groups' initial learning rates; later steps use its recursive form, `last_epoch` counting from the
 *   milestone. For every schedule here that is S_k(η, n − m_k) up to rounding (checked against PyTorch 1.13
 *   in `test/schedules.test.ts`), and for OneCycleLR, whose `get_lr` is not recursive, exactly.
 * - PyTorch resets the learning rate to the initial one and undoes the step each part's constructor took;
 *   1.13 does so one level deep, 2.x recursively. PyTorch cannot restart a nested `SequentialLR` at a
 *   milestone (it has no closed form and no `get_lr`); here nesting works like any other part.
 * - PyTorch does not check the milestones; unsorted ones break its `bisect_right`, and a milestone 0 makes
 *   the second scheduler start without the restart. Here milestones must be strictly increasing integers ≥ 1
 *   and there must be exactly one fewer than schedules (PyTorch checks only the count).
 * - PyTorch's milestone `step(0)` also emits its epoch-deprecation warning; nothing here does.
 */
export const sequenceDefinition: ScheduleDefinition<SequenceOptions> = {
  name: 'sequence',
  title: 'Joined schedules (SequentialLR)',
  schema: {},
  required: ['schedules', 'milestones'],
  extraOptions: { schedules: parseSchedules, milestones: integerList(1) },
  check({ schedules, milestones }, where) {
    if (milestones.length !== schedules.length - 1) {
      throw new OptionError(
        `${where}: option "milestones" must have one entry fewer than "schedules" (${schedules.length}), got ${milestones.length}: ${show(milestones)}`,
      );
    }
  },
  lrAt({ schedules, milestones }, baseLr, n) {
    let k = 0;
    while (k < milestones.length && (milestones[k] as number) <= n) k++;
    const start = k === 0 ? 0 : (milestones[k - 1] as number);
    return scheduledLr(schedules[k] as ScheduleSpec, baseLr, n - start);
  },
};

/**
 * Join schedules: the k-th takes over at milestone k − 1 and counts its steps from there; see
 * {@link sequenceDefinition}.
 *
 * @example
 * ```ts
 * // 500 warmup steps from lr/100, then cosine to 0 over the remaining 9 500.
 * const schedule = sequence({ schedules: [linear({ startFactor: 0.01, totalIters: 500 }), cosine({ tMax: 9500 })], milestones: [500] });
 * ```
 */
export function sequence(options: { schedules: readonly ScheduleSpec[]; milestones: readonly number[] }): ScheduleSpec {
  return makeScheduleSpec(sequenceDefinition, options);
}
