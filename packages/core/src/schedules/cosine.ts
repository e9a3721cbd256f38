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
 * η_n = η_min + (η_{n−1} − η_min)·(1 + cos(πn/T))/(1 + cos(π(n−1)/T)), which drifts from this closed form: in
 * `test/schedules.test.ts` the relative difference reaches about 1e-11 over 120 steps with T_max = 50, and much
 * more where η_n comes close to η_min = 0. The test therefore compares with PyTorch's closed form (≤ 1e-12)
 * and records the measured difference to the recursive values.
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
