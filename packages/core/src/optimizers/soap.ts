import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec, type SlotSpec } from '../definition.js';
import { OptionError, show } from '../errors.js';
import { lerpTorch } from '../linalg/matrix.js';
import { permuteAxes } from '../linalg/matrix-view.js';
import { householderQ } from '../linalg/qr.js';
import { jacobiEigen } from '../linalg/symmetric.js';
import { addModeGram, modeProduct } from '../linalg/tensor-modes.js';
import { opt } from '../options.js';

/** Options of {@link soap}; names and defaults as nikhilvyas/SOAP's `SOAP` (camelCased). */
export interface SoapOptions {
  /** Learning rate η. Default 3e-3. */
  readonly lr: number;
  /** Decay rates (β₁, β₂) of Adam's moments in the eigenbasis. Default (0.95, 0.95). */
  readonly betas: readonly [number, number];
  /** Decay rate of the preconditioners GG; −1 (the default) means β₂, as upstream's `shampoo_beta < 0`. */
  readonly shampooBeta: number;
  /** ε added to √v. Default 1e-8. */
  readonly eps: number;
  /** Decoupled weight decay λ, applied after the step: θ ← θ − ηλθ. Default 0.01. */
  readonly weightDecay: number;
  /** The eigenbases are refreshed (one power iteration and a QR) every `preconditionFrequency` Adam steps. Default 10. */
  readonly preconditionFrequency: number;
  /** Modes longer than this get no preconditioner (identity basis). Default 10000. */
  readonly maxPrecondDim: number;
  /** Merge consecutive axes while their product stays ≤ `maxPrecondDim` (see {@link soapMergeDims}). Default false. */
  readonly mergeDims: boolean;
  /** Precondition 1-D parameters too (one d × d preconditioner). Default false: 1-D parameters get plain Adam. */
  readonly precondition1d: boolean;
  /** Divide each update by its RMS (upstream's `normalize_grads`). Default false. */
  readonly normalizeGrads: boolean;
  /**
   * Layout of 4-D parameters when `mergeDims` merges their axes: `channelsFirst` (NCHW, upstream's
   * `"channels_first"`) or `channelsLast` (NHWC, `"channels_last"`: the axes are merged in the order 0, 3, 1, 2).
   * Without `mergeDims` it changes nothing, as upstream. Default `channelsFirst`.
   */
  readonly dataFormat: 'channelsFirst' | 'channelsLast';
  /** Bias-correct Adam's step size. Default true. */
  readonly correctBias: boolean;
}

/**
 * upstream's `merge_dims`: walks the axes, multiplying them together while the product stays ≤ `maxDim`; an
 * axis that would push it over starts a new group (an axis longer than `maxDim` stays on its own). Axes of
 * length 1 vanish inside a group; a scalar becomes [1].
 */
export function soapMergeDims(shape: readonly number[], maxDim: number): number[] {
  const out: number[] = [];
  let current = 1;
  for (const d of shape) {
    const next = current * d;
    if (next > maxDim) {
      if (current > 1) {
        out.push(current);
        current = d;
      } else {
        out.push(d);
        current = 1;
      }
    } else current = next;
  }
  if (current > 1 || out.length === 0) out.push(current);
  return out;
}

/** How SOAP sees a parameter: the shape it works on, which of its modes have a preconditioner, the axis order. */
export interface SoapLayout {
  /** The working shape: the parameter's, or its merged form with `mergeDims`. */
  readonly shape: readonly number[];
  /** Axis order that brings the parameter into the working layout (channels-last 4-D merged), or null. */
  readonly permutation: readonly number[] | null;
  /** The modes (axes of `shape`) that have a preconditioner `GG<i>` and a basis `Q<i>`, ascending. */
  readonly modes: readonly number[];
}

