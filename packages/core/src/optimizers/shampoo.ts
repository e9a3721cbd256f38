import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec, type SlotSpec } from '../definition.js';
import { inverseRootEigh, inverseRootNewtonSchulz } from '../linalg/inverse-root.js';
import { matrixViewProblem, PYTORCH_VIEW, resolveMatrixView, type MatrixView } from '../linalg/matrix-view.js';
import { addModeGram, modeProduct } from '../linalg/tensor-modes.js';
import { opt } from '../options.js';

/** Whether a mode of length d gets a preconditioner under `maxPreconditionDim` (0: no limit). */
export function shampooPreconditioned(o: { readonly maxPreconditionDim: number }, d: number): boolean {
  return o.maxPreconditionDim === 0 || d <= o.maxPreconditionDim;
}
const preconditioned = shampooPreconditioned;

/** Options of {@link shampoo}; names and defaults as torch-optimizer's `Shampoo` (camelCased), plus four of ours. */
export interface ShampooOptions {
  /** Learning rate η. Default 0.1. */
  readonly lr: number;
  /** Momentum factor μ (torch-optimizer's peculiar form, see {@link shampooDefinition}). Default 0. */
  readonly momentum: number;
  /** L2 penalty λ added to the (momentum-mixed) gradient. Default 0. */
  readonly weightDecay: number;
  /** ε: every preconditioner starts at ε·I. Default 1e-4. */
  readonly epsilon: number;
  /** The inverse roots are recomputed on steps 1, 1 + f, 1 + 2f, … and reused in between. Default 1. */
  readonly updateFreq: number;
  /**
   * Root order p of the preconditioners for a tensor of order k: `code` p = k, as torch-optimizer and the seed's
   * code; `paper` p = 2k, as Gupta et al. (and the seed's derivation). Default `code`.
   */
  readonly exponent: 'code' | 'paper';
  /**
   * What mode i's statistic accumulates: `code` the gradient already preconditioned along modes 0 … i−1 (what
   * torch-optimizer's loop does); `paper` the gradient itself for every mode, as Gupta et al. Default `code`.
   */
  readonly statistics: 'code' | 'paper';
  /** How H^{−1/p} is computed: `eigh` exactly (Jacobi), `newtonSchulz` by the seed's coupled iteration. Default `eigh`. */
  readonly inverseRoot: 'eigh' | 'newtonSchulz';
  /** Iterations of the `newtonSchulz` inverse root. Default 12. */
  readonly iterSteps: number;
  /** ε added to the normalised matrix in the `newtonSchulz` inverse root (the seed's `iter_eps`). Default 1e-5. */
  readonly iterEps: number;
  /**
   * The order in which the modes are preconditioned: the view's row axes, its column axes, then the rest (see
   * {@link MatrixView}). Default `{ rows: [0], cols: [] }`, axis order, as in PyTorch's layouts;
   * `{ rows: [-1], cols: [-2] }` visits a TF.js kernel [kh, kw, in, out] as PyTorch's [out, in, kh, kw].
   */
  readonly matrixView: MatrixView;
  /**
   * Modes longer than this are left unpreconditioned (identity: no statistic, no root, no state), as Distributed
   * Shampoo's `max_preconditioner_dim` and SOAP's `max_precond_dim` do, so that a layer with one very long mode
   * (a dense kernel after a flatten, 3136 × 128) is still preconditioned along its short modes. 0 (default): no
   * limit, every mode is preconditioned (torch-optimizer's behaviour; JSON has no Infinity).
   */
  readonly maxPreconditionDim: number;
}

