import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FLOAT32_EPSILON,
  OptionError,
  adafactor,
  createReference,
  createSpec,
  decodeNumber,
  getDefinition,
  shampoo,
  tensor,
  type OptionValue,
  type Tensor,
} from '../src/index.js';
import {
  INVERSE_ROOT_COEFFICIENTS,
  INVERSE_ROOT_SCALE,
  inverseRootEigh,
  inverseRootNewtonSchulz,
  taylorCoefficients,
} from '../src/linalg/inverse-root.js';
import { jacobiEigen } from '../src/linalg/symmetric.js';
import { addModeGram, modeProduct } from '../src/linalg/tensor-modes.js';

// ---------------------------------------------------------------------------------------------------------------
// Helpers written for the tests, independent of the code under test.

/** Deterministic standard normal samples (mulberry32 + Box–Muller). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const randomArray = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, gaussian(seed));

/** Plain n × n product, written out again here. */
function mul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j] = (out[i * n + j] as number) + (a[i * n + k] as number) * (b[k * n + j] as number);
  return out;
}

const eye = (n: number): Float64Array => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

/** ‖a − b‖_F / ‖b‖_F. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

/** A well-conditioned SPD matrix B·Bᵀ/n + shift·I. */
function spd(n: number, seed: number, shift: number): Float64Array {
  const b = randomArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (b[i * n + k] as number) * (b[j * n + k] as number);
      a[i * n + j] = s / n + (i === j ? shift : 0);
    }
  }
  return a;
}

/** Q·diag(λ)·Qᵀ with the Householder reflector Q = I − 2vvᵀ/vᵀv, and Q itself. */
function withSpectrum(lambda: readonly number[], seed: number): { a: Float64Array; q: Float64Array } {
  const n = lambda.length;
  const v = randomArray(n, seed);
  let vv = 0;
  for (const x of v) vv += x * x;
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = (i === j ? 1 : 0) - (2 * (v[i] as number) * (v[j] as number)) / vv;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (q[i * n + k] as number) * (lambda[k] as number) * (q[j * n + k] as number);
      a[i * n + j] = s;
    }
  }
  return { a, q };
}