/** The {@link SoapLayout} of a parameter of this shape: upstream's `init_preconditioner` and `merge_dims`. */
export function soapLayout(o: SoapOptions, shape: readonly number[]): SoapLayout {
  const permutation = o.mergeDims && o.dataFormat === 'channelsLast' && shape.length === 4 ? [0, 3, 1, 2] : null;
  const base = permutation ? permutation.map((i) => shape[i] as number) : [...shape];
  const work = o.mergeDims && shape.length !== 1 ? soapMergeDims(base, o.maxPrecondDim) : base;
  let modes: number[];
  if (shape.length === 1) modes = o.precondition1d && (shape[0] as number) <= o.maxPrecondDim ? [0] : [];
  else modes = work.flatMap((d, i) => (d <= o.maxPrecondDim ? [i] : []));
  return { shape: work, permutation, modes };
}

/**
 * The first eigenbasis of a preconditioner (upstream's `get_orthogonal_matrix`): the eigenvectors of
 * GG + 10⁻³⁰·I, by eigenvalue descending (torch.linalg.eigh's ascending order, flipped), as the columns of a
 * d × d row-major matrix.
 *
 * Signs: an eigenvector's sign is arbitrary (LAPACK's follows from its Householder reductions, Jacobi's from its
 * rotation angles, and both flip for inputs that differ by rounding when two diagonal entries tie, as in the
 * statistics of a centralized gradient). Each column q is oriented so that Σₐ qₐ/(a + √2) > 0: a fixed rule, so
 * backends computing the basis from float32 statistics choose the signs the reference does, and one whose
 * tipping point (that sum near 0) no symmetric pattern of entries reaches. SOAP's parameters do not depend on the
 * signs (the projection and its inverse use the same basis).
 */
export function soapEigenbasis(gg: ArrayLike<number>, d: number): Float64Array {
  const m = Float64Array.from(gg);
  for (let a = 0; a < d; a++) m[a * d + a] = (m[a * d + a] as number) + 1e-30;
  const { vectors } = jacobiEigen(m, d);
  const q = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    const col = d - 1 - c;
    let orient = 0;
    for (let a = 0; a < d; a++) orient += (vectors[a * d + col] as number) / (a + Math.SQRT2);
    const sign = orient < 0 ? -1 : 1;
    for (let a = 0; a < d; a++) q[a * d + c] = sign * (vectors[a * d + col] as number);
  }
  return q;
}

/**
 * One refresh of a basis (upstream's `get_orthogonal_matrix_QR`, for one mode): the estimated eigenvalues
 * diag(QᵀGGQ), the order that sorts them descending, and Q′ = qr(GG·Q[:, order]) (one power iteration,
 * {@link householderQ}). The caller permutes the second moment along the mode by `order`.
 */
export function soapRefreshBasis(gg: ArrayLike<number>, q: ArrayLike<number>, d: number): { readonly q: Float64Array; readonly order: number[] } {
  const est = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    let s = 0;
    for (let a = 0; a < d; a++) {
      let row = 0;
      for (let b = 0; b < d; b++) row += (gg[a * d + b] as number) * (q[b * d + c] as number);
      s += (q[a * d + c] as number) * row;
    }
    est[c] = s;
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => (est[j] as number) - (est[i] as number));
  const power = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let c = 0; c < d; c++) {
      const col = order[c] as number;
      let s = 0;
      for (let b = 0; b < d; b++) s += (gg[a * d + b] as number) * (q[b * d + col] as number);
      power[a * d + c] = s;
    }
  }
  return { q: householderQ(power, d), order };
}

/** x.index_select(mode, order): element j along `mode` becomes element order[j]. */
export function selectAlongMode(x: Float64Array, shape: readonly number[], mode: number, order: readonly number[]): Float64Array {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < mode; i++) outer *= shape[i] as number;
  for (let i = mode + 1; i < shape.length; i++) inner *= shape[i] as number;
  const d = shape[mode] as number;
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < d; j++) {
      const src = (o * d + (order[j] as number)) * inner;
      const dst = (o * d + j) * inner;
      for (let r = 0; r < inner; r++) y[dst + r] = x[src + r] as number;
    }
  }
  return y;
}

function transposeSquare(m: Float64Array, d: number): Float64Array {
  const t = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) t[b * d + a] = m[a * d + b] as number;
  return t;
}

