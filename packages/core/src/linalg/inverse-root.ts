import { identityMatrix, matmulSquare, symmetricFunction } from './symmetric.js';

/**
 * Inverse p-th roots A^{−1/p} of symmetric positive definite matrices, the expensive part of Shampoo, in two
 * ways: exactly through an eigendecomposition ({@link inverseRootEigh}, the spec), and by the seeds' coupled
 * Newton–Schulz-type iteration with a tuned coefficient schedule ({@link inverseRootNewtonSchulz}: only matrix
 * products, the fast one on accelerators).
 *
 * @packageDocumentation
 */

/**
 * A^{−1/p} = V·diag(λ^{−1/p})·Vᵀ from the Jacobi eigendecomposition of the symmetric A; writes `out` (which may
 * be `a`) and returns it.
 *
 * torch-optimizer computes the same power through an SVD, U·diag(σ^{−1/p})·Vᵀ. For a symmetric matrix the
 * singular values are |λ| and the right singular vectors are the eigenvectors times sign(λ), so the SVD gives
 * Σ sign(λ)·|λ|^{−1/p}·v·vᵀ; this function applies the same scalar map, so that the two agree for every
 * symmetric input, not only for positive definite ones (where the map is plain λ^{−1/p}). A zero eigenvalue
 * gives infinite or NaN entries, as there.
 */
export function inverseRootEigh(a: Float64Array, n: number, p: number, out?: Float64Array): Float64Array {
  if (!(p > 0)) throw new RangeError(`inverseRootEigh: the root order must be positive, got ${p}`);
  return symmetricFunction(a, n, (lambda) => Math.sign(lambda) * Math.abs(lambda) ** (-1 / p), out);
}

/** (a, b, c) of the matrix polynomial W = a·I + b·P + c·P². */
export type InverseRootCoefficients = readonly [number, number, number];

/**
 * The coefficient schedule of seed 000's Shampoo (`coefs`, after Su Jianlin, "矩阵r次方根和逆r次方根的高效计算",
 * kexue.fm/archives/11175): for the root order r = 1 … 5, one row per iteration, tuned so that the iteration
 * lifts small eigenvalues fast. Each list ends with the second-order Taylor coefficients of x^{−1/r} at x = 1
 * (see {@link taylorCoefficients}), e.g. (3, −3, 1) for r = 1 and (15/8, −5/4, 3/8) for r = 2.
 */
export const INVERSE_ROOT_COEFFICIENTS: Readonly<Record<number, readonly InverseRootCoefficients[]>> = Object.freeze({
  1: [
    [14.2975, -31.2203, 18.9214],
    [7.12258, -7.78207, 2.35989],
    [6.9396, -7.61544, 2.3195],
    [5.98456, -6.77016, 2.12571],
    [3.79109, -4.18664, 1.39555],
    [3, -3, 1],
  ],
  2: [
    [7.42487, -18.3958, 12.8967],
    [3.48773, -2.33004, 0.440469],
    [2.77661, -2.07064, 0.463023],
    [1.99131, -1.37394, 0.387593],
    [15 / 8, -5 / 4, 3 / 8],
  ],
  3: [
    [5.05052, -13.5427, 10.2579],
    [2.31728, -1.06581, 0.144441],
    [1.79293, -0.913562, 0.186699],
    [1.56683, -0.786609, 0.220008],
    [14 / 9, -7 / 9, 2 / 9],
  ],
  4: [
    [3.85003, -10.8539, 8.61893],
    [1.80992, -0.587778, 0.0647852],
    [1.50394, -0.594516, 0.121161],
    [45 / 32, -9 / 16, 5 / 32],
  ],
  5: [
    [3.11194, -8.28217, 6.67716],
    [1.5752, -0.393327, 0.0380364],
    [1.3736, -0.44661, 0.0911259],
    [33 / 25, -11 / 25, 3 / 25],
  ],
});

/**
 * The second-order Taylor polynomial of x^{−1/r} at x = 1, written as a + b·x + c·x²:
 * 1 − (x−1)/r + (r+1)/(2r²)·(x−1)², i.e. c = (r+1)/(2r²), b = −1/r − 2c, a = 1 + 1/r + c.
 * It is the last row of every list in {@link INVERSE_ROOT_COEFFICIENTS}, and the only row for r > 5.
 */
export function taylorCoefficients(r: number): InverseRootCoefficients {
  const c = (r + 1) / (2 * r * r);
  return [1 + 1 / r + c, -1 / r - 2 * c, c];
}

