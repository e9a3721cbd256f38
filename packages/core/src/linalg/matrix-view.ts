/**
 * Matrix views of parameters, for the optimizers that treat a parameter as a matrix (Muon) or as a sequence of
 * modes (Shampoo). A view names the parameter's axes that index the rows of the matrix — the layer's *output*
 * axes — and, optionally, the column axes in order; the remaining axes follow the listed columns in ascending
 * order. Negative axes count from the end (−1 is the last), so one view serves parameters of different ranks.
 *
 * The default, `{ rows: [0], cols: [] }`, is PyTorch's: a dense weight [out, in] is itself and a convolution
 * filter [out, in, kh, kw] is out × (in·kh·kw). TF.js layers store a dense kernel as [in, out] and a convolution
 * kernel as [kh, kw, in, out]; `{ rows: [-1], cols: [-2] }` views both as PyTorch would view the same layer.
 *
 * @packageDocumentation
 */

/** Which axes of a parameter form the rows (outputs) and, in order, the columns of its matrix view. */
export interface MatrixView {
  /** Axes indexing the rows, outermost first; negative counts from the end. At least one. */
  readonly rows: readonly number[];
  /** Axes indexing the columns, outermost first, before the unlisted axes (ascending). May be empty. */
  readonly cols: readonly number[];
}

/** PyTorch's view: the first axis is the output axis, the others (in order) the columns. */
export const PYTORCH_VIEW: MatrixView = Object.freeze({ rows: Object.freeze([0]), cols: Object.freeze([]) });

/** The view of TF.js layer kernels ([in, out], [k…, in, out]): rows the last axis, then the input axis, then the rest. */
export const CHANNELS_LAST_VIEW: MatrixView = Object.freeze({ rows: Object.freeze([-1]), cols: Object.freeze([-2]) });

/** A view resolved for one shape: every axis once, rows first, and how many of them are rows. */
export interface ResolvedView {
  /** The parameter's axes in view order (a permutation of 0 … k−1). */
  readonly order: readonly number[];
  /** How many leading entries of `order` are row axes. */
  readonly rowAxes: number;
  /** Product of the row axes' sizes. */
  readonly rows: number;
  /** Product of the other axes' sizes. */
  readonly cols: number;
  /** Whether `order` is 0, 1, …, k−1 (no data moves). */
  readonly identity: boolean;
}

/** Why `view` does not fit a parameter of `shape` (an axis it lacks, an axis named twice), or undefined. */
export function matrixViewProblem(view: MatrixView, shape: readonly number[]): string | undefined {
  const k = shape.length;
  if (k < 2) return undefined;
  const seen = new Set<number>();
  for (const a of [...view.rows, ...view.cols]) {
    if (a < -k || a >= k) return `option "matrixView" ${JSON.stringify(view)} names axis ${a}, which a ${k}-D parameter does not have (axes are ${-k} … ${k - 1})`;
    const axis = a < 0 ? a + k : a;
    if (seen.has(axis)) return `option "matrixView" ${JSON.stringify(view)} names axis ${axis} of this ${k}-D parameter twice`;
    seen.add(axis);
  }
  return undefined;
}

/**
 * Resolves `view` for `shape` (which must have no {@link matrixViewProblem}). Parameters with fewer than two
 * axes have one order only; their view is the identity with every axis a row.
 */
export function resolveMatrixView(view: MatrixView, shape: readonly number[]): ResolvedView {
  const k = shape.length;
  if (k < 2) return { order: shape.map((_, i) => i), rowAxes: k, rows: shape[0] ?? 1, cols: 1, identity: true };
  const problem = matrixViewProblem(view, shape);
  if (problem) throw new RangeError(problem);
  const norm = (a: number): number => (a < 0 ? a + k : a);
  const listed = [...view.rows.map(norm), ...view.cols.map(norm)];
  const order = [...listed, ...shape.map((_, i) => i).filter((i) => !listed.includes(i))];
  let rows = 1;
  let cols = 1;
  order.forEach((axis, j) => {
    if (j < view.rows.length) rows *= shape[axis] as number;
    else cols *= shape[axis] as number;
  });
  return { order, rowAxes: view.rows.length, rows, cols, identity: order.every((a, i) => a === i) };
}

/** The permutation q with q[order[j]] = j, which puts a tensor in view order back in the parameter's layout. */
export function inversePermutation(order: readonly number[]): number[] {
  const q = new Array<number>(order.length);
  order.forEach((axis, j) => (q[axis] = j));
  return q;
}

/**
 * The tensor with its axes reordered: `out` has shape `order.map((a) => shape[a])` and
 * out[j₀, …, j_{k−1}] = x[i] with i_{order[m]} = j_m, both row-major. With `inverse`, undoes that permutation
 * (x is in view order, the result in the parameter's layout).
 */
export function permuteAxes<A extends Float64Array | Float32Array>(x: A, shape: readonly number[], order: readonly number[], inverse = false): A {
  const k = shape.length;
  const strides = new Array<number>(k);
  let s = 1;
  for (let i = k - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  // Source stride of each view axis, and the view's own sizes; walk the view in row-major order.
  const sizes = order.map((a) => shape[a] as number);
  const srcStride = order.map((a) => strides[a] as number);
  const out = new (x.constructor as new (n: number) => A)(x.length);
  const idx = new Array<number>(k).fill(0);
  let src = 0;
  for (let j = 0; j < x.length; j++) {
    if (inverse) out[src] = x[j] as number;
    else out[j] = x[src] as number;
    for (let m = k - 1; m >= 0; m--) {
      idx[m] = (idx[m] as number) + 1;
      src += srcStride[m] as number;
      if ((idx[m] as number) < (sizes[m] as number)) break;
      src -= (idx[m] as number) * (srcStride[m] as number);
      idx[m] = 0;
    }
  }
  return out;
}