/**
 * SOAP (Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson & Kakade, "SOAP: Improving and Stabilizing
 * Shampoo using Adam", arXiv 2409.11321, ICLR 2025): Adam run in the eigenbasis of Shampoo's preconditioners,
 * the eigenbasis refreshed every f = `preconditionFrequency` steps. It follows nikhilvyas/SOAP's `soap.py` at
 * commit f42d296cb4146a67fbe811371e6badb9a39cc54d ("momentum change", 2 Dec 2024; the file of the repository's
 * head a1e55353), operation for operation.
 *
 * A parameter's gradient G is seen in a working shape (the parameter's, or its merged axes with `mergeDims`),
 * and mode i of it has a dᵢ × dᵢ preconditioner GGᵢ with an orthogonal basis Qᵢ unless dᵢ > `maxPrecondDim`
 * (1-D parameters only with `precondition1d`); a mode without one uses the identity. With the projections
 * P(X) = X ×₀ Q₀ᵀ ×₁ Q₁ᵀ ⋯ and P⁻¹(X) = X ×₀ Q₀ ×₁ Q₁ ⋯ (mode products, {@link modeProduct}), G₍ᵢ₎ the mode-i
 * unfolding, β_s = `shampooBeta` (β₂ when −1), s = t − 1 the Adam step count (upstream's `state['step']`):
 *
 * **Step t = 1** only initialises: GGᵢ = (1 − β_s)·G₍ᵢ₎G₍ᵢ₎ᵀ and Qᵢ = eigenvectors of GGᵢ by eigenvalue descending
 * (upstream: "first step is skipped so that we never use the current gradients in the projection"); θ is not
 * changed, not even by the weight decay.
 *
 * **Steps t ≥ 2** (m is kept in the eigenbasis):
 *
 * $$
 * \begin{aligned}
 * G' &= P(G_t), \qquad m \leftarrow \beta_1 m + (1-\beta_1)\,G', \qquad v \leftarrow \beta_2 v + (1-\beta_2)\,G'^{\,2} \\
 * N &= P^{-1}\!\Big(\frac{m}{\sqrt{v} + \epsilon}\Big), \qquad
 *   N \leftarrow \frac{N}{10^{-30} + \operatorname{rms}(N)} \ \text{(normalizeGrads)} \\
 * \theta &\leftarrow \theta - \eta\,\frac{\sqrt{1-\beta_2^{\,s}}}{1-\beta_1^{\,s}}\,N \ \text{(no factor without correctBias)}, \qquad
 *   \theta \leftarrow \theta - \eta\lambda\,\theta \\
 * GG_i &\leftarrow \operatorname{lerp}\big(GG_i,\ G_{t(i)} G_{t(i)}^\top,\ 1-\beta_s\big) \\
 * \text{if } s \bmod f = 0:&\quad m_0 = P^{-1}(m);\ \text{for each } i:\ \pi = \operatorname{argsort}_\downarrow \operatorname{diag}(Q_i^\top GG_i Q_i),\
 *   v \leftarrow v[\ldots, \pi, \ldots]_{(i)},\ Q_i \leftarrow \operatorname{qr}(GG_i\, Q_i[:, \pi])_Q;\ \ m = P(m_0)
 * \end{aligned}
 * $$
 *
 * The refresh is one power iteration followed by a QR ({@link householderQ}, LAPACK's conventions as
 * torch.linalg.qr), after sorting the old basis by its estimated eigenvalues, and m is carried over into the new
 * basis. The first basis comes from a full eigendecomposition (core's Jacobi method, {@link soapEigenbasis}).
 *
 * Versions of upstream's soap.py, and how this one differs:
 * - Earlier versions (ff0ab99 to 54480a8, Sept–Nov 2024) kept m in the original space, accumulated the raw
 *   gradient into it and projected it at every step; f42d296 keeps m in the eigenbasis and rotates it on refresh.
 *   In exact arithmetic the two are the same update. The first version also defaulted to `weight_decay` 0 and
 *   `merge_dims` true, and had no `normalize_grads`.
 * - pytorch_optimizer's `SOAP` (kozistr/pytorch_optimizer, `pytorch_optimizer/optimizer/soap.py` as read at commit
 *   0183e875574a03d2673dc38e99201578d49686aa) follows the earlier form (m in the
 *   original space) and counts steps per group including the initialising step, so its bias corrections and
 *   refreshes use s + 1 where upstream uses s; it passes `shampoo_beta` = −1 through as the lerp weight 2 (no β₂
 *   fallback), and has no `normalize_grads`. descent follows nikhilvyas/SOAP.
 * - Upstream projects m back and forth with the unchanged basis at every non-refresh step as well (an identity in
 *   exact arithmetic); the reference does it on refresh steps only.
 * - Upstream computes the eigendecomposition and QR in float32 whatever the parameters' dtype; the reference
 *   computes them in Float64 (the golden script, tools/golden/soap.py, does the same in float64).
 * - Eigenvector signs (and the order of equal eigenvalues) are arbitrary; the reference orients each first
 *   eigenvector by a fixed rule ({@link soapEigenbasis}) where LAPACK's come out of its reductions. They change Q
 *   and m (by the same signs) but not the parameters; after the first refresh the QR fixes them (its result does
 *   not depend on the signs of its input's columns).
 *
 * Cost per step: every mode's Gram matrix (dᵢ·size) and two projections (2·Σdᵢ·size); per refresh a dᵢ³
 * power iteration and QR per mode, and a Jacobi eigendecomposition on the first step.
 *
 * Options differ from upstream's in their ranges only: lr may be 0 (warm-up schedules), `shampooBeta` must be −1
 * or in [0, 1), and `dataFormat` takes camelCase values.
 *
 * State: `expAvg` (m, in the eigenbasis, in the parameter's shape), `expAvgSq` (v, same), and per preconditioned
 * mode i of the working shape `GG<i>` and `Q<i>` (dᵢ × dᵢ, zero until the first step) — upstream's
 * `exp_avg`, `exp_avg_sq`, `GG[i]` and `Q[i]`; upstream's `step` is the parameter's step count minus one.
 */
