import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { lerpTorch } from '../linalg/matrix.js';
import { opt } from '../options.js';

/** Float32 machine epsilon 2⁻²³, PyTorch's ε₁ for float32 parameters and descent's default ε₁ on every backend. */
export const FLOAT32_EPSILON = 2 ** -23;

/** Options of {@link adafactor}; names and defaults as `torch.optim.Adafactor` (PyTorch ≥ 2.5). */
export interface AdafactorOptions {
  /** γ: the cap of the relative step size ρ_t = min(γ, 1/√t) and the weight-decay rate. Default 1e-2. */
  readonly lr: number;
  /** τ ≤ 0: the second-moment decay is β̂₂,t = 1 − t^τ. Default −0.8. */
  readonly beta2Decay: number;
  /**
   * (ε₁, ε₂). ε₁ floors the row-factor mean and √V̂ (V̂ is clamped at ε₁²); ε₂ floors RMS(θ) in the step
   * size. Default (2⁻²³ ≈ 1.19e-7, 1e-3). PyTorch's default ε₁ is `None`, meaning the machine epsilon of the
   * parameter's dtype: 2⁻²³ for float32, 2⁻⁵² for float64. descent takes a number so that every backend runs the
   * same spec, and defaults to the float32 value, PyTorch's behaviour for the usual float32 model, on every
   * backend including the Float64 reference. To reproduce PyTorch with float64 parameters pass
   * `eps: [2 ** -52, 1e-3]`.
   */
  readonly eps: readonly [number, number];
  /** d ≥ 1: the update is scaled down when its RMS exceeds d. Default 1. */
  readonly d: number;
  /** λ: decoupled weight decay, θ ← θ·(1 − γλ). Default 0. */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
  /**
   * Where the square root of the factored estimate is taken (tensors of order ≥ 2; see "Order of the factored
   * estimate" below). `"last"` (the default, PyTorch's `torch.optim.Adafactor`): U = G/√max(V̂, ε₁²), one root of
   * the complete estimate. `"separate"` (fairseq's and Hugging Face's `_approx_sq_grad`): the product of two roots,
   * U = G·min(rsqrt(R_i/max(mean R, ε₁))·rsqrt(C_j), 1/ε₁) — equal in exact arithmetic, clamps included, and
   * different only by rounding (a few ulps in Float64; in float32, two roundings of two square roots).
   */
  readonly factoredRoot: 'last' | 'separate';
}

/** Python's `max(a, b)`: `a` unless `b > a`, so a NaN `b` gives `a` (where `Math.max` would give NaN). */
const pyMax = (a: number, b: number): number => (b > a ? b : a);

