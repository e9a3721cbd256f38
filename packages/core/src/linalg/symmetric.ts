/**
 * Dense symmetric-matrix helpers for Shampoo's preconditioners, on flat row-major `Float64Array`s: an n × n
 * matrix A is `a[i * n + j]`, which is exactly how a Shampoo state slot stores it, so no views or copies are
 * needed. Written for clarity at the reference's sizes (plain triple loops), not for speed.
 *
 * @packageDocumentation
 */

/** Element i·n + j of an n × n row-major matrix. */
const ix = (n: number, i: number, j: number): number => i * n + j;

/** The n × n identity. */
export function identityMatrix(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[ix(n, i, i)] = 1;
  return out;
}

/** C = A·B for n × n row-major matrices; writes `out` (which must not be `a` or `b`) and returns it. */
export function matmulSquare(a: Float64Array, b: Float64Array, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  if (out === a || out === b) throw new RangeError('matmulSquare: out must not alias an input');
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += (a[ix(n, i, k)] as number) * (b[ix(n, k, j)] as number);
      out[ix(n, i, j)] = sum;
    }
  }
  return out;
}

/** Eigen-decomposition A = V·diag(λ)·Vᵀ of a symmetric matrix. */
export interface JacobiEigen {
  /** Eigenvalues λ, ascending. */
  readonly values: Float64Array;
  /** Orthogonal V, row-major n × n, with the eigenvector of `values[k]` in column k: `vectors[i * n + k]`. */
  readonly vectors: Float64Array;
  /** Sweeps used (each sweep visits every off-diagonal pair once). */
  readonly sweeps: number;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix by the cyclic Jacobi method (Jacobi 1846; Golub & Van Loan,
 * "Matrix Computations", 4th ed., §8.5.2–8.5.3, Algorithms 8.5.1–8.5.3). Each rotation J in the (p, q) plane
 * is chosen so that (JᵀAJ)_pq = 0: with θ = (a_qq − a_pp)/(2a_pq), t = tan φ is the smaller root of
 * t² + 2θt − 1 = 0, c = 1/√(1+t²), s = t·c, and then
 *
 * $$ a'_{pp} = a_{pp} - t\,a_{pq},\quad a'_{qq} = a_{qq} + t\,a_{pq},\quad
 *    a'_{kp} = c\,a_{kp} - s\,a_{kq},\quad a'_{kq} = s\,a_{kp} + c\,a_{kq}\ (k \ne p, q). $$
 *
 * Stopping rule (Demmel & Veselić, "Jacobi's method is more accurate than QR", SIAM J. Matrix Anal. Appl.
 * 1992): an entry with |a_pq| ≤ u·√|a_pp|·√|a_qq| (u = 2⁻⁵²) is set to zero without a rotation, which perturbs
 * every eigenvalue by at most u relative to its own size; the method stops after a sweep that needed no
 * rotation. For a positive definite matrix this gives eigenvalues with small *relative* errors, small ones
 * included, which matters for inverse roots (a preconditioner ε·I + Σ G Gᵀ has eigenvalues from ε up).
 * Convergence is quadratic; `maxSweeps` is only a guard against non-finite input.
 *
 * The input is read, never written. Only symmetry is assumed (the upper triangle is not compared with the
 * lower one; the rotations keep the working copy exactly symmetric).
 */
export function jacobiEigen(a: Float64Array, n: number, { maxSweeps = 100 }: { maxSweeps?: number } = {}): JacobiEigen {
  if (a.length !== n * n) throw new RangeError(`jacobiEigen: expected ${n} × ${n} = ${n * n} values, got ${a.length}`);
  const A = Float64Array.from(a);
  const V = identityMatrix(n);
  const u = 2 ** -52;
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[ix(n, p, q)] as number;
        if (apq === 0) continue;
        const app = A[ix(n, p, p)] as number;
        const aqq = A[ix(n, q, q)] as number;
        if (Math.abs(apq) <= u * Math.sqrt(Math.abs(app)) * Math.sqrt(Math.abs(aqq))) {
          A[ix(n, p, q)] = 0;
          A[ix(n, q, p)] = 0;
          continue;
        }
        if (!Number.isFinite(apq) || !Number.isFinite(app) || !Number.isFinite(aqq)) continue;
        rotated = true;
        const theta = (aqq - app) / (2 * apq);
        // t = sign(θ)/(|θ| + √(θ² + 1)); hypot avoids overflow of θ² for nearly diagonal pairs.
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.hypot(theta, 1));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = A[ix(n, k, p)] as number;
          const akq = A[ix(n, k, q)] as number;
          const kp = c * akp - s * akq;
          const kq = s * akp + c * akq;
          A[ix(n, k, p)] = kp;
          A[ix(n, p, k)] = kp;
          A[ix(n, k, q)] = kq;
          A[ix(n, q, k)] = kq;
        }
        A[ix(n, p, p)] = app - t * apq;
        A[ix(n, q, q)] = aqq + t * apq;
        A[ix(n, p, q)] = 0;
        A[ix(n, q, p)] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[ix(n, k, p)] as number;
          const vkq = V[ix(n, k, q)] as number;
          V[ix(n, k, p)] = c * vkp - s * vkq;
          V[ix(n, k, q)] = s * vkp + c * vkq;
        }
      }
    }
    if (!rotated) break;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (A[ix(n, i, i)] as number) - (A[ix(n, j, j)] as number));
  const values = Float64Array.from(order, (i) => A[ix(n, i, i)] as number);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let col = 0; col < n; col++) vectors[ix(n, k, col)] = V[ix(n, k, order[col] as number)] as number;
  return { values, vectors, sweeps };
}

/**
 * f(A) = V·diag(f(λ))·Vᵀ for a symmetric A = V·diag(λ)·Vᵀ (from {@link jacobiEigen}); writes `out` (which may
 * be `a`) and returns it. The result is exactly symmetric: entry (i, j) and (j, i) are the same sum.
 */
export function symmetricFunction(a: Float64Array, n: number, f: (lambda: number) => number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  const { values, vectors: V } = jacobiEigen(a, n);
  const fl = values.map(f);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += (V[ix(n, i, k)] as number) * (fl[k] as number) * (V[ix(n, j, k)] as number);
      out[ix(n, i, j)] = sum;
      out[ix(n, j, i)] = sum;
    }
  }
  return out;
}