/**
 * Shampoo (Gupta, Koren & Singer, "Shampoo: Preconditioned Stochastic Tensor Optimization", ICML 2018), following
 * torch-optimizer's `Shampoo` (jettify/pytorch-optimizer, `torch_optimizer/shampoo.py`, after
 * moskomule/shampoo.pytorch) operation for operation, which is also the code seed 000 quotes. A parameter of
 * order k (shape d₀ × … × d_{k−1}) keeps one dᵢ × dᵢ preconditioner per mode instead of Adagrad's full
 * (d₀⋯d_{k−1})² matrix: the Kronecker-factored approximation H ≈ H⁽⁰⁾ ⊗ … ⊗ H⁽ᵏ⁻¹⁾.
 *
 * With gradient g_t, X₍ᵢ₎ the mode-i unfolding of a tensor X (a dᵢ × (rest) matrix; its Gram matrix
 * X₍ᵢ₎X₍ᵢ₎ᵀ contracts X with itself over every other mode), ×ᵢ the mode-i product, and H⁽ⁱ⁾₀ = ε·I:
 *
 * $$
 * \begin{aligned}
 * X^{(0)} &= (1-\mu)\, g_t + \mu\, u_{t-1} + \lambda\,\theta_{t-1} \qquad (u_0 = g_1;\ \text{no momentum term when } \mu = 0) \\
 * \text{for } i &= 0, \dots, k-1: \\
 * &H^{(i)}_t = H^{(i)}_{t-1} + Y_{(i)} Y_{(i)}^\top, \qquad
 *   Y = \begin{cases} X^{(i)} & \text{statistics = code} \\ X^{(0)} & \text{statistics = paper} \end{cases} \\
 * &R^{(i)}_t = \begin{cases} \big(H^{(i)}_t\big)^{-1/p} & (t-1) \bmod f = 0 \\ R^{(i)}_{t-1} & \text{otherwise} \end{cases}
 *   \qquad p = \begin{cases} k & \text{exponent = code} \\ 2k & \text{exponent = paper} \end{cases} \\
 * &X^{(i+1)} = X^{(i)} \times_i R^{(i)}_t \\
 * u_t &= X^{(k)}, \qquad \theta_t = \theta_{t-1} - \eta\, u_t
 * \end{aligned}
 * $$
 *
 * For a matrix (k = 2, exponent `paper`, statistics `paper`, μ = λ = 0) this is the paper's
 * θ_t = θ_{t−1} − η·L_t^{−1/4}·G_t·R_t^{−1/4} with L_t = εI + Σ G Gᵀ, R_t = εI + Σ GᵀG; for a vector (k = 1)
 * it is full-matrix Adagrad, with H^{−1} (code) or H^{−1/2} (paper). A scalar (k = 0) takes u_t = X⁽⁰⁾, a
 * momentum-SGD step.
 *
 * Where torch-optimizer (and so the default here) departs from the paper, each kept as the code has it:
 * - **Exponent.** The code raises each preconditioner to −1/k; the paper (and seed 000's derivation, which asks
 *   for H^{−1/2} overall and so H^{−1/(2k)} per mode) to −1/(2k). `exponent: 'paper'` gives the paper's.
 *   For a vector the difference is stark: the code's step H^{−1}g scales like 1/|g|, the paper's H^{−1/2}g
 *   is invariant to the gradient's scale, like Adagrad's.
 * - **Statistics.** The code updates mode i's statistic from the gradient after it has already been multiplied
 *   by the roots of modes 0 … i−1 (it transforms `grad` in place as it loops over the modes); the paper's
 *   statistics are all built from the gradient itself. `statistics: 'paper'` gives the paper's. Both agree for
 *   k ≤ 1.
 * - **Momentum.** Not in the paper. The code mixes the gradient with the *previous update* u_{t−1} (the
 *   preconditioned direction, stored as `momentum_buffer` at the end of each step), with weight (1 − μ) on the
 *   gradient; the buffer starts as the first gradient, so the first step uses g₁ unchanged. (Seed 000's
 *   modified copy instead keeps an average of raw gradients; descent follows torch-optimizer.)
 * - **Weight decay** is L2, added after the momentum mix, before the statistics.
 *
 * Inverse roots: `inverseRoot: 'eigh'` (default) computes H^{−1/p} = V·diag(λ^{−1/p})·Vᵀ from a Jacobi
 * eigendecomposition in Float64, which is what torch-optimizer's SVD computes for these symmetric matrices.
 * `'newtonSchulz'` is seed 000's fast variant: the coupled iteration G ← G·W, P ← P·W^p with
 * W = aI + bP + cP² and a tuned coefficient schedule, on P₀ = H/‖H‖_F + ε′I, so it returns
 * (H + ε′‖H‖_F·I)^{−1/p} to within the iteration's convergence (about 1e-9 relative for p = 1, 1e-8 for p = 5,
 * once converged; see `inverseRootNewtonSchulz` in linalg/inverse-root.ts). ε′ is `iterEps` (the seed's
 * `iter_eps`, 1e-5) and `iterSteps` the iteration count: the seed runs as many as its table has rows (6, 5, 5,
 * 4, 4 for p = 1 … 5), which leaves errors up to ~1e-4 even on well-conditioned matrices and does not converge
 * for eigenvalues below ~1e-4·‖H‖_F; the default 12 converges for every eigenvalue ≥ ε′‖H‖_F and p ≤ 8.
 *
 * Layouts: the modes are visited in the order of `matrixView` (row axes, column axes, the other axes
 * ascending), each keeping the preconditioner of its own axis (`precond{i}` is always axis i's). With
 * `statistics: 'paper'` the order does not matter (each statistic is built from X⁽⁰⁾ and mode products along
 * different modes commute), so a permuted layout gives the permuted update. With `statistics: 'code'` (the
 * default) it does: mode i's statistic sees the gradient already preconditioned along the modes visited before
 * it, so a TF.js kernel needs `{ rows: [-1], cols: [-2] }` to be updated as its PyTorch layout would be.
 *
 * Cost: each refresh is O(dᵢ³) per mode (Jacobi: several sweeps of O(dᵢ³)), so Shampoo suits parameters whose
 * dimensions are at most a few hundred; the reference makes no attempt to block large dimensions.
 *
 * Options differ from torch-optimizer's in their ranges: lr may be 0 (warm-up schedules start there; the code
 * requires lr > 0), and momentum must lie in [0, 1] (the code accepts any μ ≥ 0).
 *
 * Long modes: with `maxPreconditionDim` m > 0, a mode with dᵢ > m is skipped in the loop above (R⁽ⁱ⁾ = I, no
 * H⁽ⁱ⁾), as Distributed Shampoo and SOAP do for dimensions above their `max_preconditioner_dim`.
 *
 * State: `precond0` … `precond{k−1}` (H⁽ⁱ⁾, dᵢ × dᵢ, starting at ε·I; none for a skipped mode), `invPrecond0` … (R⁽ⁱ⁾, zeros until the
 * first step), and `momentumBuffer` (u_{t−1}) when μ > 0 — torch-optimizer's `precond_i`, `inv_precond_i` and
 * `momentum_buffer`.
 */
