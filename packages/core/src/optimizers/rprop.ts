import { OptionError, show } from '../errors.js';
import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link rprop}; names and defaults as `torch.optim.Rprop`. */
export interface RpropOptions {
  /**
   * Initial step size Δ₀ of every element. Default 1e-2. It is read once, when the state is created: changing it
   * later (a schedule) does not change step sizes already in the state.
   */
  readonly lr: number;
  /** (η₋, η₊): factors that shrink and grow the step sizes, with 0 < η₋ < 1 < η₊. Default (0.5, 1.2). */
  readonly etas: readonly [number, number];
  /** (Δ_min, Δ_max): bounds of the step sizes, with 0 ≤ Δ_min ≤ Δ_max. Default (1e-6, 50). */
  readonly stepSizes: readonly [number, number];
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Rprop, resilient backpropagation (Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation
 * Learning: The RPROP Algorithm", ICNN 1993), in the form `torch.optim.Rprop` implements: every element has its own
 * step size Δ, grown by η₊ while the gradient keeps its sign and shrunk by η₋ when it flips; the parameter moves by
 * Δ against the *sign* of the gradient, whatever its magnitude.
 *
 * With gradient g_t of the loss at θ_{t−1} (negated when `maximize`), for each element, p_0 = 0 and Δ_0 = lr:
 *
 * $$
 * \begin{aligned}
 * \Delta_t &= \operatorname{clamp}\bigl(f_t\,\Delta_{t-1},\ \Delta_{\min},\ \Delta_{\max}\bigr), \qquad
 * f_t = \begin{cases} \eta_+ & g_t\,p_{t-1} > 0 \\ \eta_- & g_t\,p_{t-1} < 0 \\ 1 & g_t\,p_{t-1} = 0 \end{cases} \\
 * \tilde g_t &= \begin{cases} 0 & g_t\,p_{t-1} < 0 \\ g_t & \text{otherwise} \end{cases} \\
 * \theta_t &= \theta_{t-1} - \operatorname{sign}(\tilde g_t)\, \Delta_t \\
 * p_t &= \tilde g_t
 * \end{aligned}
 * $$
 *
 * After a sign change the element does not move, and since p_t = 0 the next step keeps Δ unchanged (f = 1).
 * The clamp applies on every step, including f = 1: an `lr` outside [Δ_min, Δ_max] is clamped on the first step.
 * A non-finite g·p leaves f = NaN, as in PyTorch, so NaN propagates into Δ and θ.
 *
 * **Full-batch method.** Rprop adapts Δ from the sign agreement of *successive* gradients, which presumes they
 * are gradients of the same function. With mini-batches the signs flip from batch noise, the step sizes collapse
 * and training stalls (seed 001 shows mini-batch Rprop failing to converge where full-batch Rprop rivals Adam on
 * Rosenbrock and Rastrigin). Feed it full-batch gradients.
 *
 * This is the variant without weight backtracking, known as iRprop⁻ (Igel & Hüsken, "Improving the Rprop
 * Learning Algorithm", 2000), which is what PyTorch implements. The variants with weight backtracking — the
 * original Rprop (Rprop⁺), which undoes the previous step of an element whose gradient changed sign, and iRprop⁺,
 * which does so only when the loss increased — are not implemented.
 *
 * State: `prev` (p, zeros), `stepSize` (Δ, filled with `lr`).
 */
export const rpropDefinition = defineOptimizer<RpropOptions>({
  name: 'rprop',
  title: 'Rprop',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-2, 'Initial step size Δ₀.'),
    etas: opt.pair(
      [0.5, 1.2],
      [{ min: { value: 0, open: true } }, { min: { value: 0, open: true } }],
      'Step-size factors (η₋, η₊) with 0 < η₋ < 1 < η₊.',
    ),
    stepSizes: opt.pair([1e-6, 50], [{ min: { value: 0 } }, { min: { value: 0 } }], 'Step-size bounds (Δ_min, Δ_max).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  check(o, where) {
    const [etaMinus, etaPlus] = o.etas;
    if (!(0 < etaMinus && etaMinus < 1 && 1 < etaPlus)) {
      throw new OptionError(`${where}: option "etas" must be (η₋, η₊) with 0 < η₋ < 1 < η₊, got [${show(etaMinus)}, ${show(etaPlus)}]`);
    }
    const [min, max] = o.stepSizes;
    if (!(min <= max)) {
      throw new OptionError(`${where}: option "stepSizes" must be (min, max) with min ≤ max, got [${show(min)}, ${show(max)}]`);
    }
  },
  slots: (o, shape) => [
    { name: 'prev', shape },
    { name: 'stepSize', shape, init: o.lr },
  ],
  update({ options: o, param: theta, grad, slots }) {
    const [etaMinus, etaPlus] = o.etas;
    const [stepSizeMin, stepSizeMax] = o.stepSizes;
    const { maximize } = o;
    const prev = slots.prev as Float64Array;
    const delta = slots.stepSize as Float64Array;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      const s = Math.sign(g * (prev[i] as number));
      // s is NaN when g·p is: it stays NaN, like PyTorch's sign tensor, which none of its three masks selects.
      const factor = s > 0 ? etaPlus : s < 0 ? etaMinus : s === 0 ? 1 : s;
      delta[i] = Math.min(Math.max((delta[i] as number) * factor, stepSizeMin), stepSizeMax);
      if (s < 0) g = 0;
      theta[i] = (theta[i] as number) - Math.sign(g) * (delta[i] as number);
      prev[i] = g;
    }
  },
});

/**
 * Creates an Rprop spec; see {@link rpropDefinition} for the update rule (a full-batch method).
 *
 * @example
 * ```ts
 * const spec = rprop({ lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50] });
 * ```
 */
export function rprop(options?: Partial<RpropOptions & CommonOptions>): OptimizerSpec<RpropOptions> {
  return makeSpec(rpropDefinition, options);
}
