import ndarray from 'ndarray';

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
 * Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method (Golub & Van Loan, "Matrix
 * Computations", §8.5): sweeps of plane rotations that zero each off-diagonal entry in turn, until the
 * off-diagonal mass is below `tol`·‖S‖_F. Only the lower triangle's symmetry is assumed, not checked beyond
 * a loose test. Accurate to a few ulps of ‖S‖ for the small matrices used here.
 */
export function symmetricEigen(s: Matrix, { tol = 1e-15, maxSweeps = 100 }: { tol?: number; maxSweeps?: number } = {}): SymmetricEigen {
  const [n, n2] = dims(s);
  if (n !== n2) throw new RangeError(`symmetricEigen: expected a square matrix, got ${n} × ${n2}`);
  const a = dense(s).data;
  const norm = frobeniusNorm(s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs((a[i * n + j] as number) - (a[j * n + i] as number)) > 1e-12 * norm) throw new RangeError('symmetricEigen: the matrix is not symmetric');
    }
  }
  const v = identity(n).data;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * (a[p * n + q] as number) ** 2;
    if (Math.sqrt(off) <= tol * norm) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        // Rotation J (J_pp = J_qq = c, J_pq = s, J_qp = −s) with (JᵀAJ)_pq = 0: t = s/c solves t² + 2θt − 1 = 0.
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number, akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - sn * akq;
          a[k * n + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number, aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - sn * aqk;
          a[q * n + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number, vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - sn * vkq;
          v[k * n + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (a[j * n + j] as number) - (a[i * n + i] as number));
  const values = Float64Array.from(order, (i) => a[i * n + i] as number);
  const vectors = zeros(n, n);
  for (let k = 0; k < n; k++) for (let col = 0; col < n; col++) vectors.data[k * n + col] = v[k * n + (order[col] as number)] as number;
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