export const shampooDefinition = defineOptimizer<ShampooOptions>({
  name: 'shampoo',
  title: 'Shampoo',
  kind: 'matrix',
  schema: {
    lr: opt.nonNegative(1e-1, 'Learning rate η.'),
    momentum: opt.unitClosed(0, 'Momentum factor μ: the gradient is mixed with the previous update.'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient.'),
    epsilon: opt.nonNegative(1e-4, 'ε: the preconditioners start at ε·I.'),
    updateFreq: opt.count(1, 'Recompute the inverse roots every updateFreq steps.'),
    exponent: opt.oneOf(['code', 'paper'], 'code', 'Root order per mode: k (code, torch-optimizer) or 2k (paper) for a tensor of order k.'),
    statistics: opt.oneOf(['code', 'paper'], 'code', 'Mode statistics from the partly preconditioned gradient (code) or the gradient (paper).'),
    inverseRoot: opt.oneOf(['eigh', 'newtonSchulz'], 'eigh', 'Inverse root by exact eigendecomposition or by the coupled Newton–Schulz iteration.'),
    iterSteps: opt.count(12, 'Iterations of the newtonSchulz inverse root.'),
    iterEps: opt.nonNegative(1e-5, 'ε added to the normalised matrix in the newtonSchulz inverse root.'),
    matrixView: opt.view(PYTORCH_VIEW, 'Order of the modes: the row axes, the column axes, the rest; { rows: [-1], cols: [-2] } for TF.js layer kernels.'),
    maxPreconditionDim: opt.number(0, 'Modes longer than this get no preconditioner (identity); 0: no limit.', { min: { value: 0 }, integer: true }),
  },
  rejectShape: (shape, o) => matrixViewProblem(o.matrixView, shape),
  slots(o, shape) {
    const slots: SlotSpec[] = [];
    if (o.momentum > 0) slots.push({ name: 'momentumBuffer', shape });
    shape.forEach((d, i) => {
      if (!preconditioned(o, d)) return;
      slots.push({
        name: `precond${i}`,
        shape: [d, d],
        init: (out) => {
          for (let a = 0; a < d; a++) out[a * d + a] = o.epsilon;
        },
      });
    });
    shape.forEach((d, i) => {
      if (preconditioned(o, d)) slots.push({ name: `invPrecond${i}`, shape: [d, d] });
    });
    return slots;
  },
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const { lr, momentum: mu, weightDecay: lambda } = o;
    const k = shape.length;
    const u = slots.momentumBuffer;

    // X⁽⁰⁾: the momentum mix (torch-optimizer: grad·(1 − μ) + μ·buffer, the buffer starting as g₁), then L2.
    let x: Float64Array = new Float64Array(theta.length);
    for (let i = 0; i < x.length; i++) {
      const g = grad[i] as number;
      let d = g;
      if (u) d = g * (1 - mu) + mu * (t === 1 ? g : (u[i] as number));
      if (lambda > 0) d = d + lambda * (theta[i] as number);
      x[i] = d;
    }

    const x0 = x;
    const p = (o.exponent === 'paper' ? 2 : 1) * k;
    const refresh = (t - 1) % o.updateFreq === 0;
    for (const i of resolveMatrixView(o.matrixView, shape).order) {
      const d = shape[i] as number;
      if (!preconditioned(o, d)) continue; // X ×ᵢ I = X
      const H = slots[`precond${i}`] as Float64Array;
      const R = slots[`invPrecond${i}`] as Float64Array;
      addModeGram(o.statistics === 'paper' ? x0 : x, shape, i, H);
      if (refresh) {
        if (o.inverseRoot === 'eigh') inverseRootEigh(H, d, p, R);
        else inverseRootNewtonSchulz(H, d, p, { steps: o.iterSteps, eps: o.iterEps }, R);
      }
      x = modeProduct(R, x, shape, i);
    }

    if (u) u.set(x);
    for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) - lr * (x[i] as number);
  },
});

/**
 * Creates a Shampoo spec; see {@link shampooDefinition} for the update rule and how it relates to the paper.
 *
 * @example
 * ```ts
 * const spec = shampoo({ lr: 0.05, updateFreq: 10 });
 * const paper = shampoo({ exponent: 'paper', statistics: 'paper' });
 * ```
 */
export function shampoo(options?: Partial<ShampooOptions & CommonOptions>): OptimizerSpec<ShampooOptions> {
  return makeSpec(shampooDefinition, options);
}
