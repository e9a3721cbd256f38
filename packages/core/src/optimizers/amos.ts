import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { lerpTorch } from '../linalg/matrix.js';
import { powInt } from '../math.js';
import { opt } from '../options.js';

/** Options of {@link amos}; names and defaults of pytorch_optimizer's `Amos`. */
export interface AmosOptions {
  /** Learning rate η (global). Default 1e-3. */
  readonly lr: number;
  /** β of the moving average of mean(g²); 1 − β about the size of η. Default 0.999. */
  readonly beta: number;
  /** Momentum μ of an optional moving average of the updates (0 = none). Default 0. */
  readonly momentum: number;
  /** Extra L2 regularization (`extra_l2`). Default 0. */
  readonly extraL2: number;
  /** Coefficient c of the decay factor c_t = (1 + c√η·b)^(−1/2) (`c_coef`). Default 0.25. */
  readonly cCoef: number;
  /** Coefficient d of the decay factor d_t = (1 + d√η̃·b)^(−1) (`d_coef`). Default 0.25. */
  readonly dCoef: number;
  /** ε added to v before the reciprocal. Default 1e-18. */
  readonly eps: number;
  /** Maximize the objective. Default false. */
  readonly maximize: boolean;
}

/**
 * The expected scale of a parameter of this shape (pytorch_optimizer's `get_scale`), which sets its own learning
 * rate η̃ = η·scale: 0.5 for a vector, √(2/shape[1]) for a matrix, √(1/shape[1]) for order ≥ 3.
 */
export function amosScale(shape: readonly number[]): number {
  if (shape.length === 1) return 0.5;
  if (shape.length === 2) return Math.sqrt(2 / (shape[1] as number));
  return Math.sqrt(1 / (shape[1] as number));
}

/**
 * Amos (Tian & Parikh, "Amos: An Adam-style Optimizer with Adaptive Weight Decay towards Model-Oriented Scale",
 * arXiv 2210.11693, 2022), following `Amos._step_per_param` of pytorch_optimizer (kozistr/pytorch_optimizer,
 * pytorch_optimizer/optimizer/amos.py, commit 094254a1f49ce776716e4d1d95f21932473b5688) option for option and in
 * its order of operations.
 *
 * One second-moment scalar per tensor (the mean of g², "information sharing") and an adaptive weight decay
 * that pulls each tensor towards its model-oriented scale. With gradient g_t (negated when `maximize`) of a
 * tensor with n elements, η̃ = η·scale (see {@link amosScale}) and t the step:
 *
 * $$
 * \begin{aligned}
 * v_t &= \beta v_{t-1} + (1-\beta)\, \overline{g_t^2}, \qquad
 *   \hat r_t = \frac{1-\beta^t}{v_t + \epsilon} \\
 * c_t &= \left(1 + c\sqrt{\eta}\, b_{t-1}\right)^{-1/2}, \qquad
 *   d_t = \left(1 + d\sqrt{\tilde\eta}\, b_{t-1}\right)^{-1}, \qquad
 *   \gamma_t = c_t\, \eta^2\, \hat r_t\, \overline{g_t^2} \\
 * u_t &= d_t\left(\theta_{t-1}\,\frac{\gamma_t - \lambda}{2} + \tilde\eta \sqrt{\hat r_t}\, g_t\right), \qquad
 *   b_t = b_{t-1}(1+\gamma_t) + \gamma_t \\
 * \theta_t &= \theta_{t-1} - u_t \qquad (\text{with momentum: } m_t = \mu m_{t-1} + (1-\mu) u_t,\ \theta_t = \theta_{t-1} - m_t)
 * \end{aligned}
 * $$
 *
 * where λ is `extraL2` and b the accumulated decay (`decay`).
 *
 * **Formulation.** pytorch_optimizer's, which departs from the paper's pseudo-code in small ways (the optional
 * momentum, the (1 + c√η·b)^(−1/2) and (1 + d√η̃·b)^(−1) decay factors written with η and η̃). Differences from
 * it here: t is the parameter's own step count, as in every descent optimizer, where pytorch_optimizer counts
 * the group's steps (they differ only after steps in which the parameter had no gradient); a 0-D parameter is
 * refused (upstream's `get_scale` raises for it); an empty parameter is left unchanged (upstream's mean of no
 * elements is NaN). `cCoef` and `dCoef` must be ≥ 0 (upstream does not check them). The per-tensor state is
 * kept as upstream keeps it, as 1-element tensors.
 *
 * State: `expAvgSq` (v, shape [1]), `decay` (b, shape [1]) and, when `momentum` > 0, `expAvg` (m, shaped like the
 * parameter) — upstream's `exp_avg_sq`, `decay`, `exp_avg`.
 */
