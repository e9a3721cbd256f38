/**
 * Householder QR of a square matrix, Float64, on flat row-major arrays, for SOAP's eigenbasis refresh (one
 * power iteration followed by an orthogonalisation).
 *
 * @packageDocumentation
 */

/**
 * The orthogonal factor Q of A = Q·R for an n × n row-major A (Golub & Van Loan, "Matrix Computations", 4th ed.,
 * §5.2.2, Algorithm 5.2.1), with LAPACK's conventions (`dgeqrf` with `dlarfg`, then `dorgqr`), which is what
 * `torch.linalg.qr` computes on the CPU: column j's reflector H_j = I − τ·v·vᵀ maps x = A_{j:, j} (after the
 * earlier reflectors) to β·e₁ with
 *
 * $$ \beta = -\operatorname{sign}(x_1)\,\lVert x \rVert_2, \qquad v = \big(1,\ x_{2:}/(x_1 - \beta)\big), \qquad
 *    \tau = (\beta - x_1)/\beta, $$
 *
 * sign(0) = +1, and H_j = I (τ = 0) when x_{2:} = 0, so R's diagonal is not made positive. Q = H₁H₂⋯H_n.
 *
 * These conventions make Q independent of the signs of A's columns: scaling column j by −1 leaves every
 * reflector unchanged and only flips R's row j. SOAP relies on it (the eigenbasis it refreshes has arbitrary
 * column signs, and the refreshed Q must not depend on them).
 *
 * The input is read, never written; `out` (n × n, which may not be `a`) receives Q and is returned.
 */
export function householderQ(a: Float64Array, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  if (a.length !== n * n) throw new RangeError(`householderQ: expected ${n} × ${n} = ${n * n} values, got ${a.length}`);
  if (out === a) throw new RangeError('householderQ: out must not alias the input');
  const r = Float64Array.from(a);
  const vs: Float64Array[] = [];
  const taus: number[] = [];
  for (let j = 0; j < n; j++) {
    const alpha = r[j * n + j] as number;
    let tail = 0;
    for (let i = j + 1; i < n; i++) tail = Math.hypot(tail, r[i * n + j] as number);
    const v = new Float64Array(n);
    v[j] = 1;
    if (tail === 0) {
      vs.push(v);
      taus.push(0);
      continue;
    }
    const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, tail);
    const tau = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    for (let i = j + 1; i < n; i++) v[i] = (r[i * n + j] as number) * scale;
    // Apply H_j = I − τvvᵀ to the remaining columns of R.
    r[j * n + j] = beta;
    for (let i = j + 1; i < n; i++) r[i * n + j] = 0;
    for (let c = j + 1; c < n; c++) {
      let dot = 0;
      for (let i = j; i < n; i++) dot += (v[i] as number) * (r[i * n + c] as number);
      const f = tau * dot;
      for (let i = j; i < n; i++) r[i * n + c] = (r[i * n + c] as number) - f * (v[i] as number);
    }
    vs.push(v);
    taus.push(tau);
  }
  // Q = H₁⋯H_n applied to I, backwards (dorgqr's order).
  out.fill(0);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  for (let j = n - 1; j >= 0; j--) {
    const v = vs[j] as Float64Array;
    const tau = taus[j] as number;
    if (tau === 0) continue;
    for (let c = 0; c < n; c++) {
      let dot = 0;
      for (let i = j; i < n; i++) dot += (v[i] as number) * (out[i * n + c] as number);
      const f = tau * dot;
      for (let i = j; i < n; i++) out[i * n + c] = (out[i * n + c] as number) - f * (v[i] as number);
    }
  }
  return out;
}
