import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { lerpTorch, matrix } from '../linalg/matrix.js';
import { matrixViewProblem, permuteAxes, PYTORCH_VIEW, resolveMatrixView, type MatrixView } from '../linalg/matrix-view.js';
import { newtonSchulz, type NewtonSchulzNormalization } from '../linalg/newton-schulz.js';
import { opt } from '../options.js';

/** How the update of an m × n matrix is scaled: see {@link muonLrScale}. */
export type MuonAdjustLr = 'original' | 'matchRmsAdamw';

/** Options of {@link muon}; defaults as Keller Jordan's `SingleDeviceMuon`, extra options as `torch.optim.Muon`. */
export interface MuonOptions {
  /** Learning rate η, in units of spectral norm per update. Default 0.02. */
  readonly lr: number;
  /** Momentum β of the buffer B ← β·B + (1 − β)·g. Default 0.95. */
  readonly momentum: number;
  /** Orthogonalize the Nesterov blend (1 − β)·g + β·B instead of B. Default true. */
  readonly nesterov: boolean;
  /** Decoupled weight decay λ: θ ← θ·(1 − ηλ). Default 0. */
  readonly weightDecay: number;
  /** Newton–Schulz coefficient a (φ(σ) = aσ + bσ³ + cσ⁵). Default 3.4445. */
  readonly nsA: number;
  /** Newton–Schulz coefficient b. Default −4.7750. */
  readonly nsB: number;
  /** Newton–Schulz coefficient c. Default 2.0315. */
  readonly nsC: number;
  /** Number of Newton–Schulz steps k. Default 5. */
  readonly nsSteps: number;
  /** ε of the normalisation X₀ = U / (‖U‖_F + ε). Default 1e-7. */
  readonly nsEps: number;
  /** Shape scale of the update: `original` (Keller's) or `matchRmsAdamw` (Moonshot's). Default `original`. */
  readonly adjustLr: MuonAdjustLr;
  /**
   * Which axes are the rows (the layer's outputs) of the matrix Muon orthogonalizes; see {@link MatrixView}.
   * Default `{ rows: [0], cols: [] }`, PyTorch's layouts; `{ rows: [-1], cols: [-2] }` for TF.js layer kernels.
   */
  readonly matrixView: MatrixView;
}

/** Option schema of {@link muon} (shared with the Muon half of {@link muonWithAuxAdam}). */
export const muonSchema = {
  lr: opt.nonNegative(0.02, 'Learning rate η (spectral norm per update).'),
  momentum: opt.unitHalfOpen(0.95, 'Momentum β of the buffer B ← β·B + (1 − β)·g.'),
  nesterov: opt.flag(true, 'Orthogonalize the Nesterov blend (1 − β)·g + β·B instead of B.'),
  weightDecay: opt.nonNegative(0, 'Decoupled weight decay λ: θ ← θ·(1 − ηλ).'),
  nsA: opt.number(3.4445, 'Newton–Schulz coefficient a of φ(σ) = aσ + bσ³ + cσ⁵.'),
  nsB: opt.number(-4.775, 'Newton–Schulz coefficient b of φ(σ) = aσ + bσ³ + cσ⁵.'),
  nsC: opt.number(2.0315, 'Newton–Schulz coefficient c of φ(σ) = aσ + bσ³ + cσ⁵.'),
  nsSteps: opt.count(5, 'Number of Newton–Schulz steps.'),
  nsEps: opt.nonNegative(1e-7, 'ε of the normalisation U / (‖U‖_F + ε) before Newton–Schulz.'),
  adjustLr: opt.oneOf(['original', 'matchRmsAdamw'], 'original', 'Shape scale: "original" √max(1, m/n), "matchRmsAdamw" 0.2·√max(m, n).'),
  matrixView: opt.view(PYTORCH_VIEW, 'Axes forming the rows (outputs) and columns of the matrix: PyTorch\'s { rows: [0] } by default, { rows: [-1], cols: [-2] } for TF.js layer kernels.'),
} as const;

/**
 * The matrix Muon sees in a parameter of this shape under `view` (default PyTorch's): the product of the row
 * axes' sizes × the product of the others'. Under the default a 2-D parameter is itself and a convolution filter
 * (out, in, h, w) becomes out × (in·h·w); a TF.js kernel (h, w, in, out) under `{ rows: [-1], cols: [-2] }` too.
 */