/** The safety scale s of the seed's schedule: each row is used as (a/s, b/s^{r+1}, c/s^{2r+1}). */
export const INVERSE_ROOT_SCALE = 1.001;

/**
 * The rows used by `steps` iterations for root order r, as the seed's generator `abc(r, steps, scale=1.001)`
 * yields them: the tuned rows first, then the last row repeated, each scaled to (a/s, b/s^{r+1}, c/s^{2r+1}).
 * Scaling by s > 1 keeps eigenvalues slightly above 1 (rounding, the ε shift) inside the region where the
 * iteration converges, at the price of a fixed point a little below 1 (a relative error of about 1e-9 for
 * r = 1 and 1e-8 for r = 5 in the result).
 */
export function inverseRootSchedule(r: number, steps: number): InverseRootCoefficients[] {
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`inverseRootSchedule: the root order must be a positive integer, got ${r}`);
  const rows = INVERSE_ROOT_COEFFICIENTS[r] ?? [taylorCoefficients(r)];
  const s = INVERSE_ROOT_SCALE;
  const out: InverseRootCoefficients[] = [];
  for (let i = 0; i < steps; i++) {
    const [a, b, c] = rows[Math.min(i, rows.length - 1)] as InverseRootCoefficients;
    out.push([a / s, b / s ** (r + 1), c / s ** (2 * r + 1)]);
  }
  return out;
}

/** Options of {@link inverseRootNewtonSchulz}. */
export interface InverseRootIterationOptions {
  /** Iterations. The seed runs as many as its table has rows for r (6, 5, 5, 4, 4 for r = 1 … 5). */
  readonly steps: number;
  /** ε added to the diagonal after normalising by the Frobenius norm (the seed's `iter_eps`, 1e-5). */
  readonly eps: number;
}

/**
 * The coupled iteration of seed 000's Shampoo (`_compute_inv_root_iterative`) for A^{−1/r}, A symmetric positive
 * semi-definite:
 *
 * $$
 * \begin{aligned}
 * t &= \lVert A\rVert_F, \qquad P_0 = A/t + \varepsilon I, \qquad G_0 = I, \\
 * W_j &= a_j I + b_j P_j + c_j P_j^2, \qquad G_{j+1} = G_j W_j, \qquad P_{j+1} = P_j W_j^{\,r}, \\
 * A^{-1/r} &\approx t^{-1/r}\, G_k .
 * \end{aligned}
 * $$
 *
 * Every matrix here is a polynomial in A, so all of them commute and the invariant P_j = G_j^r·P_0 holds: when
 * P_j → I, G_j → P_0^{−1/r}. Eigenvalue by eigenvalue this is the scalar iteration x ← x·w(x)^r, g ← g·w(x),
 * with w the polynomial of the row; the normalisation puts every eigenvalue of P_0 in (0, 1 + ε], where the
 * schedule converges (quickly for eigenvalues not much below ε, cubically near 1). So the result is
 * (A + ε·t·I)^{−1/r} up to the convergence of the iteration for the smallest eigenvalue and the bias of the
 * scale s (see {@link inverseRootSchedule}). Seed differences: the seed has a factor matrix_power(W, s₀) with
 * s₀ = 1 in the G update (here just W), and clamps r to 5 (computing A^{−1/5} for tensors of order > 5), where
 * this uses the Taylor row for r > 5 and so computes the root that was asked for.
 */
export function inverseRootNewtonSchulz(a: Float64Array, n: number, r: number, { steps, eps }: InverseRootIterationOptions, out: Float64Array = new Float64Array(n * n)): Float64Array {
  let normSq = 0;
  for (const x of a) normSq += x * x;
  const t = Math.sqrt(normSq);
  let P: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) P[i] = (a[i] as number) / t;
  for (let i = 0; i < n; i++) P[i * n + i] = (P[i * n + i] as number) + eps;
  let G: Float64Array = identityMatrix(n);
  for (const [ca, cb, cc] of inverseRootSchedule(r, steps)) {
    const P2 = matmulSquare(P, P, n);
    // W = (a·I + b·P) + c·P², summed in the seed's order.
    const W = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) W[i * n + j] = (i === j ? ca : 0) + cb * (P[i * n + j] as number) + cc * (P2[i * n + j] as number);
    }
    let Wr: Float64Array = W;
    for (let k = 1; k < r; k++) Wr = matmulSquare(Wr, W, n);
    G = matmulSquare(G, W, n);
    P = matmulSquare(P, Wr, n);
  }
  const scale = t ** (-1 / r);
  for (let i = 0; i < n * n; i++) out[i] = (G[i] as number) * scale;
  return out;
}
