import { opt } from '../options.js';
import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/** Options of {@link cosine}; names and defaults as `torch.optim.lr_scheduler.CosineAnnealingLR`. */
export interface CosineOptions {
  /** Half period T_max of the cosine, in steps. Required. */
  readonly tMax: number;
  /** Learning rate η_min at the bottom of the cosine (absolute, the same for every group). Default 0. */
  readonly etaMin: number;
}

/**
 * Cosine annealing (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
 * without the restarts), the closed form of `torch.optim.lr_scheduler.CosineAnnealingLR`
 * (`_get_closed_form_lr`, same operation order), with n the number of steps applied so far:
 *
 * $$
 * \eta_n = \eta_{\min} + \frac{(\eta - \eta_{\min})\,\big(1 + \cos(\pi n / T_{\max})\big)}{2}
 * $$
 *
 * As in PyTorch, the cosine goes on after T_max (the learning rate rises again towards η over the next
 * T_max steps); join it with another schedule ({@link sequence}) to hold η_min instead.
 *
 * PyTorch's `step()` uses a recursive (chainable) form,
 * η_n = η_min + (η_{n−1} − η_min)·(1 + cos(πn/T))/(1 + cos(π(n−1)/T)), with a special step after each trough.
 * It does not drift measurably from this closed form: against PyTorch 1.13, over up to 650 steps through the
 * trough and up again (`test/schedules.test.ts`), the largest relative difference is 3.7e-14 (η_min = 0, just
 * past the trough), so the test compares with PyTorch's recursive values directly (≤ 1e-12), and with its
 * `_get_closed_form_lr` (≤ 1e-14).
 */
export const cosineDefinition: ScheduleDefinition<CosineOptions> = {
  name: 'cosine',
  title: 'Cosine annealing (CosineAnnealingLR)',
  schema: {
    tMax: opt.count(1, 'Half period T_max of the cosine, in steps.'),
    etaMin: opt.nonNegative(0, 'Learning rate at the bottom of the cosine.'),
  },
  required: ['tMax'],
  lrAt: ({ tMax, etaMin }, baseLr, n) => etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * n) / tMax))) / 2,
};

/**
 * Anneal the learning rate along a cosine from the group's rate to `etaMin` over `tMax` steps; see
 * {@link cosineDefinition}.
 *
 * @example
 * ```ts
 * const spec = withSchedule(adam({ lr: 1e-3 }), cosine({ tMax: 10_000 }));
 * ```
 */
export function cosine(options: Partial<CosineOptions> & { tMax: number }): ScheduleSpec {
  return makeScheduleSpec(cosineDefinition, options);
}