export function muonMatrixShape(shape: readonly number[], view: MatrixView = PYTORCH_VIEW): [rows: number, cols: number] {
  const { rows, cols } = resolveMatrixView(view, shape);
  return [rows, cols];
}

/**
 * The factor s that multiplies the orthogonalized update of an m × n matrix (PyTorch's `adjust_lr_fn`):
 * `original` = √max(1, m/n), Keller Jordan's, which makes a tall matrix's update as large per element as a wide
 * one's; `matchRmsAdamw` = 0.2·√max(m, n), Moonshot's ("Muon is Scalable for LLM Training", 2025), which gives
 * the update the RMS of a typical AdamW update so AdamW's learning rate and weight decay carry over.
 */
export function muonLrScale(rows: number, cols: number, adjustLr: MuonAdjustLr): number {
  return adjustLr === 'matchRmsAdamw' ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols));
}

/** Why Muon refuses a shape (fewer than 2 dimensions), or undefined. */
export function muonShapeProblem(shape: readonly number[]): string | undefined {
  if (shape.length >= 2) return undefined;
  return `Muon orthogonalizes matrices and needs a parameter with at least 2 dimensions, got ${shape.length}`;
}

/**
 * Keller Jordan's `muon_update` in Float64: updates the momentum buffer in place and returns the scaled,
 * orthogonalized update s·NS(U) (a fresh array, row-major in the parameter's layout). Never writes `grad`.
 * `normalize` = `clamp` divides by max(‖U‖_F, ε) as `torch.optim.Muon` does (`muonTorch`).
 */
export function muonUpdate(o: MuonOptions, shape: readonly number[], grad: Float64Array, buf: Float64Array, normalize: NewtonSchulzNormalization = 'add'): Float64Array {
  const beta = o.momentum;
  const u = new Float64Array(grad.length);
  for (let i = 0; i < grad.length; i++) {
    const g = grad[i] as number;
    buf[i] = lerpTorch(buf[i] as number, g, 1 - beta); // B ← β·B + (1 − β)·g
    u[i] = o.nesterov ? lerpTorch(g, buf[i] as number, beta) : (buf[i] as number); // U = (1 − β)·g + β·B, or B
  }
  if (u.length === 0) return u;
  // The view's matrix: U with its axes reordered rows first, read row-major (no copy under PyTorch's view).
  const view = resolveMatrixView(o.matrixView, shape);
  const { rows, cols } = view;
  const viewed = view.identity ? u : permuteAxes(u, shape, view.order);
  const ns = newtonSchulz(matrix(viewed, rows, cols), { coefficients: [o.nsA, o.nsB, o.nsC], steps: o.nsSteps, eps: o.nsEps, normalize }).data;
  const orthogonal = view.identity ? ns : permuteAxes(ns, shape, view.order, true);
  const s = muonLrScale(rows, cols, o.adjustLr);
  for (let i = 0; i < orthogonal.length; i++) orthogonal[i] = (orthogonal[i] as number) * s;
  return orthogonal;
}

