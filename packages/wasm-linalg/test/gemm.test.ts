import { inverseRootNewtonSchulz, matrix, newtonSchulz } from '@descent/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinalg, inverseRootNewtonSchulzF32, matmulPlain, newtonSchulzF32, threadsAvailable, type GemmOptions } from '../src/index.js';

const U = 2 ** -24;

/** Deterministic pseudo-random floats in [−1, 1), rounded to float32. */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** op(X)[i, p] for X stored row-major (trans: X is stored p-major). */
function at(x: Float32Array, trans: boolean, rows: number, cols: number, i: number, p: number): number {
  return (trans ? x[p * rows + i] : x[i * cols + p]) as number;
}

/**
 * Checks C against the Float64 product element by element with the bound of a float32 dot product:
 * |ĉ − c| ≤ γ_k·|α|·Σ|a||b| for k products summed in any order (γ_k ≈ k·u, Higham §3.1), plus one rounding of
 * α·s + β·c₀ to float32 (u·(|α|Σ|a||b| + |β||c₀|)): (k + 2)·u·(|α|Σ|a||b| + |β||c₀|) covers both.
 */
function check(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c0: Float32Array, c: Float32Array, o: GemmOptions): void {
  const { transA = false, transB = false, alpha = 1, beta = 0 } = o;
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const x = at(a, transA, m, k, i, p) * at(b, transB, k, n, p, j);
        s += x;
        abs += Math.abs(x);
      }
      const c0ij = beta === 0 ? 0 : (c0[i * n + j] as number);
      const ref = alpha * s + beta * c0ij;
      const tol = (k + 2) * U * (Math.abs(alpha) * abs + Math.abs(beta) * Math.abs(c0ij));
      const err = Math.abs((c[i * n + j] as number) - ref);
      if (!(err <= tol)) throw new Error(`(${i}, ${j}) of ${m}×${n}×${k} ${JSON.stringify(o)}: got ${c[i * n + j]}, want ${ref} ± ${tol}`);
      worst = Math.max(worst, tol > 0 ? err / tol : 0);
    }
  }
  expect(worst).toBeLessThanOrEqual(1);
}

const one = createLinalg({ threads: 1 });
const two = createLinalg({ threads: 2, threadThreshold: 0 });
afterAll(() => {
  one.dispose();
  two.dispose();
});

const SIZES: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 3, 3],
  [1, 17, 3],
  [17, 1, 129],
  [17, 17, 17],
  [5, 9, 7],
  [33, 65, 31],
  [129, 129, 129],
  [130, 27, 300], // k over the k block (256): two k blocks
  [150, 20, 9], // rows over one block of row panels (32·4 = 128)
];
const OPTIONS: GemmOptions[] = [
  {},
  { transA: true },
  { transB: true },
  { transA: true, transB: true, alpha: -0.5, beta: 2 },
  { alpha: 3, beta: -1 },
];