/**
 * Adafactor (Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", ICML 2018),
 * following `torch.optim.Adafactor` of PyTorch 2.5+ (`_single_tensor_adafactor` in torch/optim/_adafactor.py)
 * operation for operation, including its departures from the paper: γ (`lr`) caps the relative step size and
 * drives decoupled weight decay, ε₁ is applied to the row-factor mean and to V̂ rather than added to g², and
 * the factors hold means rather than sums. There is no first moment (the paper's β₁ = 0 setting).
 *
 * With gradient G_t (negated when `maximize`), t the parameter's step count, RMS(X) = ‖X‖₂/√(numel X):
 *
 * $$
 * \begin{aligned}
 * \hat\beta_{2,t} &= 1 - t^{\tau}, \qquad \rho_t = \min(\gamma, 1/\sqrt t), \qquad
 *   \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t \\
 * \theta &\leftarrow \theta_{t-1}\,(1 - \gamma\lambda) \\
 * R_t &= \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\, \mathrm{mean}_j(G_t^2), \qquad
 *   C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\, \mathrm{mean}_i(G_t^2) \\
 * \hat V_t &= \frac{R_t\, C_t}{\max(\mathrm{mean}_i R_t,\ \epsilon_1)} \qquad
 *   \Big(\text{order} < 2:\ \hat V_t = \hat\beta_{2,t} \hat V_{t-1} + (1-\hat\beta_{2,t})\, G_t^2\Big) \\
 * U_t &= G_t \,/\, \sqrt{\max(\hat V_t,\ \epsilon_1^2)}, \qquad
 *   \theta_t = \theta - \frac{\alpha_t}{\max(1,\ \mathrm{RMS}(U_t)/d)}\, U_t
 * \end{aligned}
 * $$
 *
 * For a tensor of order ≥ 2 the last two modes (n rows × m columns) are factored and any leading modes are a
 * batch: R (`rowVar`, shape (…, n, 1)) holds the mean of G² over the last axis, C (`colVar`, shape (…, 1, m))
 * over the second-to-last, and R·C is their outer product per batch entry, as PyTorch's broadcasting
 * `row_var @ col_var` is. α_t uses θ before the weight decay, as PyTorch. β̂₂ is not clamped: t^τ = 1 at
 * t = 1, so the first step sets R, C, V̂ to the first statistics. The moving averages use PyTorch's `lerp_`
 * rounding. A NaN RMS(θ) or RMS(U) meets Python's `max`, which keeps the first argument (ε₂ or 1), as there.
 *
 * **Order of the factored estimate.** Both forms seed 003 discusses appear in the wild: the precise one takes
 * the square root last, of the complete estimate, and is PyTorch's (`var_estimate.clamp_(min=eps1 * eps1)
 * .rsqrt_()` after `row_var @ col_var / row_mean`), so it is this optimizer's only form; fairseq's and
 * Hugging Face's `_approx_sq_grad` takes two square roots, rsqrt(R_i/mean R)·rsqrt(C_j), and belongs to their
 * other formulation (ε added to G², relative step, optional β₁), which this optimizer does not follow. This
 * computes V̂_ij = (R_i / max(mean R, ε₁))·C_j and then
 * U_ij = G_ij / √max(V̂_ij, ε₁²): mathematically PyTorch's (R_i·C_j)/max(mean R, ε₁), clamps included, and
 * equal to it in Float64 up to an ulp or two. Two precision points, after seed 003: (1) take the square root
 * once, last, of the complete estimate — fairseq and Hugging Face compute rsqrt(R_i/mean R)·rsqrt(C_j), two
 * roundings of two square roots — and (2) never form R_i·C_j, which scales like |G|⁴ and leaves float32's range
 * for gradients below ~1e-10 (or above ~1e9) even though V̂ itself (~|G|²) is representable; R_i/mean R is of
 * order 1. Float32 backends should use this order. (Seed 003's own snippet computes √(mean R / R_i / C_j), the
 * reciprocal, with the same properties but no place for PyTorch's clamps.) `factoredRoot: "separate"` selects
 * the other form, fairseq's and Hugging Face's product of two roots, U_ij = G_ij·min(rsqrt(R_i/max(mean R, ε₁))·
 * rsqrt(C_j), 1/ε₁), with PyTorch's clamps carried over (min(·, 1/ε₁) = 1/√max(·, ε₁²)); the rest of the update
 * stays PyTorch's.
 *
 * State: `rowVar` (R) and `colVar` (C) for tensors of order ≥ 2, `variance` (V̂) otherwise — PyTorch's
 * `row_var`, `col_var` and `variance`, with the same (keepdim) shapes.
 */
