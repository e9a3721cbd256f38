/**
 * Scalar helpers for the host-side Float64 arithmetic of the optimizers.
 *
 * @packageDocumentation
 */

const SPLITTER = 134217729; // 2^27 + 1, Dekker's splitting constant

/** Exact product: returns [p, e] with p = fl(a·b) and a·b = p + e exactly (Dekker, no FMA needed). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

/** Double-double product of (ah + al)·(bh + bl), renormalised. */
function ddMul(ah: number, al: number, bh: number, bl: number): [number, number] {
  const [p, e] = twoProduct(ah, bh);
  const lo = e + (ah * bl + al * bh);
  const hi = p + lo;
  return [hi, lo - (hi - p)];
}

/**
 * x^n for a non-negative integer n, correctly rounded in all but astronomically rare cases: exponentiation by
 * squaring in double-double arithmetic (about 104 bits, relative error ≲ 2·log₂(n)·2⁻¹⁰⁴ before the final
 * rounding). JavaScript's `**` is not correctly rounded — it differs from a correctly rounded `pow` (glibc's,
 * which PyTorch's Python scalars use) by one ulp for about 7% of `β**t` values — and bias corrections such as
 * 1 − β₂ᵗ amplify that ulp. Used for every β^t in the optimizers. Valid for |x| < 2^996 (far beyond any decay
 * rate); non-integer or negative n falls back to `**`.
 */
export function powInt(x: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isFinite(x) || Math.abs(x) >= 2 ** 996) return x ** n;
  let rh = 1;
  let rl = 0;
  let bh = x;
  let bl = 0;
  let k = n;
  while (k > 0) {
    if (k & 1) [rh, rl] = ddMul(rh, rl, bh, bl);
    k = Math.floor(k / 2);
    if (k > 0) [bh, bl] = ddMul(bh, bl, bh, bl);
  }
  return rh + rl;
}