/**
 * Muon, MomentUm Orthogonalized by Newton–Schulz (Keller Jordan et al., "Muon: An optimizer for hidden layers in
 * neural networks", 2024, kellerjordan.github.io/posts/muon), following `SingleDeviceMuon` of Keller Jordan's
 * muon.py (github.com/KellerJordan/Muon) operation for operation, with the options PyTorch 2.9's
 * `torch.optim.Muon` adds (Nesterov switch, NS coefficients, steps and ε, `adjust_lr_fn`). Defaults are
 * Keller's (lr 0.02, weight decay 0), not PyTorch's (lr 1e-3, weight decay 0.1).
 *
 * Momentum SGD whose update is replaced by (approximately) the nearest semi-orthogonal matrix: for a parameter
 * viewed as an m × n matrix, with gradient g_t,
 *
 * $$
 * \begin{aligned}
 * B_t &= \beta B_{t-1} + (1-\beta)\, g_t \\
 * U_t &= \begin{cases} (1-\beta)\, g_t + \beta B_t & \text{nesterov} \\ B_t & \text{otherwise} \end{cases} \\
 * O_t &= \mathrm{NS}^{(a,b,c)}_k\!\left(U_t\right) \approx \operatorname{msign}(U_t) = P Q^\top \quad (U_t = P \Sigma Q^\top) \\
 * \theta_t &= \theta_{t-1}\,(1-\eta\lambda) - \eta\, s\, O_t, \qquad
 *   s = \begin{cases} \sqrt{\max(1, m/n)} & \text{original} \\ 0.2\sqrt{\max(m, n)} & \text{matchRmsAdamw} \end{cases}
 * \end{aligned}
 * $$
 *
 * where NS is k Newton–Schulz steps with coefficients (a, b, c) after normalising U_t by ‖U_t‖_F + ε (see
 * `newtonSchulz` in linalg/newton-schulz.ts). The weight decay uses the unscaled η, as Keller and PyTorch do.
 *
 * - **Precision.** This reference runs Newton–Schulz in Float64; Keller's runs it in bfloat16 (PyTorch's too).
 *   The iteration is self-correcting, so the two agree to about bfloat16's precision, not bit for bit.
 * - **Shapes.** Parameters with fewer than 2 dimensions are refused: route biases, gains, embeddings and the
 *   output layer to AdamW, e.g. with {@link muonWithAuxAdam}. Every parameter with 3 or more dimensions is
 *   viewed as (shape[0], −1), and s uses that view. (Keller's flattens 4-D only, orthogonalizes a 3-D one as a
 *   batch of matrices, and computes s from the last two dimensions of the unflattened gradient; PyTorch's
 *   accepts 2-D only.)
 * - **Layouts.** That view assumes PyTorch's layouts, output axis first. `matrixView` names the row (output)
 *   axes R of other layouts (and, first among the columns, axes C): U is read as the matrix of its axes reordered
 *   (R, C, the unlisted axes ascending), orthogonalized, and put back,
 *   $$ O_t = \mathrm{mat}_R^{-1}\!\big(\mathrm{NS}(\mathrm{mat}_R(U_t))\big), \qquad
 *      \mathrm{mat}_R(U) \in \mathbb{R}^{m \times n}, \quad m = \textstyle\prod_{a \in R} d_a, \ n = \prod_{a \notin R} d_a, $$
 *   and m, n in s are the view's. A TF.js kernel [kh, kw, in, out] under `{ rows: [-1], cols: [-2] }`
 *   gets exactly the update of the PyTorch filter [out, in, kh, kw] with the same values. Only which axes are
 *   rows matters mathematically (msign(P·U·Q) = P·msign(U)·Q for permutations P, Q); the column order only
 *   changes the order of sums.
 * - **Missing gradients** skip the parameter, as in every descent optimizer; Keller's steps it with a zero
 *   gradient. His `grad.lerp_` also overwrites `p.grad` with the Nesterov blend; the user's gradient is never
 *   written here.
 * - PyTorch normalises by max(‖U‖_F, ε) instead of ‖U‖_F + ε; the two differ only for ‖U‖_F near ε.
 *
 * State: `momentumBuffer` (B), shaped like the parameter.
 */
export const muonDefinition = defineOptimizer<MuonOptions>({
  name: 'muon',
  title: 'Muon',
  kind: 'matrix',
  schema: muonSchema,
  rejectShape(shape, o) {
    const problem = muonShapeProblem(shape);
    if (problem) return `${problem}; optimize biases, gains and scalars with AdamW instead, e.g. with muonWithAuxAdam, which routes them to its auxiliary Adam`;
    return matrixViewProblem(o.matrixView, shape);
  },
  slots: (_o, shape) => [{ name: 'momentumBuffer', shape }],
  update({ options: o, shape, param: theta, grad, slots }) {
    const { lr, weightDecay: lambda } = o;
    const update = muonUpdate(o, shape, grad, slots.momentumBuffer as Float64Array);
    const decay = 1 - lr * lambda;
    for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) * decay - lr * (update[i] as number);
  },
});

/**
 * Creates a Muon spec; see {@link muonDefinition} for the update rule. Muon only takes parameters with 2 or more
 * dimensions; use {@link muonWithAuxAdam} to train a whole network with one optimizer.
 *
 * @example
 * ```ts
 * const spec = muon({ lr: 0.02, momentum: 0.95 });
 * const opt = createReference(spec, { 'block.0.mlp.weight': tensor(new Float64Array(64 * 32), [64, 32]) });
 * ```
 */
export function muon(options?: Partial<MuonOptions & CommonOptions>): OptimizerSpec<MuonOptions> {
  return makeSpec(muonDefinition, options);
}