export const soapDefinition = defineOptimizer<SoapOptions>({
  name: 'soap',
  title: 'SOAP',
  kind: 'matrix',
  schema: {
    lr: opt.nonNegative(3e-3, 'Learning rate η.'),
    betas: opt.betas([0.95, 0.95], "Decay rates (β₁, β₂) of Adam's moments in the eigenbasis."),
    shampooBeta: opt.number(-1, 'Decay rate of the preconditioners; −1 means β₂.', { min: { value: -1 }, max: { value: 1, open: true } }),
    eps: opt.nonNegative(1e-8, 'ε added to √v.'),
    weightDecay: opt.nonNegative(1e-2, 'Decoupled weight decay λ, after the step: θ ← θ − ηλθ.'),
    preconditionFrequency: opt.count(10, 'Refresh the eigenbases every preconditionFrequency Adam steps.'),
    maxPrecondDim: opt.count(10000, 'Modes longer than this get no preconditioner.'),
    mergeDims: opt.flag(false, 'Merge consecutive axes while their product stays ≤ maxPrecondDim.'),
    precondition1d: opt.flag(false, 'Precondition 1-D parameters too.'),
    normalizeGrads: opt.flag(false, 'Divide each update by its RMS.'),
    dataFormat: opt.oneOf(['channelsFirst', 'channelsLast'], 'channelsFirst', 'Layout of 4-D parameters when mergeDims merges their axes (NCHW or NHWC).'),
    correctBias: opt.flag(true, "Bias-correct Adam's step size."),
  },
  check(o, where) {
    if (o.shampooBeta < 0 && o.shampooBeta !== -1) {
      throw new OptionError(`${where}: option "shampooBeta" must be -1 (use betas[1]) or in [0, 1), got ${show(o.shampooBeta)}`);
    }
  },
  slots(o, shape) {
    const layout = soapLayout(o, shape);
    const slots: SlotSpec[] = [
      { name: 'expAvg', shape },
      { name: 'expAvgSq', shape },
    ];
    for (const i of layout.modes) {
      const d = layout.shape[i] as number;
      slots.push({ name: `GG${i}`, shape: [d, d] }, { name: `Q${i}`, shape: [d, d] });
    }
    return slots;
  },
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const layout = soapLayout(o, shape);
    const work = layout.shape;
    const perm = layout.permutation;
    const toWork = (x: Float64Array): Float64Array => (perm ? permuteAxes(x, shape, perm) : Float64Array.from(x));
    const fromWork = (x: Float64Array): Float64Array => (perm ? permuteAxes(x, shape, perm, true) : x);
    const [beta1, beta2] = o.betas;
    const shampooBeta = o.shampooBeta >= 0 ? o.shampooBeta : beta2;
    const g = toWork(grad);

    const updateStatistics = (): void => {
      for (const i of layout.modes) {
        const d = work[i] as number;
        const gg = slots[`GG${i}`] as Float64Array;
        const outer = new Float64Array(d * d);
        addModeGram(g, work, i, outer);
        for (let k = 0; k < gg.length; k++) gg[k] = lerpTorch(gg[k] as number, outer[k] as number, 1 - shampooBeta);
      }
    };
    const project = (x: Float64Array, back: boolean): Float64Array => {
      let y = x;
      for (const i of layout.modes) {
        const d = work[i] as number;
        const q = slots[`Q${i}`] as Float64Array;
        y = modeProduct(back ? q : transposeSquare(q, d), y, work, i);
      }
      return y;
    };

    if (t === 1) {
      updateStatistics();
      for (const i of layout.modes) (slots[`Q${i}`] as Float64Array).set(soapEigenbasis(slots[`GG${i}`] as Float64Array, work[i] as number));
      return;
    }

    const s = t - 1;
    const m = toWork(slots.expAvg as Float64Array);
    let v = toWork(slots.expAvgSq as Float64Array);
    const gp = project(g, false);
    const ratio = new Float64Array(gp.length);
    for (let k = 0; k < gp.length; k++) {
      const x = gp[k] as number;
      m[k] = (m[k] as number) * beta1 + (1 - beta1) * x;
      v[k] = (v[k] as number) * beta2 + (1 - beta2) * (x * x);
      ratio[k] = (m[k] as number) / (Math.sqrt(v[k] as number) + o.eps);
    }
    let stepSize = o.lr;
    if (o.correctBias) stepSize = (stepSize * Math.sqrt(1 - beta2 ** s)) / (1 - beta1 ** s);
    const n = fromWork(project(ratio, true));
    if (o.normalizeGrads && n.length > 0) {
      let sq = 0;
      for (let k = 0; k < n.length; k++) sq += (n[k] as number) ** 2;
      const scale = 1e-30 + Math.sqrt(sq / n.length);
      for (let k = 0; k < n.length; k++) n[k] = (n[k] as number) / scale;
    }
    for (let k = 0; k < theta.length; k++) theta[k] = (theta[k] as number) - stepSize * (n[k] as number);
    if (o.weightDecay > 0) {
      const decay = -o.lr * o.weightDecay;
      for (let k = 0; k < theta.length; k++) theta[k] = (theta[k] as number) + decay * (theta[k] as number);
    }

    updateStatistics();
    let mOut = m;
    if (s % o.preconditionFrequency === 0) {
      const original = project(m, true);
      for (const i of layout.modes) {
        const d = work[i] as number;
        const q = slots[`Q${i}`] as Float64Array;
        const refreshed = soapRefreshBasis(slots[`GG${i}`] as Float64Array, q, d);
        v = selectAlongMode(v, work, i, refreshed.order);
        q.set(refreshed.q);
      }
      mOut = project(original, false);
    }
    (slots.expAvg as Float64Array).set(fromWork(mOut));
    (slots.expAvgSq as Float64Array).set(fromWork(v));
  },
});

/**
 * Creates a SOAP spec; see {@link soapDefinition} for the update rule and the upstream version it follows.
 *
 * @example
 * ```ts
 * const spec = soap({ lr: 3e-3, preconditionFrequency: 10 });
 * const merged = soap({ mergeDims: true, maxPrecondDim: 1024 });
 * ```
 */
export function soap(options?: Partial<SoapOptions & CommonOptions>): OptimizerSpec<SoapOptions> {
  return makeSpec(soapDefinition, options);
}