describe('gemm', () => {
  for (const [m, n, k] of SIZES) {
    it(`${m}×${n}×${k} against Float64, every transpose, α/β; two threads give the same bits`, () => {
      for (const o of OPTIONS) {
        const a = random(m * k, m + 7 * k);
        const b = random(k * n, n + 13 * k);
        const c0 = random(m * n, 99);
        const c1 = one.gemm(m, n, k, a, b, Float32Array.from(c0), o);
        check(m, n, k, a, b, c0, c1, o);
        const c2 = two.gemm(m, n, k, a, b, Float32Array.from(c0), o);
        expect(Buffer.from(c2.buffer).equals(Buffer.from(c1.buffer))).toBe(true);
      }
    });
  }

  for (const [n, k] of [
    [1, 5],
    [3, 3],
    [17, 40],
    [130, 300],
    [257, 9],
  ] as const) {
    it(`gram: X·Xᵀ and XᵀX of ${n}×${k} equal the full product bit for bit, on one and two threads`, () => {
      const x = random(n * k, n + k);
      const xt = random(k * n, 2 * n + k);
      const c0 = random(n * n, 5);
      for (const la of [one, two]) {
        const full = la.gemm(n, n, k, x, x, Float32Array.from(c0), { transB: true, beta: 0.5 });
        const half = la.gemm(n, n, k, x, x, Float32Array.from(c0), { transB: true, beta: 0.5, gram: true });
        expect(Buffer.from(half.buffer).equals(Buffer.from(full.buffer))).toBe(true);
        const fullT = la.gemm(n, n, k, xt, xt, new Float32Array(n * n), { transA: true });
        const halfT = la.gemm(n, n, k, xt, xt, new Float32Array(n * n), { transA: true, gram: true });
        expect(Buffer.from(halfT.buffer).equals(Buffer.from(fullT.buffer))).toBe(true);
        check(n, n, k, xt, xt, new Float32Array(n * n), halfT, { transA: true });
      }
    });
  }

  it('gram refuses a non-square result', () => {
    expect(() => one.gemm(2, 3, 2, random(4, 1), random(6, 2), new Float32Array(6), { gram: true })).toThrow(/gram needs a square result, got 2×3/);
  });

  it('with β = 0 never reads C (NaN in C stays out of the result)', () => {
    const c = one.gemm(3, 5, 4, random(12, 1), random(20, 2), new Float32Array(15).fill(NaN));
    expect(c.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('k = 0 gives β·C; m = 0 or n = 0 leave C alone', () => {
    expect(Array.from(one.gemm(2, 2, 0, new Float32Array(0), new Float32Array(0), Float32Array.of(1, 2, 3, 4), { beta: 2 }))).toEqual([2, 4, 6, 8]);
    expect(Array.from(one.gemm(0, 2, 3, new Float32Array(0), random(6, 1), Float32Array.of(7)))).toEqual([7]);
  });

  it('computes in place over B or C (operands are packed before C is written)', () => {
    const a = random(16, 3);
    const x = random(16, 4);
    const want = one.gemm(4, 4, 4, a, x, new Float32Array(16), { beta: 0 });
    const xc = Float32Array.from(x);
    one.gemm(4, 4, 4, a, xc, xc);
    expect(Array.from(xc)).toEqual(Array.from(want));
  });

  it('rejects bad sizes and short arrays, naming them', () => {
    expect(() => one.gemm(2, 2, 2, new Float32Array(3), new Float32Array(4), new Float32Array(4))).toThrow(/needs 4, 4, 4 values; got 3/);
    expect(() => one.gemm(-1, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(4))).toThrow(/m must be a non-negative integer, got -1/);
    expect(() => createLinalg({ threads: 0 })).toThrow(/threads must be an integer in \[1, 64\], got 0/);
  });

  it('uses threads where the runtime has them (Node here)', () => {
    expect(threadsAvailable()).toBe(true);
    expect(two.threads).toBe(2);
    expect(createLinalg({ threads: 1 }).threads).toBe(1);
  });

  it('a 300 × 300 product on two threads equals one thread bit for bit (the split keeps each sum on one thread)', () => {
    const n = 300;
    const a = random(n * n, 5);
    const b = random(n * n, 6);
    const c1 = one.gemm(n, n, n, a, b, new Float32Array(n * n));
    const c2 = two.gemm(n, n, n, a, b, new Float32Array(n * n));
    expect(Buffer.from(c2.buffer).equals(Buffer.from(c1.buffer))).toBe(true);
    check(n, n, n, a, b, new Float32Array(n * n), c1, {});
  });
});

describe('matmulPlain (the bench baseline)', () => {
  it('agrees with Float64 within the float32 dot-product bound', () => {
    const [m, n, k] = [70, 65, 130];
    const a = random(m * k, 1);
    const b = random(k * n, 2);
    check(m, n, k, a, b, new Float32Array(m * n), matmulPlain(m, n, k, a, b, new Float32Array(m * n)), {});
  });
});

/** ‖x − y‖_F / ‖y‖_F. */
function relative(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    d += ((x[i] as number) - (y[i] as number)) ** 2;
    s += (y[i] as number) ** 2;
  }
  return Math.sqrt(d / s);
}

describe('iterations', () => {
  // Muon's quintic coefficients (Keller Jordan's).
  const coefficients: [number, number, number] = [3.4445, -4.775, 2.0315];

  for (const [rows, cols] of [
    [16, 40],
    [40, 16],
    [64, 64],
  ] as const) {
    it(`newtonSchulzF32 on ${rows}×${cols} matches core's Float64 newtonSchulz normwise (1e-5)`, () => {
      // Bound: the Float64 reference on the same float32 input; float32 products with n ≤ 64 terms and the
      // iteration's self-correction leave ~10u normwise (the TF.js kernel's note measures the same); 1e-5 ≈ 170u.
      const g = random(rows * cols, rows * 31 + cols);
      const got = newtonSchulzF32(two, g, rows, cols, coefficients, 5, 1e-7);
      const ref = newtonSchulz(matrix(Float64Array.from(g), rows, cols), { coefficients, steps: 5, eps: 1e-7 });
      expect(relative(got, ref.data)).toBeLessThan(1e-5);
      expect(Buffer.from(newtonSchulzF32(one, g, rows, cols, coefficients, 5, 1e-7).buffer).equals(Buffer.from(got.buffer))).toBe(true);
    });
  }

  for (const p of [1, 2, 4]) {
    it(`inverseRootNewtonSchulzF32 (p = ${p}) on a well-conditioned 48 × 48 SPD matrix matches core's Float64 iteration (1e-4)`, () => {
      // H = I + Y·Yᵀ/n: eigenvalues in [1, ~5], so P₀'s are ≥ ~0.04 ≫ iterEps and float32 resolves the root to
      // ~κ·n·u per product; 12 steps of p + 2 products leave ~1e-5 measured, 1e-4 allows the growth over steps.
      const n = 48;
      const y = random(n * n, 17 + p);
      const h = new Float32Array(n * n);
      one.gemm(n, n, n, y, y, h, { transB: true, alpha: 1 / n });
      for (let i = 0; i < n; i++) h[i * n + i] = (h[i * n + i] as number) + 1;
      const got = inverseRootNewtonSchulzF32(one, h, n, p, 12, 1e-5);
      const ref = inverseRootNewtonSchulz(Float64Array.from(h), n, p, { steps: 12, eps: 1e-5 });
      expect(relative(got, ref)).toBeLessThan(1e-4);
    });
  }
});

describe('mode products', () => {
  for (const shape of [[5, 7], [3, 4, 6], [2, 3, 4, 5], [9]]) {
    it(`addModeGramF32 and modeProductF32 on [${shape.join(', ')}] match core's Float64 addModeGram and modeProduct`, async () => {
      const { addModeGram, modeProduct, modeSizes } = await import('@descent/core');
      const { addModeGramF32, modeProductF32 } = await import('../src/index.js');
      const n = shape.reduce((a, b) => a * b, 1);
      const x = random(n, n);
      for (let i = 0; i < shape.length; i++) {
        const { outer, d, inner } = modeSizes(shape, i);
        const h0 = random(d * d, d);
        const h = addModeGramF32(two, x, outer, d, inner, Float32Array.from(h0));
        const href = Float64Array.from(h0);
        addModeGram(Float64Array.from(x), shape, i, href);
        // Dot products of n/d terms plus the add: (n/d + 2)·u relative to Σ|x||x| + |h₀| ≤ n/d + 1 per entry.
        const k = n / d;
        h.forEach((v, j) => expect(Math.abs(v - (href[j] as number))).toBeLessThanOrEqual((k + 2) * U * (k + 1)));
        const m = random(d * d, 3 * d);
        const y = modeProductF32(two, m, x, outer, d, inner);
        const yref = modeProduct(Float64Array.from(m), Float64Array.from(x), shape, i);
        y.forEach((v, j) => expect(Math.abs(v - (yref[j] as number))).toBeLessThanOrEqual((d + 2) * U * d));
      }
    });
  }
});

describe('worker lifetime', () => {
  it('a process that ran a threaded product exits by itself (workers are unref\'d)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('./fixtures/threaded-exit.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('ok 128 2');
  });

  it('dispose stops the workers and refuses later products', () => {
    const la = createLinalg({ threads: 2, threadThreshold: 0 });
    la.gemm(8, 8, 8, random(64, 1), random(64, 2), new Float32Array(64));
    la.dispose();
    expect(() => la.gemm(8, 8, 8, random(64, 1), random(64, 2), new Float32Array(64))).toThrow(/gemm after dispose/);
  });
});