const norm2 = (x: readonly number[]): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
const rms = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / x.length);
};

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) expect.fail(`element ${i}: ${a}, expected ${e} (tolerance ${tol})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Linear algebra.

describe('jacobiEigen', () => {
  it('finds the spectrum 2 − 2cos(kπ/(n+1)) of the tridiagonal (−1, 2, −1) matrix, with orthonormal vectors', () => {
    const n = 7;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const { values, vectors } = jacobiEigen(a, n);
    const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => x - y);
    expectClose(values, expected, 1e-14);
    // VᵀV = I and A·V = V·Λ.
    const vt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vt[i * n + j] = vectors[j * n + i] as number;
    expectClose(mul(vt, vectors, n), eye(n), 1e-14);
    const av = mul(a, vectors, n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) expect(av[i * n + k]).toBeCloseTo((vectors[i * n + k] as number) * (values[k] as number), 13);
  });

  it('gets small eigenvalues to full relative accuracy: ε·I + g·gᵀ has ε (n − 1 times) and ε + ‖g‖²', () => {
    const g = [3, -1, 2, 0.5, 4];
    const n = g.length;
    const eps = 1e-9;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (g[i] as number) * (g[j] as number) + (i === j ? eps : 0);
    const { values } = jacobiEigen(a, n);
    const s = g.reduce((t, x) => t + x * x, 0);
    // The smallest eigenvalues are ~3e-11 of the largest; still within a few 1e-6 of ε relative (the input's own
    // rounding of g_i·g_j + ε is ~1e-16·30 absolute).
    for (let k = 0; k < n - 1; k++) expect(Math.abs((values[k] as number) - eps) / eps).toBeLessThan(1e-5);
    expect((values[n - 1] as number) / (eps + s)).toBeCloseTo(1, 14);
  });

  it('handles 1 × 1 and diagonal matrices without rotating', () => {
    expect([...jacobiEigen(Float64Array.of(5), 1).values]).toEqual([5]);
    const d = jacobiEigen(Float64Array.of(3, 0, 0, 1), 2);
    expect([...d.values]).toEqual([1, 3]);
    expect(d.sweeps).toBe(0);
  });
});

describe('inverse roots', () => {
  it('eigh: (A^{−1/p})^p · A = I on SPD matrices, p = 1 … 6', () => {
    for (const n of [1, 2, 3, 5, 6]) {
      const a = spd(n, 10 + n, 0.1);
      for (let p = 1; p <= 6; p++) {
        const x = inverseRootEigh(a, n, p);
        let xp = eye(n);
        for (let k = 0; k < p; k++) xp = mul(xp, x, n);
        expectClose(mul(xp, a, n), eye(n), 1e-11);
      }
    }
  });

  it('eigh: the closed form (εI + ggᵀ)^{−1/p} = ε^{−1/p}(I − ĝĝᵀ) + (ε + ‖g‖²)^{−1/p}ĝĝᵀ, for small ε too', () => {
    const g = [1, -2, 0.5, 3];
    const n = g.length;
    const s = g.reduce((t, x) => t + x * x, 0);
    for (const eps of [1e-4, 1]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (g[i] as number) * (g[j] as number) + (i === j ? eps : 0);
      for (const p of [1, 2, 4]) {
        const expected = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const proj = ((g[i] as number) * (g[j] as number)) / s;
            expected[i * n + j] = eps ** (-1 / p) * ((i === j ? 1 : 0) - proj) + (eps + s) ** (-1 / p) * proj;
          }
        }
        // Rounding g_i·g_j + ε already perturbs the small eigenvalues by ~u·‖A‖ absolute, so no method can do
        // better than ~u·cond(A) relative; allow 10·u·cond(A) (1.4e-10 for ε = 1e-4, 3e-14 for ε = 1).
        expect(relDiff(inverseRootEigh(a, n, p), expected)).toBeLessThan(10 * 2 ** -52 * ((eps + s) / eps));
      }
    }
  });

  it('Newton–Schulz: the table ends with the Taylor row of x^{−1/r}, e.g. (3, −3, 1) and (15/8, −5/4, 3/8)', () => {
    expect(taylorCoefficients(1)).toEqual([3, -3, 1]);
    expect(taylorCoefficients(2)).toEqual([15 / 8, -5 / 4, 3 / 8]);
    for (let r = 1; r <= 5; r++) {
      const rows = INVERSE_ROOT_COEFFICIENTS[r]!;
      const last = rows[rows.length - 1]!;
      expectClose(last, taylorCoefficients(r), 1e-15);
      // w(1) = a + b + c = 1: the fixed point x = 1 of x ← x·w(x)^r.
      expect(last[0] + last[1] + last[2]).toBeCloseTo(1, 15);
    }
  });

  it('Newton–Schulz does to every eigenvalue what the scalar iteration x ← x·w(x)^r, g ← g·w(x) does', () => {
    // A = Q·diag(λ)·Qᵀ; the iteration only involves polynomials in A, so its result must be Q·diag(h)·Qᵀ with
    // h the scalar recurrence on x = λ/‖A‖_F + ε, times ‖A‖_F^{−1/r}. Checked for the converged default (12
    // steps), for short runs that have not converged (3 steps), and for r > 5 (Taylor rows only).
    const lambda = [0.05, 0.3, 1, 2.5, 7];
    const n = lambda.length;
    const { a, q } = withSpectrum(lambda, 7);
    const t = norm2(lambda);
    for (const r of [1, 2, 3, 5, 6]) {
      for (const steps of [3, 12]) {
        for (const eps of [0, 1e-3]) {
          const rows = INVERSE_ROOT_COEFFICIENTS[r] ?? [taylorCoefficients(r)];
          const s = INVERSE_ROOT_SCALE;
          const h = lambda.map((l) => {
            let x = l / t + eps;
            let g = 1;
            for (let j = 0; j < steps; j++) {
              const [ca, cb, cc] = rows[Math.min(j, rows.length - 1)]!;
              const w = ca / s + (cb / s ** (r + 1)) * x + (cc / s ** (2 * r + 1)) * x * x;
              g *= w;
              x *= w ** r;
            }
            return g * t ** (-1 / r);
          });
          const expected = new Float64Array(n * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) expected[i * n + j] = (expected[i * n + j] as number) + (q[i * n + k] as number) * (h[k] as number) * (q[j * n + k] as number);
          expect(relDiff(inverseRootNewtonSchulz(a, n, r, { steps, eps }), expected)).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('Newton–Schulz (12 steps, ε 0) agrees with eigh to ~1e-8 on well-conditioned SPD matrices, and converges', () => {
    for (const n of [2, 4, 6]) {
      const a = spd(n, 40 + n, 1); // eigenvalues ≥ 1, condition number below ~10
      for (let r = 1; r <= 8; r++) {
        const exact = inverseRootEigh(a, n, r);
        const ns = inverseRootNewtonSchulz(a, n, r, { steps: 12, eps: 0 });
        // The floor is the bias of the safety scale 1.001: ~1e-9·r (see inverseRootSchedule).
        expect(relDiff(ns, exact)).toBeLessThan(4e-9 * r);
        // More steps do not change it: the iteration has converged.
        expect(relDiff(inverseRootNewtonSchulz(a, n, r, { steps: 20, eps: 0 }), ns)).toBeLessThan(1e-13);
      }
    }
  });

  it('Newton–Schulz with ε′ computes (A + ε′‖A‖_F·I)^{−1/r}', () => {
    const n = 4;
    const a = spd(n, 3, 0.5);
    let t = 0;
    for (const x of a) t += x * x;
    t = Math.sqrt(t);
    const shifted = Float64Array.from(a, (x, i) => (i % (n + 1) === 0 ? x + 1e-2 * t : x));
    expect(relDiff(inverseRootNewtonSchulz(a, n, 2, { steps: 12, eps: 1e-2 }), inverseRootEigh(shifted, n, 2))).toBeLessThan(1e-8);
  });
});

describe('mode-i operations', () => {
  // X = [[1, 2, 3], [4, 5, 6]], shape [2, 3].
  const x = Float64Array.of(1, 2, 3, 4, 5, 6);
  it('mode 0 of a matrix is X·Xᵀ and M·X; mode 1 is XᵀX and X·Mᵀ', () => {
    const h0 = new Float64Array(4);
    addModeGram(x, [2, 3], 0, h0);
    expect([...h0]).toEqual([14, 32, 32, 77]);
    const h1 = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1); // accumulates on top
    addModeGram(x, [2, 3], 1, h1);
    expect([...h1]).toEqual([18, 22, 27, 22, 30, 36, 27, 36, 46]);
    expect([...modeProduct(Float64Array.of(0, 1, 1, 1), x, [2, 3], 0)]).toEqual([4, 5, 6, 5, 7, 9]);
    // X·Mᵀ with M = [[1, 0, 0], [1, 1, 0], [0, 0, 2]]: rows (1, 3, 6) and (4, 9, 12).
    expect([...modeProduct(Float64Array.of(1, 0, 0, 1, 1, 0, 0, 0, 2), x, [2, 3], 1)]).toEqual([1, 3, 6, 4, 9, 12]);
  });

  it('on an order-3 tensor: products along the three modes equal the Kronecker product (M₀ ⊗ M₁ ⊗ M₂)·vec X', () => {
    const shape = [2, 3, 2];
    const t = randomArray(12, 5);
    const m = shape.map((d, i) => randomArray(d * d, 20 + i));
    let y: Float64Array = t;
    for (let i = 0; i < 3; i++) y = modeProduct(m[i]!, y, shape, i);
    const [m0, m1, m2] = m as [Float64Array, Float64Array, Float64Array];
    const expected = new Float64Array(12);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let a2 = 0; a2 < 2; a2++) for (let b2 = 0; b2 < 3; b2++) for (let c2 = 0; c2 < 2; c2++) s += (m0[a * 2 + a2] as number) * (m1[b * 3 + b2] as number) * (m2[c * 2 + c2] as number) * (t[a2 * 6 + b2 * 2 + c2] as number);
      expected[a * 6 + b * 2 + c] = s;
    }
    expectClose(y, expected, 1e-14);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Shampoo.

/** One Shampoo step on a fresh parameter; returns the update direction u = (θ₀ − θ₁)/lr and the state. */
function shampooSteps(options: Parameters<typeof shampoo>[0], theta0: number[], shape: number[], grads: number[][]) {
  const spec = shampoo(options);
  const w = tensor(Float64Array.from(theta0), shape);
  const opt = createReference(spec, { w });
  const directions: number[][] = [];
  for (const g of grads) {
    const before = Array.from(w.data);
    opt.step({ w: tensor(Float64Array.from(g), shape) });
    directions.push(before.map((b, i) => (b - (w.data[i] as number)) / spec.options.lr));
  }
  return { w, slots: opt.exportState().params.w!.slots, directions };
}

const slot = (slots: Record<string, { data: unknown[] }>, name: string): number[] => slots[name]!.data.map((v) => decodeNumber(v)!);

describe('shampoo', () => {
  it('has torch-optimizer\'s defaults and is a matrix optimizer', () => {
    expect(shampoo().options).toEqual({
      lr: 0.1,
      momentum: 0,
      weightDecay: 0,
      epsilon: 1e-4,
      updateFreq: 1,
      exponent: 'code',
      statistics: 'code',
      inverseRoot: 'eigh',
      iterSteps: 12,
      iterEps: 1e-5,
      matrixView: { rows: [0], cols: [] },
      maxPreconditionDim: 0,
      nonFinite: 'apply',
    });
    expect(getDefinition('shampoo').kind).toBe('matrix');
  });

  it('keeps one preconditioner and one inverse root per mode, and a momentum buffer only with momentum', () => {
    const opt = createReference(shampoo({ momentum: 0.5 }), { w: tensor(new Float64Array(12), [3, 4]), b: tensor([1, 2]), c: tensor([1], []) });
    const s = opt.exportState().params;
    expect(Object.fromEntries(Object.entries(s.w!.slots).map(([k, v]) => [k, v.shape]))).toEqual({
      momentumBuffer: [3, 4],
      precond0: [3, 3],
      precond1: [4, 4],
      invPrecond0: [3, 3],
      invPrecond1: [4, 4],
    });
    expect(s.w!.slots.precond0!.data).toEqual([1e-4, 0, 0, 0, 1e-4, 0, 0, 0, 1e-4]);
    expect(Object.keys(s.c!.slots)).toEqual(['momentumBuffer']);
    expect(Object.keys(createReference(shampoo(), { b: tensor([1, 2]) }).exportState().params.b!.slots)).toEqual(['precond0', 'invPrecond0']);
  });

  it('1-D, one step: u = H⁻¹g = g/(ε + ‖g‖²) (code) or H^{−1/2}g = g/√(ε + ‖g‖²) (paper)', () => {
    // H = εI + ggᵀ has g as an eigenvector with eigenvalue ε + ‖g‖². With the default ε = 1e-4, cond(H) = 2.5e5,
    // so the computed H⁻¹g can only be trusted to ~u·cond(H) ≈ 6e-11 relative.
    const g = [3, 4];
    const eps = 1e-4;
    const code = shampooSteps({}, [1, 2], [2], [g]);
    expectClose(code.directions[0]!, g.map((x) => x / (eps + 25)), 1e-10);
    expectClose(code.w.data, [1 - (0.1 * 3) / (eps + 25), 2 - (0.1 * 4) / (eps + 25)], 1e-11);
    expectClose(slot(code.slots, 'precond0'), [eps + 9, 12, 12, eps + 16], 1e-15);
    const paper = shampooSteps({ exponent: 'paper' }, [1, 2], [2], [g]);
    expectClose(paper.directions[0]!, g.map((x) => x / Math.sqrt(eps + 25)), 1e-10);
    // The exponent changes the step length by exactly the factor (ε + ‖g‖²)^{1/2}.
    expect(norm2(paper.directions[0]!) / norm2(code.directions[0]!) / Math.sqrt(eps + 25)).toBeCloseTo(1, 10);
  });

  it('2 × 2, one step on a rank-1 gradient G = u·vᵀ, all four exponent × statistics choices', () => {
    // u = (1, 2), v = (3, −1): G = [[3, −1], [6, −2]], s = ‖u‖²‖v‖² = 50. G·Gᵀ = ‖v‖² uuᵀ, so H₀ = εI + ‖v‖²uuᵀ
    // has eigenvalue ε + s on u and G' = H₀^{−1/p}G = G/(ε + s)^{1/p}. Code statistics: H₁ = εI + G'ᵀG' has
    // eigenvalue ε + s/(ε + s)^{2/p} on v; paper statistics: H₁ = εI + GᵀG has ε + s on v. Then u_t = G'·H₁^{−1/p}.
    const G = [3, -1, 6, -2];
    const eps = 0.5;
    const s = 50;
    const cases = [
      { exponent: 'code', statistics: 'code', p: 2, h1: eps + s / (eps + s) },
      { exponent: 'paper', statistics: 'code', p: 4, h1: eps + s / Math.sqrt(eps + s) },
      { exponent: 'code', statistics: 'paper', p: 2, h1: eps + s },
      { exponent: 'paper', statistics: 'paper', p: 4, h1: eps + s },
    ] as const;
    for (const c of cases) {
      const r = shampooSteps({ epsilon: eps, exponent: c.exponent, statistics: c.statistics }, [0, 0, 0, 0], [2, 2], [G]);
      const factor = (eps + s) ** (-1 / c.p) * c.h1 ** (-1 / c.p);
      expectClose(r.directions[0]!, G.map((x) => x * factor), 1e-13);
      expectClose(slot(r.slots, 'precond0'), [eps + 10, 20, 20, eps + 40], 1e-14);
    }
    // Paper/paper is the paper's L^{−1/4}·G·R^{−1/4} = G/(ε + s)^{1/2} here.
    const paper = shampooSteps({ epsilon: eps, exponent: 'paper', statistics: 'paper' }, [0, 0, 0, 0], [2, 2], [G]);
    expectClose(paper.directions[0]!, G.map((x) => x / Math.sqrt(eps + s)), 1e-13);
  });

  it('updateFreq 2 reuses the stale inverse root on step 2 and refreshes it on step 3', () => {
    // ε = 0.01: cond(H) ≈ 2500–5000, so 1e-12 relative is what the arithmetic allows.
    // g₁ = (3, 4), g₂ = (4, −3) ⊥ g₁. Stale root (εI + g₁g₁ᵀ)⁻¹ maps g₂ to g₂/ε; a fresh one to g₂/(ε + 25).
    const eps = 0.01;
    const g1 = [3, 4];
    const g2 = [4, -3];
    const stale = shampooSteps({ epsilon: eps, updateFreq: 2 }, [0, 0], [2], [g1, g2, g1]);
    expectClose(stale.directions[0]!, g1.map((x) => x / (eps + 25)), 1e-12);
    expectClose(stale.directions[1]!, g2.map((x) => x / eps), 1e-12);
    // The statistic keeps accumulating: εI + g₁g₁ᵀ + g₂g₂ᵀ + g₁g₁ᵀ, refreshed on step 3 (g₁ has eigenvalue ε + 50).
    expectClose(stale.directions[2]!, g1.map((x) => x / (eps + 50)), 1e-12);
    expectClose(slot(stale.slots, 'precond0'), [eps + 18 + 16, 24 - 12, 24 - 12, eps + 32 + 9], 1e-12);
    const fresh = shampooSteps({ epsilon: eps }, [0, 0], [2], [g1, g2]);
    expectClose(fresh.directions[1]!, g2.map((x) => x / (eps + 25)), 1e-12);
  });

  it('momentum mixes the gradient with the previous update (torch-optimizer), and the buffer holds that update', () => {
    // μ = 0.5, g₁ = g₂ = g = (3, 4). Step 1: the buffer starts as g, so x₁ = g and u₁ = g/(ε + 25).
    // Step 2: x₂ = ½g + ½u₁ = c·g with c = ½(1 + 1/(ε + 25)); H = εI + (1 + c²)ggᵀ; u₂ = c·g/(ε + 25(1 + c²)).
    const eps = 0.01;
    const g = [3, 4];
    const r = shampooSteps({ epsilon: eps, momentum: 0.5 }, [0, 0], [2], [g, g]);
    const c = 0.5 * (1 + 1 / (eps + 25));
    expectClose(r.directions[0]!, g.map((x) => x / (eps + 25)), 1e-12);
    const u2 = g.map((x) => (c * x) / (eps + 25 * (1 + c * c)));
    expectClose(r.directions[1]!, u2, 1e-12);
    expectClose(slot(r.slots, 'momentumBuffer'), u2, 1e-12);
  });

  it('adds L2 weight decay to the gradient before the statistics', () => {
    // x = g + λθ = (3, 4) + 0.5·(1, 2) = (3.5, 5), ‖x‖² = 37.25.
    const r = shampooSteps({ epsilon: 0.01, weightDecay: 0.5 }, [1, 2], [2], [[3, 4]]);
    expectClose(r.directions[0]!, [3.5 / 37.26, 5 / 37.26], 1e-13);
  });

  it('a scalar parameter takes a plain (momentum) SGD step', () => {
    const c = tensor([2], []);
    const opt = createReference(shampoo({ lr: 0.5 }), { c });
    opt.step({ c: tensor([0.25], []) });
    expect(c.data[0]).toBe(2 - 0.5 * 0.25);
  });

  it('order 3, paper statistics: H_i = εI + Σ over the other modes, u = (R₀ ⊗ R₁ ⊗ R₂)·g with R_i³·H_i = I', () => {
    const shape = [2, 3, 2];
    const dims = shape.length;
    const g = Array.from(randomArray(12, 99));
    const eps = 0.1;
    const r = shampooSteps({ epsilon: eps, statistics: 'paper' }, new Array<number>(12).fill(0), shape, [g]);
    const strides = [6, 2, 1];
    const index = (a: number, b: number, c: number): number => a * 6 + b * 2 + c;
    const R: Float64Array[] = [];
    for (let i = 0; i < dims; i++) {
      const d = shape[i]!;
      // (H_i)_ab = ε·δ_ab + Σ over every element whose mode-i index is a of g(elem)·g(elem with mode-i index b).
      const h = new Float64Array(d * d);
      for (let a = 0; a < d; a++) h[a * d + a] = eps;
      for (let e = 0; e < 12; e++) {
        const ia = Math.floor(e / strides[i]!) % d;
        for (let b = 0; b < d; b++) h[ia * d + b] = (h[ia * d + b] as number) + g[e]! * g[e + (b - ia) * strides[i]!]!;
      }
      expectClose(slot(r.slots, `precond${i}`), h, 1e-13);
      const root = Float64Array.from(slot(r.slots, `invPrecond${i}`));
      expectClose(mul(mul(mul(root, root, d), root, d), h, d), eye(d), 1e-11);
      R.push(root);
    }
    const expected = new Array<number>(12).fill(0);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let a2 = 0; a2 < 2; a2++) for (let b2 = 0; b2 < 3; b2++) for (let c2 = 0; c2 < 2; c2++) s += R[0]![a * 2 + a2]! * R[1]![b * 3 + b2]! * R[2]![c * 2 + c2]! * g[index(a2, b2, c2)]!;
      expected[index(a, b, c)] = s;
    }
    expectClose(r.directions[0]!, expected, 1e-12);
  });

  it('inverseRoot "newtonSchulz" (ε′ = 0) follows "eigh" to ~1e-8 on well-conditioned preconditioners', () => {
    const grads = [0, 1, 2].map((k) => Array.from(randomArray(12, 60 + k)));
    const exact = shampooSteps({ epsilon: 1 }, new Array<number>(12).fill(0), [3, 4], grads);
    const ns = shampooSteps({ epsilon: 1, inverseRoot: 'newtonSchulz', iterEps: 0 }, new Array<number>(12).fill(0), [3, 4], grads);
    for (let k = 0; k < 3; k++) expect(relDiff(ns.directions[k]!, exact.directions[k]!)).toBeLessThan(1e-8);
    expect(relDiff(ns.w.data, exact.w.data)).toBeLessThan(1e-8);
  });

  it('validates its options', () => {
    expect(() => shampoo({ momentum: 1.5 })).toThrow(OptionError);
    expect(() => shampoo({ momentum: 1.5 })).toThrow('shampoo: option "momentum" must be a number in [0, 1], got 1.5');
    expect(() => shampoo({ updateFreq: 0 })).toThrow(/option "updateFreq" must be an integer .* got 0/);
    expect(() => shampoo({ exponent: 'half' as 'code' })).toThrow(/option "exponent" must be one of "code", "paper", got "half"/);
    expect(() => shampoo({ inverseRoot: 'svd' as 'eigh' })).toThrow(/option "inverseRoot" must be one of "eigh", "newtonSchulz"/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Adafactor.

describe('adafactor factoredRoot: the square root last (PyTorch) or of each factor (fairseq / Hugging Face)', () => {
  /** A deterministic trajectory of both forms on the same gradients; returns every update Δθ of every step. */
  const run = (factoredRoot: 'last' | 'separate', shape: number[], scale: number, steps = 8): Float64Array[] => {
    const size = shape.reduce((a, b) => a * b, 1);
    let seed = 12345;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const w = tensor(Float64Array.from({ length: size }, () => next()), shape);
    const opt = createReference(adafactor({ lr: 0.05, factoredRoot }), { w });
    const updates: Float64Array[] = [];
    for (let t = 0; t < steps; t++) {
      const before = Float64Array.from(w.data);
      opt.step({ w: tensor(Float64Array.from({ length: size }, () => scale * next()), shape) });
      updates.push(before.map((x, i) => (w.data[i] as number) - x));
    }
    return updates;
  };

  it("is 'last' by default and refuses other values", () => {
    expect(adafactor().options.factoredRoot).toBe('last');
    expect(() => adafactor({ factoredRoot: 'both' as never })).toThrow('adafactor: option "factoredRoot" must be one of "last", "separate", got "both"');
  });

  it('the two forms are one estimate: every update agrees to a few ulps in Float64 (ratio 1), but not bitwise', () => {
    let worst = 0;
    let differing = 0;
    let compared = 0;
    for (const shape of [[4, 5], [3, 7], [2, 3, 4]]) {
      const a = run('last', shape, 1);
      const b = run('separate', shape, 1);
      a.forEach((u, t) =>
        u.forEach((x, i) => {
          const y = b[t]![i]!;
          compared++;
          if (x !== y) differing++;
          worst = Math.max(worst, Math.abs(x / y - 1));
        }),
      );
    }
    // Both forms round each of ~6 operations once, and the trajectories drift apart by that much per step over 8
    // steps (θ of one form feeds RMS(θ) of its next step): 8 steps · ~8 ops · 2⁻⁵³ ≈ 7e-15; 1e-13 leaves room.
    expect(worst).toBeLessThan(1e-13);
    // They are different computations (else the option would select nothing): some updates differ in the last
    // bits (26 of 520 here; the final θ − α·U rounding absorbs most of U's one-ulp differences).
    expect(differing).toBeGreaterThan(0);
    console.log(`adafactor factoredRoot: ${differing} of ${compared} updates differ bitwise, largest |ratio − 1| ${worst.toExponential(2)}`);
  });

  it('where the clamp of V̂ at ε₁² binds, both give G/ε₁ exactly (min(·, 1/ε₁) is the same clamp)', () => {
    // Gradients of 1e-9: V̂ ≈ 1e-18 < ε₁² = 2⁻⁴⁶ ≈ 1.4e-14 on the first step, so U = G/ε₁ = G·2²³ in both forms.
    const a = run('last', [3, 4], 1e-9, 1);
    const b = run('separate', [3, 4], 1e-9, 1);
    expect([...b[0]!]).toEqual([...a[0]!]);
  });

  it('leaves tensors of order < 2 (unfactored) unchanged', () => {
    const a = run('last', [7], 1);
    const b = run('separate', [7], 1);
    expect(b.map((u) => [...u])).toEqual(a.map((u) => [...u]));
  });
});

describe('adafactor', () => {
  it('has torch.optim.Adafactor\'s defaults with ε₁ = float32 machine epsilon', () => {
    expect(FLOAT32_EPSILON).toBe(1.1920928955078125e-7);
    expect(adafactor().options).toEqual({ lr: 0.01, beta2Decay: -0.8, eps: [FLOAT32_EPSILON, 1e-3], d: 1, weightDecay: 0, maximize: false, factoredRoot: 'last', nonFinite: 'apply' });
  });

  it('factors the last two modes: rowVar (…, n, 1), colVar (…, 1, m); a full variance below order 2', () => {
    const params = {
      m: tensor(new Float64Array(12), [3, 4]),
      t: tensor(new Float64Array(24), [2, 3, 4]),
      v: tensor(new Float64Array(5), [5]),
      s: tensor([1], []),
    };
    const state = createReference(adafactor(), params).exportState().params;
    const shapes = Object.fromEntries(Object.entries(state).map(([n, p]) => [n, Object.fromEntries(Object.entries(p.slots).map(([k, v]) => [k, v.shape]))]));
    expect(shapes).toEqual({
      m: { rowVar: [3, 1], colVar: [1, 4] },
      t: { rowVar: [2, 3, 1], colVar: [2, 1, 4] },
      v: { variance: [5] },
      s: { variance: [] },
    });
  });

  it('1-D, one step: V̂ = g², U = sign(g), θ₁ = θ₀ − γ·RMS(θ₀)·sign(g)', () => {
    // t = 1: 1 − β̂₂ = 1^τ = 1, ρ = min(γ, 1) = γ, α = max(ε₂, RMS(θ₀))·γ; RMS(U) = 1 = d, no clipping.
    const w = tensor([3, -4]);
    const opt = createReference(adafactor(), { w });
    opt.step({ w: tensor([0.5, 2]) });
    const alpha = 0.01 * Math.sqrt(12.5);
    expectClose(w.data, [3 - alpha, -4 - alpha], 1e-15);
    expectClose(slot(opt.exportState().params.w!.slots, 'variance'), [0.25, 4], 0);
  });

  it('2 × 2, one step by hand', () => {
    // g = [[1, 2], [3, 4]]: R = row means of g² = (2.5, 12.5), C = column means = (5, 10), mean R = 7.5,
    // V̂ = R_i·C_j/7.5 = [[5/3, 10/3], [25/3, 50/3]], U = g/√V̂ = [[√0.6, 2√0.3], [3√3/5, 4√(3/50)]],
    // RMS(U)² = (0.6 + 1.2 + 1.08 + 0.96)/4 = 0.96 < 1: no clipping. θ₀ = (1, 1, 1, 1): α = 1·0.01.
    const w = tensor([1, 1, 1, 1], [2, 2]);
    const opt = createReference(adafactor(), { w });
    opt.step({ w: tensor([1, 2, 3, 4], [2, 2]) });
    const U = [Math.sqrt(0.6), 2 * Math.sqrt(0.3), (3 * Math.sqrt(3)) / 5, 4 * Math.sqrt(3 / 50)];
    expect(rms(U)).toBeCloseTo(Math.sqrt(0.96), 15);
    expectClose(w.data, U.map((u) => 1 - 0.01 * u), 1e-15);
    const slots = opt.exportState().params.w!.slots;
    expect(slot(slots, 'rowVar')).toEqual([2.5, 12.5]);
    expect(slot(slots, 'colVar')).toEqual([5, 10]);
  });

  it('clips the update when RMS(U) > d (two steps by hand)', () => {
    // θ₀ = 2, g₁ = 1: V̂₁ = 1, U = 1, θ₁ = 2 − 2γ. Step 2, g₂ = 10: w = 2^{−0.8}, V̂₂ = 1 + w·99,
    // U = 10/√V̂₂ ≈ 1.31 > 1 = d, so the step is α₂·U/(U/d) = α₂ with α₂ = |θ₁|·min(γ, 1/√2) = |θ₁|·γ.
    // With d = 5 nothing is clipped and the step is α₂·U.
    const gamma = 0.01;
    const U2 = 10 / Math.sqrt(1 + 2 ** -0.8 * 99);
    expect(U2).toBeGreaterThan(1.3);
    for (const d of [1, 5]) {
      const w = tensor([2]);
      const opt = createReference(adafactor({ d }), { w });
      opt.step({ w: tensor([1]) });
      expect(w.data[0]).toBeCloseTo(2 - 2 * gamma, 15);
      opt.step({ w: tensor([10]) });
      const theta1 = 2 - 2 * gamma;
      const alpha2 = theta1 * gamma;
      expect(w.data[0]).toBeCloseTo(theta1 - alpha2 * (d === 1 ? 1 : U2), 14);
    }
  });

  it('uses RMS(θ) before the decoupled weight decay θ ← θ(1 − γλ), and maximize negates the gradient', () => {
    const w = tensor([3, -4]);
    createReference(adafactor({ weightDecay: 0.5, maximize: true }), { w }).step({ w: tensor([-0.5, -2]) });
    const alpha = 0.01 * Math.sqrt(12.5);
    expectClose(w.data, [3 * (1 - 0.005) - alpha, -4 * (1 - 0.005) - alpha], 1e-15);
  });

  it('zero rows and columns meet the ε₁ clamps: no NaN, no movement where g = 0', () => {
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    createReference(adafactor(), { w }).step({ w: tensor([0, 0, 0, 0, 1, 0], [2, 3]) });
    expect([...w.data].map((x, i) => x - [1, 2, 3, 4, 5, 6][i]!).filter((x) => x !== 0)).toHaveLength(1);
    expect(w.data.every(Number.isFinite)).toBe(true);
  });

  it('the factored estimate equals the naive formulas to 1e-12: PyTorch\'s R·C/mean R, fairseq\'s two rsqrts, the paper\'s sums', () => {
    // Five steps on a 3 × 5 matrix and a 2 × 3 × 4 tensor; R and C are recomputed here from the gradients with
    // plain β̂-weighted averages, and each step's movement is predicted from three formulations of V̂^{−1/2}.
    for (const shape of [
      [3, 5],
      [2, 3, 4],
    ]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const n = shape[shape.length - 2]!;
      const m = shape[shape.length - 1]!;
      const batches = size / (n * m);
      const w = tensor(randomArray(size, 300 + size), shape);
      const opt = createReference(adafactor({ lr: 0.05 }), { w });
      const R = new Float64Array(batches * n);
      const C = new Float64Array(batches * m);
      for (let t = 1; t <= 5; t++) {
        const g = randomArray(size, 400 + t).map((x) => x * (1 + t));
        const before = Float64Array.from(w.data);
        opt.step({ w: tensor(g, shape) });
        const beta = 1 - t ** -0.8;
        const pytorch = new Float64Array(size);
        const fairseq = new Float64Array(size);
        const paper = new Float64Array(size);
        for (let b = 0; b < batches; b++) {
          const G = (i: number, j: number): number => g[(b * n + i) * m + j] as number;
          for (let i = 0; i < n; i++) {
            let s = 0;
            for (let j = 0; j < m; j++) s += G(i, j) ** 2;
            R[b * n + i] = beta * (R[b * n + i] as number) + (1 - beta) * (s / m);
          }
          for (let j = 0; j < m; j++) {
            let s = 0;
            for (let i = 0; i < n; i++) s += G(i, j) ** 2;
            C[b * m + j] = beta * (C[b * m + j] as number) + (1 - beta) * (s / n);
          }
          let meanR = 0;
          for (let i = 0; i < n; i++) meanR += (R[b * n + i] as number) / n;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < m; j++) {
              const e = (b * n + i) * m + j;
              const Ri = R[b * n + i] as number;
              const Cj = C[b * m + j] as number;
              pytorch[e] = G(i, j) / Math.sqrt((Ri * Cj) / meanR);
              fairseq[e] = G(i, j) * (1 / Math.sqrt(Ri / meanR)) * (1 / Math.sqrt(Cj));
              // Sums instead of means: V̂ = (Σ_j G²)(Σ_i G²)/(Σ_ij G²), averaged alike.
              paper[e] = G(i, j) / Math.sqrt((m * Ri * (n * Cj)) / (n * m * meanR));
            }
          }
        }
        const alpha = Math.max(1e-3, rms(before)) * Math.min(0.05, 1 / Math.sqrt(t));
        const moved = before.map((x, i) => x - (w.data[i] as number));
        for (const U of [pytorch, fairseq, paper]) {
          const expected = U.map((u) => (alpha / Math.max(1, rms(U))) * u);
          expect(relDiff(moved, expected)).toBeLessThan(1e-12);
        }
        const slots = opt.exportState().params.w!.slots;
        expect(relDiff(slot(slots, 'rowVar'), R)).toBeLessThan(1e-14);
        expect(relDiff(slot(slots, 'colVar'), C)).toBeLessThan(1e-14);
      }
    }
  });

  it('validates its options', () => {
    expect(() => adafactor({ beta2Decay: 0.5 })).toThrow('adafactor: option "beta2Decay" must be a number in (-∞, 0], got 0.5');
    expect(() => adafactor({ d: 0.5 })).toThrow(/option "d" must be a number in \[1, ∞\), got 0.5/);
    expect(() => adafactor({ eps: [-1, 1e-3] })).toThrow(/option "eps\[0\]" must be a number in \[0, ∞\), got -1/);
    expect(() => adafactor({ eps: 1e-3 as unknown as [number, number] })).toThrow(OptionError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Golden trajectories: tools/golden/shampoo.py (torch-optimizer's Shampoo transcribed, torch 1.13 float64) and
// tools/golden/adafactor.py (PyTorch 2.5's _single_tensor_adafactor transcribed). Every parameter after every
// step and every state slot at the end is compared normwise, ‖x − ref‖/‖ref‖ per tensor. Shampoo's tolerance
// is looser because LAPACK's SVD and the reference's Jacobi round differently on preconditioners with condition
// numbers up to ~1e6 (measured worst: 2e-12); Adafactor's is elementwise work in a fixed order (worst: 4e-16).

interface Fixture {
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly groups?: ReadonlyArray<{ readonly params: string[]; readonly options: Record<string, OptionValue> }>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][] }>;
    readonly state: Readonly<Record<string, { readonly step: number; readonly slots: Record<string, number[]> }>>;
  };
}

function replayFixtures(dir: string, tolerance: number): void {
  const base = new URL(`./fixtures/${dir}/`, import.meta.url);
  const files = readdirSync(base).filter((f) => f.endsWith('.json')).sort();
  it('has fixtures', () => expect(files.length).toBeGreaterThan(5));
  for (const file of files) {
    it(file, () => {
      const fx = JSON.parse(readFileSync(new URL(file, base), 'utf8')) as Fixture;
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const opt = createReference(createSpec(fx.optimizer, fx.options), params, fx.groups ? { groups: fx.groups } : undefined);
      const check = (what: string, actual: ArrayLike<number>, expected: readonly number[]): void => {
        expect(actual.length, what).toBe(expected.length);
        const zero = expected.every((x) => x === 0);
        const error = zero ? Math.max(0, ...Array.from(actual, Math.abs)) : relDiff(actual, expected);
        if (!(error <= tolerance)) expect.fail(`${file} ${what}: normwise error ${error}`);
      };
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        fx.params.forEach((p, i) => check(`step ${k + 1} ${p.name}`, params[p.name]!.data, fx.expected.steps[k]!.params[i]!));
      });
      const state = opt.exportState().params;
      for (const [name, want] of Object.entries(fx.expected.state)) {
        expect(state[name]!.step).toBe(want.step);
        expect(Object.keys(state[name]!.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [s, data] of Object.entries(want.slots)) check(`state ${name}.${s}`, slot(state[name]!.slots, s), data);
      }
    });
  }
}

describe('golden: torch-optimizer Shampoo', () => replayFixtures('shampoo', 1e-10));
describe('golden: PyTorch 2.5 Adafactor', () => replayFixtures('adafactor', 1e-13));
