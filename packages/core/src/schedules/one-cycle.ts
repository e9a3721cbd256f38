import { OptionError } from '../errors.js';
import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link oneCycle}; names and defaults as `torch.optim.lr_scheduler.OneCycleLR`. */
export interface OneCycleOptions {
  /** Peak learning rate η_max (the same for every group). Required. */
  readonly maxLr: number;
  /** Length T of the cycle, in steps. Required. */
  readonly totalSteps: number;
  /** Fraction of the cycle spent increasing the learning rate. Default 0.3. */
  readonly pctStart: number;
  /** Shape of every phase: `cos` or `linear`. Default `cos`. */
  readonly annealStrategy: 'cos' | 'linear';
  /** η_0 = η_max / divFactor is the initial learning rate. Default 25. */
  readonly divFactor: number;
  /** η_min = η_0 / finalDivFactor is the final learning rate. Default 1e4. */
  readonly finalDivFactor: number;
  /** Three phases (up, down to η_0, down to η_min, as the paper) instead of two (fastai's). Default false. */
  readonly threePhase: boolean;
}

interface Phase {
  readonly end: number;
  readonly from: number;
  readonly to: number;
}

function phases(o: OneCycleOptions): Phase[] {
  const initial = o.maxLr / o.divFactor;
  const min = initial / o.finalDivFactor;
  const t = o.totalSteps;
  const warm = o.pctStart * t - 1;
  return o.threePhase
    ? [
        { end: warm, from: initial, to: o.maxLr },
        { end: 2 * o.pctStart * t - 2, from: o.maxLr, to: initial },
        { end: t - 1, from: initial, to: min },
      ]
    : [
        { end: warm, from: initial, to: o.maxLr },
        { end: t - 1, from: o.maxLr, to: min },
      ];
}

/**
 * The 1cycle policy (Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large
 * Learning Rates", 2017), exactly as `torch.optim.lr_scheduler.OneCycleLR` computes it (its `get_lr` is not
 * recursive). With η_0 = maxLr/divFactor and η_min = η_0/finalDivFactor, the cycle is cut into phases
 * ending at steps e_1 = pctStart·T − 1 and e_2 = T − 1 (three phases: e_1, e_2 = 2·pctStart·T − 2,
 * e_3 = T − 1), each annealing from a start to an end value:
 *
 * $$
 * \eta_n = A\Big(a_k, b_k, \frac{n - e_{k-1}}{e_k - e_{k-1}}\Big), \quad e_0 = 0, \quad
 * A_{\cos}(a, b, p) = b + \frac{a - b}{2}\big(\cos(\pi p) + 1\big), \quad A_{\text{linear}}(a, b, p) = (b - a)\,p + a
 * $$
 *
 * for the first phase k with n ≤ e_k (the last phase otherwise): two phases η_0 → maxLr → η_min; three
 * phases η_0 → maxLr → η_0 → η_min.
 *
 * Differences from PyTorch, all deliberate:
 * - **The group's learning rate is ignored**: as in PyTorch, the cycle is set absolutely from `maxLr` (PyTorch
 *   overwrites the groups' `initial_lr`). PyTorch accepts one `max_lr` per group; here every group (and
 *   every learning-rate option of the optimizer) follows the same cycle — give groups their own optimizer
 *   for different peaks.
 * - **No momentum cycling**: PyTorch's default `cycle_momentum=True` also cycles SGD's momentum or Adam's β₁
 *   between 0.95 and 0.85; schedules here set learning rates only (PyTorch with `cycle_momentum=False`).
 * - **After the cycle**: PyTorch raises once more than T + 1 steps are taken and extrapolates the last phase
 *   at the (T+1)-th; here every step n ≥ T − 1 uses the final rate η_min.
 * - `pctStart·T = 1` makes PyTorch divide by zero at the first step; it is rejected here.
 */
export const oneCycleDefinition: ScheduleDefinition<OneCycleOptions> = {
  name: 'oneCycle',
  title: '1cycle (OneCycleLR)',
  schema: {
    maxLr: opt.positive(0.1, 'Peak learning rate.'),
    totalSteps: opt.count(1, 'Length of the cycle, in steps.'),
    pctStart: opt.unitClosed(0.3, 'Fraction of the cycle spent increasing the learning rate.'),
    annealStrategy: opt.oneOf(['cos', 'linear'], 'cos', 'Shape of every phase.'),
    divFactor: opt.positive(25, 'Initial learning rate = maxLr / divFactor.'),
    finalDivFactor: opt.positive(1e4, 'Final learning rate = initial learning rate / finalDivFactor.'),
    threePhase: opt.flag(false, 'Use three phases instead of two.'),
  },
  required: ['maxLr', 'totalSteps'],
  check(o, where) {
    if (o.pctStart * o.totalSteps - 1 === 0) {
      throw new OptionError(
        `${where}: options "pctStart" · "totalSteps" must not be 1 (the warmup phase would have no length), got ${o.pctStart} · ${o.totalSteps}`,
      );
    }
  },
  lrAt(o, _baseLr, n) {
    const list = phases(o);
    const step = Math.min(n, o.totalSteps - 1);
    let start = 0;
    for (let k = 0; k < list.length; k++) {
      const phase = list[k] as Phase;
      if (step <= phase.end || k === list.length - 1) {
        const p = (step - start) / (phase.end - start);
        return o.annealStrategy === 'cos'
          ? phase.to + ((phase.from - phase.to) / 2) * (Math.cos(Math.PI * p) + 1)
          : (phase.to - phase.from) * p + phase.from;
      }
      start = phase.end;
    }
    /* c8 ignore next */
    throw new Error('unreachable');
  },
};

/**
 * The 1cycle policy from `maxLr / divFactor` up to `maxLr` and down to a tiny rate over `totalSteps`; the
 * groups' own learning rates are ignored. See {@link oneCycleDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(sgd({ momentum: 0.9 }), oneCycle({ maxLr: 0.1, totalSteps: 10_000 }));
 * ```
 */
export function oneCycle(options: Partial<OneCycleOptions> & { maxLr: number; totalSteps: number }): ScheduleSpec {
  return makeScheduleSpec(oneCycleDefinition, options);
}
