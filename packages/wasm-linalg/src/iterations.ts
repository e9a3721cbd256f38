import { inverseRootSchedule } from '@descent/core';
import type { Linalg } from './gemm.js';

/**
 * The matrix iterations of Muon and Shampoo in float32 on {@link Linalg.gemm}: the float32 counterparts of
 * core's `newtonSchulz` (linalg/newton-schulz.ts) and `inverseRootNewtonSchulz` (linalg/inverse-root.ts), with
 * the same order of operations as the TF.js kernels (`backend-tfjs/src/kernels/muon.ts`, `shampoo.ts`). The
 * elementwise terms are folded into the products' α and β: b·A + c·A² is one GEMM with α = c, β = b on a copy
 * of A, and a·X + B·X one GEMM with β = a, written over X (op(B) and X are packed before C is written).
 *
 * @packageDocumentation
 */

/** Xᵀ of a rows × cols row-major matrix. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j] as number;
  return out;
}

/** ‖x‖_F, its squares summed in Float64. */
function frobenius(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (x[i] as number);
  return Math.sqrt(s);
}

/**
 * Newton–Schulz orthogonalization of a rows × cols row-major float32 matrix G, as core's `newtonSchulz`: a tall
 * G is transposed so that the Gram matrix is the smaller one, X₀ = G/(‖G‖_F + ε) (or G/max(‖G‖_F, ε) with
 * `normalize: 'clamp'`), then `steps` times X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ; returns the result in G's
 * layout (a fresh array). Three GEMMs per step: 2r²c + 2r³ + 2r²c flops for r = min, c = max of the dimensions.
 */
export function newtonSchulzF32(
  la: Linalg,
  g: Float32Array,
  rows: number,
  cols: number,
  coefficients: readonly [number, number, number],
  steps: number,
  eps: number,
  normalize: 'add' | 'clamp' = 'add',
): Float32Array {
  const [a, b, c] = coefficients;
  const tall = rows > cols;
  const [r, n] = tall ? [cols, rows] : [rows, cols];
  const x = tall ? transpose(g, rows, cols) : Float32Array.from(g);
  const norm = frobenius(x);
  const d = normalize === 'clamp' ? Math.max(norm, eps) : norm + eps;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) / d;
  const gram = new Float32Array(r * r);
  const poly = new Float32Array(r * r);
  for (let j = 0; j < steps; j++) {
    la.gemm(r, r, n, x, x, gram, { transB: true, gram: true }); // A = X·Xᵀ
    poly.set(gram);
    la.gemm(r, r, r, gram, gram, poly, { alpha: c, beta: b }); // B = b·A + c·A²
    la.gemm(r, n, r, poly, x, x, { beta: a }); // X ← a·X + B·X
  }
  return tall ? transpose(x, r, n) : x;
}

/**
 * H^{−1/p} of a symmetric positive semi-definite n × n float32 matrix by the coupled iteration of core's
 * `inverseRootNewtonSchulz`: t = ‖H‖_F, P₀ = H/t + εI, G₀ = I, then for each row (a, b, c) of
 * `inverseRootSchedule(p, steps)`: W = aI + bP + cP², G ← G·W, P ← P·W^p; returns t^{−1/p}·G. p + 2 GEMMs of
 * n³ per step (G₀·W = W is a copy).
 */
export function inverseRootNewtonSchulzF32(la: Linalg, h: Float32Array, n: number, p: number, steps: number, eps: number): Float32Array {
  const t = frobenius(h.subarray(0, n * n));
  let P: Float32Array = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) P[i] = (h[i] as number) / t;
  for (let i = 0; i < n; i++) P[i * n + i] = (P[i * n + i] as number) + eps;
  let G: Float32Array | undefined; // undefined: the identity
  const W = new Float32Array(n * n);
  let Wr: Float32Array = new Float32Array(n * n);
  let tmp: Float32Array = new Float32Array(n * n);
  for (const [a, b, c] of inverseRootSchedule(p, steps)) {
    W.set(P);
    la.gemm(n, n, n, P, P, W, { alpha: c, beta: b }); // b·P + c·P²
    for (let i = 0; i < n; i++) W[i * n + i] = a + (W[i * n + i] as number);
    Wr.set(W);
    for (let k = 1; k < p; k++) {
      la.gemm(n, n, n, Wr, W, tmp);
      [Wr, tmp] = [tmp, Wr];
    }
    if (G === undefined) G = Float32Array.from(W);
    else {
      la.gemm(n, n, n, G, W, tmp);
      [G, tmp] = [tmp, G];
    }
    la.gemm(n, n, n, P, Wr, tmp);
    [P, tmp] = [tmp, P];
  }
  const out: Float32Array = G ?? new Float32Array(n * n).map((_, i) => (i % (n + 1) === 0 ? 1 : 0));
  const scale = t ** (-1 / p);
  for (let i = 0; i < n * n; i++) out[i] = (out[i] as number) * scale;
  return out;
}

/** The d × (outer·inner) mode unfolding X₍ᵢ₎ of x seen as outer × d × inner: column o·inner + r of row a is x[o, a, r]. */
function unfold(x: Float32Array, outer: number, d: number, inner: number): Float32Array {
  const u = new Float32Array(x.length);
  const cols = outer * inner;
  for (let o = 0; o < outer; o++) for (let a = 0; a < d; a++) u.set(x.subarray((o * d + a) * inner, (o * d + a + 1) * inner), a * cols + o * inner);
  return u;
}

/** The inverse of {@link unfold}. */
function fold(u: Float32Array, outer: number, d: number, inner: number): Float32Array {
  const x = new Float32Array(u.length);
  const cols = outer * inner;
  for (let o = 0; o < outer; o++) for (let a = 0; a < d; a++) x.set(u.subarray(a * cols + o * inner, a * cols + (o + 1) * inner), (o * d + a) * inner);
  return x;
}

/**
 * H ← H + X₍ᵢ₎X₍ᵢ₎ᵀ (core's `addModeGram`) for x seen as outer × d × inner (core's `modeSizes`), `h` d × d in
 * place: X·Xᵀ for the first mode, XᵀX for the last (no copy), an unfolding otherwise. Each entry's float32 sum is
 * completed before it is added to H (one rounding of s + h), as `precond.add_(grad @ grad.t())`.
 */
export function addModeGramF32(la: Linalg, x: Float32Array, outer: number, d: number, inner: number, h: Float32Array): Float32Array {
  if (outer === 1) return la.gemm(d, d, inner, x, x, h, { transB: true, beta: 1, gram: true });
  if (inner === 1) return la.gemm(d, d, outer, x, x, h, { transA: true, beta: 1, gram: true });
  const u = unfold(x, outer, d, inner);
  return la.gemm(d, d, outer * inner, u, u, h, { transB: true, beta: 1, gram: true });
}

/** Y = X ×ᵢ M, i.e. Y₍ᵢ₎ = M·X₍ᵢ₎ (core's `modeProduct`), for x seen as outer × d × inner and M d × d; a fresh array in x's layout. */
export function modeProductF32(la: Linalg, m: Float32Array, x: Float32Array, outer: number, d: number, inner: number): Float32Array {
  if (outer === 1) return la.gemm(d, inner, d, m, x, new Float32Array(x.length));
  if (inner === 1) return la.gemm(outer, d, d, x, m, new Float32Array(x.length), { transB: true });
  const y = la.gemm(d, outer * inner, d, m, unfold(x, outer, d, inner), new Float32Array(x.length));
  return fold(y, outer, d, inner);
}
