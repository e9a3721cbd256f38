import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link sm3}; names and defaults of pytorch_optimizer's `SM3`. */
export interface Sm3Options {
  /** Learning rate η. Default 0.1. */
  readonly lr: number;
  /** Momentum μ of the update: m ← μ·m + (1 − μ)·u (0 = none). Default 0. */
  readonly momentum: number;
  /** β of the accumulators' moving average (0 = Adagrad-style sums, the paper's SM3). Default 0. */
  readonly beta: number;
  /** ε added to ν before the square root. Default 1e-30. */
  readonly eps: number;
}

/**
 * The shapes of SM3's cover accumulators for a parameter of this shape: one per dimension i, of shape
 * [1, …, shape[i], …, 1] (for a matrix: a column of row maxima and a row of column maxima); a scalar has one
 * accumulator shaped like itself.
 */
export function sm3AccumulatorShapes(shape: readonly number[]): number[][] {
  const r = shape.length;
  if (r === 0) return [[]];
  return shape.map((d, i) => shape.map((_, j) => (j === i ? d : 1)));
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/**
 * SM3, Square-root-free Memory-efficient adaptive optimization (Anil, Gupta, Koren & Singer, "Memory-Efficient
 * Adaptive Optimization", NeurIPS 2019, arXiv 1901.11150), following `SM3` of pytorch_optimizer
 * (kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/sm3.py, commit 00fbae068636bc87d18aa2dda7368283c4bb6de0)
 * for dense gradients, option for option; that file ports the authors' TensorFlow optimizer
 * (google-research/google-research, sm3/sm3.py).
 *
 * Adagrad whose per-element sum of squared gradients is replaced by the cover of the tensor by its slices: for
 * a parameter of order r, one accumulator per dimension, a_i of length shape[i] (for a matrix, a row
 * accumulator and a column accumulator, as in the paper). With gradient g_t and the element index
 * k = (k_1, …, k_r):
 *
 * $$
 * \begin{aligned}
 * \nu_t(k) &= \beta \min_i a_{i}(k_i) + (1-\beta)\, g_t(k)^2 \qquad (\beta = 0:\ \min_i a_i(k_i) + g_t(k)^2) \\
 * a_i(j) &\leftarrow \begin{cases} \max_{k:\,k_i = j} \nu_t(k) & \beta = 0 \\ \max\!\big(a_i(j),\ \max_{k:\,k_i = j} \nu_t(k)\big) & \beta > 0 \end{cases} \\
 * u_t &= g_t \,/\, \sqrt{\nu_t + \epsilon}, \qquad
 *   m_t = \mu\, m_{t-1} + (1-\mu)\, u_t \ \ (\text{if } \mu > 0,\ \text{then } u_t \leftarrow m_t) \\
 * \theta_t &= \theta_{t-1} - \eta\, u_t
 * \end{aligned}
 * $$
 *
 * Memory: Σ shape[i] numbers instead of Π shape[i] (plus the momentum buffer, which upstream always allocates).
 *
 * **Formulation.** pytorch_optimizer's, with its quirks: the β > 0 moving average (not in the paper); momentum
 * as (1 − μ)-weighted EMA of the update (the authors' TensorFlow code uses μ·m + u); ε inside the square root; ν
 * computed as `rsqrt(ν + ε)·g`. A 0-D parameter has one accumulator that upstream never writes (its loop over
 * dimensions is empty), so its update is g/√(g² + ε) ≈ sign(g) every step; followed here. An empty parameter
 * (a zero-length dimension) changes nothing, where torch's max over an empty dimension raises. Sparse gradients
 * (upstream's other branch) do not exist in descent.
 *
 * State: `momentumBuffer` (m, shaped like the parameter) and `accumulator0` … `accumulator{r−1}` (a_i, shaped
 * [1, …, shape[i], …, 1]) — upstream's `momentum_buffer` and `accumulator_{i}`.
 */
export const sm3Definition = defineOptimizer<Sm3Options>({
  name: 'sm3',
  title: 'SM3',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(0.1, 'Learning rate η.'),
    momentum: opt.unitHalfOpen(0, 'Momentum μ of the update: m ← μ·m + (1 − μ)·u (0 = none).'),
    beta: opt.number(0, 'β of the accumulators\' moving average (0 = sums, the paper\'s SM3).', { min: { value: 0 }, max: { value: 1 } }),
    eps: opt.nonNegative(1e-30, 'ε added to ν before the square root.'),
  },
  slots: (_o, shape) => [
    { name: 'momentumBuffer', shape },
    ...sm3AccumulatorShapes(shape).map((s, i) => ({ name: `accumulator${i}`, shape: s })),
  ],
  update({ options: o, shape, param: theta, grad, slots }) {
    const { lr, momentum, beta, eps } = o;
    const size = theta.length;
    if (size === 0) return;
    const r = shape.length;
    const acc = (r === 0 ? [0] : shape.map((_, i) => i)).map((i) => slots[`accumulator${i}`] as Float64Array);
    const st = strides(shape);
    const index = (k: number, i: number): number => (r === 0 ? 0 : Math.floor(k / (st[i] as number)) % (shape[i] as number));
    // ν = min over the covering accumulators, then the moving average or sum with g².
    const nu = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      let v = (acc[0] as Float64Array)[index(k, 0)] as number;
      for (let i = 1; i < r; i++) {
        const a = (acc[i] as Float64Array)[index(k, i)] as number;
        v = a < v || Number.isNaN(a) ? a : v; // torch.min propagates NaN
      }
      const g = grad[k] as number;
      if (beta > 0) v *= beta;
      nu[k] = v + (1 - beta) * g * g; // addcmul_(g, g, value=1 − β): ν + ((1 − β)·g)·g
    }
    // Each accumulator takes the maximum of ν over its slice (torch.max propagates NaN).
    for (let i = 0; i < r; i++) {
      const a = acc[i] as Float64Array;
      const sliceMax = new Float64Array(shape[i] as number).fill(-Infinity);
      for (let k = 0; k < size; k++) {
        const j = index(k, i);
        const v = nu[k] as number;
        const cur = sliceMax[j] as number;
        sliceMax[j] = v > cur || Number.isNaN(v) ? v : cur;
      }
      for (let j = 0; j < a.length; j++) {
        const m = sliceMax[j] as number;
        const old = a[j] as number;
        a[j] = beta > 0 ? (Number.isNaN(old) ? old : Number.isNaN(m) || m > old ? m : old) : m; // torch.max(acc, ν_max) or copy_
      }
    }
    const buf = slots.momentumBuffer as Float64Array;
    for (let k = 0; k < size; k++) {
      let u = (1 / Math.sqrt((nu[k] as number) + eps)) * (grad[k] as number); // rsqrt_().mul_(grad)
      if (momentum > 0) {
        buf[k] = (buf[k] as number) * momentum + (1 - momentum) * u;
        u = buf[k] as number;
      }
      theta[k] = (theta[k] as number) + -lr * u;
    }
  },
});

/**
 * Creates an SM3 spec; see {@link sm3Definition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = sm3({ lr: 0.1, momentum: 0.9 });
 * const opt = createReference(spec, { w: tensor(new Float64Array(12), [3, 4]) });
 * opt.step({ w: tensor(Float64Array.from({ length: 12 }, (_, i) => i - 6), [3, 4]) });
 * ```
 */
export function sm3(options?: Partial<Sm3Options & CommonOptions>): OptimizerSpec<Sm3Options> {
  return makeSpec(sm3Definition, options);
}
