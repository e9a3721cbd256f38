import { powInt } from '../math.js';
import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link polynomial}; names and defaults as `torch.optim.lr_scheduler.PolynomialLR`. */
export interface PolynomialOptions {
  /** Number of steps T over which the learning rate decays to 0. Default 5. */
  readonly totalIters: number;
  /** Power p of the polynomial. Default 1 (linear decay). */
  readonly power: number;
}

/**
 * Polynomial decay to zero, the closed form of `torch.optim.lr_scheduler.PolynomialLR`
 * (`_get_closed_form_lr`), with n the number of steps applied so far:
 *
 * $$
 * \eta_n = \eta \Big(1 - \frac{\min(n, T)}{T}\Big)^{p}
 * $$
 *
 * An integer power is computed correctly rounded (`powInt`, `src/math.ts`), as glibc's `pow` in PyTorch's closed form.
 * The learning rate is 0 from step T on (1 with p = 0). PyTorch's `step()` multiplies by a ratio of
 * consecutive factors instead; the two agree to a few ulps.
 */
export const polynomialDefinition: ScheduleDefinition<PolynomialOptions> = {
  name: 'polynomial',
  title: 'Polynomial decay (PolynomialLR)',
  schema: {
    totalIters: opt.count(5, 'Number of steps of the decay.'),
    power: opt.nonNegative(1, 'Power of the polynomial.'),
  },
  lrAt: ({ totalIters: t, power }, baseLr, n) => baseLr * powInt(1 - Math.min(t, n) / t, power),
};

/**
 * Decay the learning rate to zero along (1 − n/T)^p; see {@link polynomialDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(sgd({ lr: 0.01 }), polynomial({ totalIters: 1000, power: 0.9 }));
 * ```
 */
export function polynomial(options: Partial<PolynomialOptions> = {}): ScheduleSpec {
  return makeScheduleSpec(polynomialDefinition, options);
}