export const amosDefinition = defineOptimizer<AmosOptions>({
  name: 'amos',
  title: 'Amos',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    beta: opt.unitHalfOpen(0.999, 'β of the moving average of mean(g²).'),
    momentum: opt.unitHalfOpen(0, 'Momentum μ of the moving average of the updates (0 = none).'),
    extraL2: opt.nonNegative(0, 'Extra L2 regularization λ.'),
    cCoef: opt.nonNegative(0.25, 'Coefficient c of the decay factor (1 + c√η·b)^(−1/2).'),
    dCoef: opt.nonNegative(0.25, 'Coefficient d of the decay factor (1 + d√η̃·b)^(−1).'),
    eps: opt.nonNegative(1e-18, 'ε added to v before the reciprocal.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  rejectShape(shape) {
    if (shape.length > 0) return undefined;
    return 'Amos needs a parameter with at least 1 dimension (its scale is defined for vectors and matrices), got a 0-D one; reshape it to [1]';
  },
  slots: (o, shape) => [
    { name: 'expAvgSq', shape: [1] },
    { name: 'decay', shape: [1] },
    ...(o.momentum > 0 ? [{ name: 'expAvg', shape }] : []),
  ],
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const { lr, beta, momentum, extraL2, cCoef, dCoef, eps, maximize } = o;
    const size = theta.length;
    if (size === 0) return;
    const lrSqrt = Math.sqrt(lr);
    const lrSquared = lr * lr;
    const biasCorrection = 1 - powInt(beta, t);
    const g = (i: number): number => (maximize ? -(grad[i] as number) : (grad[i] as number));
    let sumSq = 0;
    for (let i = 0; i < size; i++) sumSq += g(i) ** 2;
    const g2 = sumSq / size;
    const initLr = lr * amosScale(shape);
    const v = slots.expAvgSq as Float64Array;
    const b = slots.decay as Float64Array;
    v[0] = lerpTorch(v[0] as number, g2, 1 - beta);
    const rVHat = biasCorrection / ((v[0] as number) + eps);
    const decay = b[0] as number;
    const decayFactorC = 1 / Math.sqrt(1 + cCoef * lrSqrt * decay);
    const decayFactorD = 1 / (1 + dCoef * Math.sqrt(initLr) * decay);
    const gamma = decayFactorC * lrSquared * rVHat * g2;
    const shrink = (gamma - extraL2) / 2;
    const rootR = Math.sqrt(rVHat);
    b[0] = decay * (1 + gamma) + gamma;
    const m = slots.expAvg as Float64Array | undefined;
    for (let i = 0; i < size; i++) {
      let u = ((theta[i] as number) * shrink + initLr * (rootR * g(i))) * decayFactorD;
      if (momentum > 0 && m) {
        m[i] = lerpTorch(m[i] as number, u, 1 - momentum);
        u = m[i] as number;
      }
      theta[i] = (theta[i] as number) - u;
    }
  },
});

/**
 * Creates an Amos spec; see {@link amosDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = amos({ lr: 1e-3, beta: 0.999 });
 * const opt = createReference(spec, { w: tensor(new Float64Array(12).fill(0.1), [3, 4]) });
 * opt.step({ w: tensor(Float64Array.from({ length: 12 }, (_, i) => i - 6), [3, 4]) });
 * ```
 */
export function amos(options?: Partial<AmosOptions & CommonOptions>): OptimizerSpec<AmosOptions> {
  return makeSpec(amosDefinition, options);
}
