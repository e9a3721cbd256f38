import { describe, expect, it } from 'vitest';
import { newtonSchulz, matrix } from '@descent/core';
import { Arith, U32, newtonSchulzTolerance } from '../src/index.js';
import { prng } from '../src/random.js';

const ar = new Arith(8);
const exact = (v: number) => ar.exact(v);

describe('tracked float32 arithmetic', () => {
  it('charges one rounding per operation, on top of the operands’ budgets', () => {
    // 1 + 2: both exact, one rounding of |3|.
    expect(ar.add(exact(1), exact(2))).toEqual({ v: 3, e: 3, a: 0, n: false });
    // 0.1 is not a float32 number: rounded once (e = 0.1); times 3 → 3·0.1 + the rounding of 0.3 = 0.6.
    const x = ar.mul(ar.input(0.1), exact(3));
    expect(x.v).toBeCloseTo(0.3, 15);
    expect(x.e).toBeCloseTo(0.6, 15);
    // 0.5 is a float32 number: exact.
    expect(ar.input(0.5).e).toBe(0);
  });
  it('sums charge (n − 1)·Σ|xᵢ| whatever the order', () => {
    expect(ar.sum([exact(1), exact(-1), exact(1)])).toEqual({ v: 1, e: 6, a: 0, n: false });
    expect(ar.sum([exact(5)]).e).toBe(0);
  });
  it('keeps the second-order term of a product: a residual that is 0 in Float64 squares to its budget squared', () => {
    const r = { v: 0, e: 2, a: 0, n: false };
    const sq = ar.mul(r, r);
    expect(sq.v).toBe(0);
    expect(sq.e).toBe(0);
    expect(sq.a).toBeCloseTo((8 * U32 * 2) ** 2, 25);
  });
  it('square roots halve relative budgets away from 0 and allow √δ (and NaN) near it', () => {
    // √4 with e = 4: first order 0.6·4/2 (the ½ of the derivative, padded for a finite perturbation) + rounding 2.
    expect(ar.sqrt({ v: 4, e: 4, a: 0, n: false })).toEqual({ v: 2, e: 3.2, a: 0, n: false });
    const near = ar.sqrt({ v: 1e-10, e: 1, a: 0, n: false });
    expect(near.a).toBeCloseTo(Math.sqrt(8 * U32), 12);
    expect(near.n).toBe(true);
  });
  it('signs are exact outside their ambiguity band and free (allowance 2) inside it', () => {
    const band = 8 * U32 * 1; // k·u·e with e = 1
    expect(ar.sign({ v: 2 * band, e: 1, a: 0, n: false })).toEqual({ v: 1, e: 0, a: 0, n: false });
    expect(ar.sign({ v: band / 2, e: 1, a: 0, n: false })).toEqual({ v: 1, e: 0, a: 2, n: false });
    expect(ar.sign({ v: 0, e: 0, a: 0, n: false })).toEqual({ v: 0, e: 0, a: 0, n: false });
  });
  it('divisions by a denominator within its budget of 0 are unbounded', () => {
    const d = ar.div(exact(1), { v: 1e-9, e: 1e3, a: 0, n: false });
    expect(d.e).toBe(Infinity);
    expect(d.n).toBe(true);
  });
  it('bounds an actual float32 evaluation (Monte Carlo, k = 1)', () => {
    // (a·b + c) / √(a² + c²) evaluated with a rounding after every operation, against Float64.
    const one = new Arith(1);
    const next = prng(7);
    const f = Math.fround;
    let worst = 0;
    for (let trial = 0; trial < 20000; trial++) {
      const val = () => f((next() < 0.5 ? -1 : 1) * 10 ** (4 * next() - 2));
      const [a, b, c] = [val(), val(), val()];
      const got = f(f(f(a * b) + c) / f(Math.sqrt(f(f(a * a) + f(c * c)))));
      const t = one.div(one.add(one.mul(exact(a), exact(b)), exact(c)), one.sqrt(one.add(one.mul(exact(a), exact(a)), one.mul(exact(c), exact(c)))));
      const limit = U32 * t.e + t.a;
      worst = Math.max(worst, Math.abs(got - t.v) / limit);
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.1);
  });
});

/** Newton–Schulz in float32: every product and partial sum rounded (sequential accumulation, the worst order). */
function newtonSchulz32(g: Float64Array, rows: number, cols: number, abc: readonly [number, number, number], steps: number, eps: number): Float64Array {
  const f = Math.fround;
  const mm = (A: Float64Array, B: Float64Array, n: number, m: number, p: number): Float64Array => {
    const C = new Float64Array(n * p);
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s = f(s + f((A[i * m + k] as number) * (B[k * p + j] as number)));
      C[i * p + j] = s;
    }
    return C;
  };
  const tr = (A: Float64Array, n: number, m: number): Float64Array => {
    const T = new Float64Array(n * m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) T[j * n + i] = A[i * m + j] as number;
    return T;
  };
  const tall = rows > cols;
  let X = tall ? tr(g, rows, cols) : Float64Array.from(g);
  const [n, m] = tall ? [cols, rows] : [rows, cols];
  let s = 0;
  for (const x of X) s = f(s + f(x * x));
  const d = f(f(Math.sqrt(s)) + f(eps));
  X = X.map((x) => f(x / d));
  const [a, b, c] = abc.map(f) as [number, number, number];
  for (let j = 0; j < steps; j++) {
    const A = mm(X, tr(X, n, m), n, m, n);
    const A2 = mm(A, A, n, n, n);
    const P = A.map((x, i) => f(f(b * x) + f(c * (A2[i] as number))));
    const PX = mm(P, X, n, n, m);
    X = X.map((x, i) => f(f(a * x) + (PX[i] as number)));
  }
  return tall ? tr(X, n, m) : X;
}

describe('the normwise allowance of Newton–Schulz', () => {
  it('is of the order of 1e-4 for Muon’s defaults on small matrices', () => {
    const tau = newtonSchulzTolerance(6, 6, [3.4445, -4.775, 2.0315], 5);
    expect(tau).toBeGreaterThan(1e-4);
    expect(tau).toBeLessThan(3e-4);
  });
  it('holds for float32 Newton–Schulz with sequential accumulation, on random and nearly rank-deficient matrices', () => {
    const next = prng(11);
    let worstRatio = 0;
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + Math.floor(next() * 6);
      const cols = 1 + Math.floor(next() * 6);
      const abc = next() < 0.7 ? ([3.4445, -4.775, 2.0315] as const) : ([1.5, -0.5, 0] as const);
      const steps = 1 + Math.floor(next() * 6);
      const g = Float64Array.from({ length: rows * cols }, () => Math.fround((next() < 0.5 ? -1 : 1) * 10 ** (4 * next() - 3)));
      if (next() < 0.3) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) g[i * cols + j] = Math.fround((g[j] as number) * (i + 1) * (1 + 1e-3 * next()));
      const want = newtonSchulz(matrix(g, rows, cols), { coefficients: abc, steps, eps: 1e-7 }).data;
      const got = newtonSchulz32(g, rows, cols, abc, steps, 1e-7);
      let dn = 0;
      let nn = 0;
      for (let i = 0; i < want.length; i++) {
        dn += ((got[i] as number) - (want[i] as number)) ** 2;
        nn += (want[i] as number) ** 2;
      }
      worstRatio = Math.max(worstRatio, Math.sqrt(dn / nn) / newtonSchulzTolerance(rows, cols, abc, steps));
    }
    expect(worstRatio).toBeLessThan(1);
    // …and is not vacuous: the worst case uses a visible part of it.
    expect(worstRatio).toBeGreaterThan(0.02);
  });
});
