import ndarray from 'ndarray';
import { jacobiEigen } from './symmetric.js';

/**
 * Small dense Float64 matrix helpers for the matrix optimizers (Muon, later Shampoo) and their tests. Matrices
 * are 2-D `ndarray` views, so a transpose is a view (`m.transpose(1, 0)`, no copy) and every helper accepts any
 * strides; results are fresh dense row-major matrices. Written for clarity and for the reference's sizes, not for
 * speed: plain triple loops, plain summation.
 *
 * @packageDocumentation
 */

/** A 2-D Float64 `ndarray` view (any strides and offset). */
export type Matrix = ndarray.NdArray<Float64Array>;

/** A dense row-major `rows × cols` view of `data` (shared, not copied). */
export function matrix(data: Float64Array | readonly number[], rows: number, cols: number): Matrix {
  const values = data instanceof Float64Array ? data : Float64Array.from(data);
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || rows * cols !== values.length) {
    throw new RangeError(`matrix: ${rows} × ${cols} does not match ${values.length} values`);
  }
  return ndarray(values, [rows, cols]);
}

/** A `rows × cols` matrix of zeros. */
export function zeros(rows: number, cols: number): Matrix {
  return matrix(new Float64Array(rows * cols), rows, cols);
}

/** The `n × n` identity. */
export function identity(n: number): Matrix {
  const out = zeros(n, n);
  for (let i = 0; i < n; i++) out.data[i * n + i] = 1;
  return out;
}

function dims(m: Matrix): [number, number] {
  if (m.shape.length !== 2) throw new RangeError(`expected a matrix, got shape [${m.shape.join(', ')}]`);
  return [m.shape[0] as number, m.shape[1] as number];
}

/** Element (i, j) of any view. */
export function at(m: Matrix, i: number, j: number): number {
  return m.data[m.offset + i * (m.stride[0] as number) + j * (m.stride[1] as number)] as number;
}

/** A dense row-major copy of any view (a transposed view becomes a transposed matrix). */
export function dense(m: Matrix): Matrix {
  const [rows, cols] = dims(m);
  const out = zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.data[i * cols + j] = at(m, i, j);
  return out;
}

/** The transpose as a dense matrix. */
export function transpose(m: Matrix): Matrix {
  return dense(m.transpose(1, 0));
}

/** The product A·B. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  const [m, k] = dims(a);
  const [k2, n] = dims(b);
  if (k !== k2) throw new RangeError(`matmul: inner dimensions differ (${m} × ${k} times ${k2} × ${n})`);
  const out = zeros(m, n);
  const ad = a.data, bd = b.data, od = out.data;
  const [ai, ak] = a.stride as [number, number];
  const [bk, bj] = b.stride as [number, number];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (ad[a.offset + i * ai + p * ak] as number) * (bd[b.offset + p * bk + j * bj] as number);
      od[i * n + j] = sum;
    }
  }
  return out;
}

/** α·A + β·B (same shapes). */
export function axpby(alpha: number, a: Matrix, beta: number, b: Matrix): Matrix {
  const [rows, cols] = dims(a);
  const [r2, c2] = dims(b);
  if (rows !== r2 || cols !== c2) throw new RangeError(`axpby: shapes ${rows} × ${cols} and ${r2} × ${c2} differ`);
  const out = zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.data[i * cols + j] = alpha * at(a, i, j) + beta * at(b, i, j);
  return out;
}

/** α·A. */
export function scale(alpha: number, a: Matrix): Matrix {
  const [rows, cols] = dims(a);
  const out = zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.data[i * cols + j] = alpha * at(a, i, j);
  return out;
}

/** The Frobenius norm ‖A‖_F = √(Σ a_ij²). */
export function frobeniusNorm(a: Matrix): number {
  const [rows, cols] = dims(a);
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = at(a, i, j);
      sum += x * x;
    }
  }
  return Math.sqrt(sum);
}

/** Eigen-decomposition S = V·diag(values)·Vᵀ of a symmetric matrix; values in descending order, V orthogonal. */
export interface SymmetricEigen {
  readonly values: Float64Array;
  /** Eigenvectors as columns, in the order of `values`. */
  readonly vectors: Matrix;
}

/**
 * Eigen-decomposition of a symmetric matrix, eigenvalues descending: {@link jacobiEigen} (cyclic Jacobi with
 * Demmel–Veselić's relative stopping rule) on a dense copy, reordered. Rejects a matrix that is not symmetric
 * to 1e-12·‖S‖_F.
 */
export function symmetricEigen(s: Matrix): SymmetricEigen {
  const [n, n2] = dims(s);
  if (n !== n2) throw new RangeError(`symmetricEigen: expected a square matrix, got ${n} × ${n2}`);
  const a = dense(s).data;
  const norm = frobeniusNorm(s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs((a[i * n + j] as number) - (a[j * n + i] as number)) > 1e-12 * norm) throw new RangeError('symmetricEigen: the matrix is not symmetric');
    }
  }
  const { values: ascending, vectors: v } = jacobiEigen(a, n);
  const values = Float64Array.from(ascending).reverse();
  const vectors = zeros(n, n);
  for (let k = 0; k < n; k++) for (let col = 0; col < n; col++) vectors.data[k * n + col] = v[k * n + (n - 1 - col)] as number;
  return { values, vectors };
}

/** The Gram matrix of the smaller side: A·Aᵀ when A is wide or square, Aᵀ·A when it is tall. */
function smallGram(a: Matrix): Matrix {
  const [rows, cols] = dims(a);
  return rows <= cols ? matmul(a, a.transpose(1, 0)) : matmul(a.transpose(1, 0), a);
}

/**
 * The min(rows, cols) singular values of A in descending order, as square roots of the eigenvalues of the smaller
 * Gram matrix (rounding errors of order ε‖A‖² in the eigenvalues: fine for well-conditioned test matrices, not a
 * general-purpose SVD).
 */
export function singularValues(a: Matrix): Float64Array {
  return symmetricEigen(smallGram(a)).values.map((x) => Math.sqrt(Math.max(0, x)));
}

/**
 * The orthogonal polar factor U·Vᵀ of a full-rank A = U·Σ·Vᵀ: (A·Aᵀ)^{-1/2}·A for a wide A, A·(Aᵀ·A)^{-1/2} for a
 * tall one, with the inverse square root from {@link symmetricEigen}. Throws when A is (numerically) rank
 * deficient, where the factor is not unique.
 */
export function polarFactor(a: Matrix): Matrix {
  const [rows, cols] = dims(a);
  const { values, vectors } = symmetricEigen(smallGram(a));
  const n = values.length;
  const top = values[0] ?? 0;
  if (n > 0 && !((values[n - 1] as number) > 1e-24 * top)) throw new RangeError('polarFactor: the matrix is rank deficient');
  const invSqrt = zeros(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += (at(vectors, i, k) * at(vectors, j, k)) / Math.sqrt(values[k] as number);
      invSqrt.data[i * n + j] = sum;
    }
  }
  return rows <= cols ? matmul(invSqrt, a) : matmul(a, invSqrt);
}

/**
 * `torch.lerp(start, end, w)` = start + w·(end − start), evaluated as PyTorch evaluates it (from the `end` side
 * when |w| ≥ 0.5), so that the reference rounds like the code it follows (Keller Jordan's Muon writes its
 * moving averages with `lerp_`).
 */
export function lerpTorch(start: number, end: number, w: number): number {
  return Math.abs(w) < 0.5 ? start + w * (end - start) : end - (end - start) * (1 - w);
}