export const adafactorDefinition = defineOptimizer<AdafactorOptions>({
  name: 'adafactor',
  title: 'Adafactor',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(1e-2, 'γ: cap of the relative step size and weight-decay rate.'),
    beta2Decay: opt.number(-0.8, 'τ ≤ 0: the second-moment decay is 1 − t^τ.', { max: { value: 0 } }),
    eps: opt.pair([FLOAT32_EPSILON, 1e-3], [{ min: { value: 0 } }, { min: { value: 0 } }], '(ε₁, ε₂): floors of √V̂ and the row-factor mean, and of RMS(θ).'),
    d: opt.number(1, 'Clipping threshold d ≥ 1 of RMS(U).', { min: { value: 1 } }),
    weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ: θ ← θ·(1 − γλ).'),
    maximize: opt.flag(false, 'Maximize the objective.'),
    factoredRoot: opt.oneOf(['last', 'separate'], 'last', "Square root of the factored estimate: last (PyTorch's) or of each factor (fairseq / Hugging Face)."),
  },
  slots: (_o, shape) => {
    const k = shape.length;
    if (k < 2) return [{ name: 'variance', shape }];
    return [
      { name: 'rowVar', shape: [...shape.slice(0, k - 1), 1] },
      { name: 'colVar', shape: [...shape.slice(0, k - 2), 1, shape[k - 1] as number] },
    ];
  },
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const { lr: gamma, beta2Decay: tau, d, weightDecay: lambda, maximize } = o;
    const [eps1, eps2] = o.eps;
    const size = theta.length;
    const w = t ** tau; // 1 − β̂₂,t, the lerp weight
    const rho = Math.min(gamma, 1 / Math.sqrt(t));
    let sumSq = 0;
    for (let i = 0; i < size; i++) sumSq += (theta[i] as number) ** 2;
    const alpha = pyMax(eps2, Math.sqrt(sumSq) / Math.sqrt(size)) * rho;

    if (lambda !== 0) for (let i = 0; i < size; i++) theta[i] = (theta[i] as number) * (1 - gamma * lambda);

    const g = (i: number): number => (maximize ? -(grad[i] as number) : (grad[i] as number));
    const U = new Float64Array(size);
    const k = shape.length;
    if (k >= 2) {
      const n = shape[k - 2] as number;
      const m = shape[k - 1] as number;
      const batches = n * m === 0 ? 0 : size / (n * m);
      const R = slots.rowVar as Float64Array;
      const C = slots.colVar as Float64Array;
      for (let b = 0; b < batches; b++) {
        const at = (i: number, j: number): number => (b * n + i) * m + j;
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < m; j++) s += g(at(i, j)) ** 2;
          R[b * n + i] = lerpTorch(R[b * n + i] as number, s / m, w);
        }
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += g(at(i, j)) ** 2;
          C[b * m + j] = lerpTorch(C[b * m + j] as number, s / n, w);
        }
        let rowSum = 0;
        for (let i = 0; i < n; i++) rowSum += R[b * n + i] as number;
        const rowMean = Math.max(rowSum / n, eps1); // clamp_(min=ε₁): NaN stays NaN, as in torch
        for (let i = 0; i < n; i++) {
          const ratio = (R[b * n + i] as number) / rowMean;
          if (o.factoredRoot === 'separate') {
            // fairseq / Hugging Face: rsqrt(R_i / mean R)·rsqrt(C_j), capped at 1/ε₁ (= PyTorch's clamp of V̂ at ε₁²).
            const rowFactor = 1 / Math.sqrt(ratio);
            for (let j = 0; j < m; j++) {
              const scale = Math.min(rowFactor * (1 / Math.sqrt(C[b * m + j] as number)), 1 / eps1);
              U[at(i, j)] = g(at(i, j)) * scale;
            }
            continue;
          }
          for (let j = 0; j < m; j++) {
            const vHat = ratio * (C[b * m + j] as number);
            U[at(i, j)] = g(at(i, j)) / Math.sqrt(Math.max(vHat, eps1 * eps1));
          }
        }
      }
    } else {
      const V = slots.variance as Float64Array;
      for (let i = 0; i < size; i++) {
        V[i] = lerpTorch(V[i] as number, g(i) ** 2, w);
        U[i] = g(i) / Math.sqrt(Math.max(V[i] as number, eps1 * eps1));
      }
    }

    let sumU = 0;
    for (let i = 0; i < size; i++) sumU += (U[i] as number) ** 2;
    const denom = pyMax(1, Math.sqrt(sumU) / (Math.sqrt(size) * d));
    const stepSize = alpha / denom;
    for (let i = 0; i < size; i++) theta[i] = (theta[i] as number) - stepSize * (U[i] as number);
  },
});

/**
 * Creates an Adafactor spec; see {@link adafactorDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = adafactor({ lr: 1e-2, weightDecay: 1e-2 });
 * ```
 */
export function adafactor(options?: Partial<AdafactorOptions & CommonOptions>): OptimizerSpec<AdafactorOptions> {
  return makeSpec(adafactorDefinition, options);
}
