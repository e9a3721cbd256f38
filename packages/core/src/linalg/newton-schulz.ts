import { axpby, dense, frobeniusNorm, matmul, transpose, type Matrix } from './matrix.js';

/**
 * Newton–Schulz orthogonalization, the "N" of Muon, in Float64.
 *
 * For G = U·Σ·Vᵀ, one step X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ is
 * U·(a·Σ + b·Σ³ + c·Σ⁵)·Vᵀ: it applies the odd polynomial φ(σ) = aσ + bσ³ + cσ⁵ to every singular value and
 * leaves the singular vectors alone. After normalising X₀ = G / (‖G‖_F + ε), which puts every singular value in
 * (0, 1], k steps give U·φᵏ(Σ₀)·Vᵀ: an approximation of the orthogonal polar factor U·Vᵀ, as good as φᵏ is close
 * to 1 on the singular values of X₀.
 *
 * - Keller Jordan's quintic (a, b, c) = (3.4445, −4.7750, 2.0315) maximises the slope φ′(0) = a so that small
 *   singular values grow fast, at the price of not converging: after 5 steps φ⁵ maps [0.01, 1] into about
 *   [0.68, 1.13] (Keller: "US′Vᵀ where S′ ≈ Uniform(0.5, 1.5)"), which does not hurt training.
 * - The classic cubic (1.5, −0.5, 0) converges to exactly 1 on (0, √3), quadratically near 1, so its iterates
 *   converge to U·Vᵀ.
 *
 * Follows `zeropower_via_newtonschulz5` of Keller Jordan's Muon (github.com/KellerJordan/Muon, muon.py), which
 * PyTorch 2.9's `torch.optim.Muon` also follows: a tall G is transposed first so that A is the smaller Gram
 * matrix, and transposed back at the end. Differences: this runs in Float64 where Keller's runs in bfloat16, and
 * PyTorch divides by max(‖G‖_F, ε) instead of ‖G‖_F + ε.
 *
 * @packageDocumentation
 */

/** (a, b, c) of φ(σ) = aσ + bσ³ + cσ⁵. */
export type NewtonSchulzCoefficients = readonly [number, number, number];

/** Keller Jordan's quintic, Muon's default. */
export const MUON_COEFFICIENTS: NewtonSchulzCoefficients = Object.freeze([3.4445, -4.775, 2.0315] as const);

/** The classic cubic Newton–Schulz iteration X ← (3X − X·Xᵀ·X)/2, which converges to U·Vᵀ. */
export const CUBIC_COEFFICIENTS: NewtonSchulzCoefficients = Object.freeze([1.5, -0.5, 0] as const);

/** Options of the Newton–Schulz orthogonalisation Muon applies to its momentum. */
export interface NewtonSchulzOptions {
  /** (a, b, c). Default {@link MUON_COEFFICIENTS}. */
  readonly coefficients: NewtonSchulzCoefficients;
  /** Number of steps k. Default 5. */
  readonly steps: number;
  /** ε in X₀ = G / (‖G‖_F + ε). Default 1e-7. */
  readonly eps: number;
  /** How ε enters: `add` X₀ = G / (‖G‖_F + ε) (Keller Jordan's), `clamp` X₀ = G / max(‖G‖_F, ε) (PyTorch's). Default `add`. */
  readonly normalize: NewtonSchulzNormalization;
}

/** How ε enters the normalisation before Newton–Schulz: see {@link NewtonSchulzOptions}. */
export type NewtonSchulzNormalization = 'add' | 'clamp';

const DEFAULTS: NewtonSchulzOptions = { coefficients: MUON_COEFFICIENTS, steps: 5, eps: 1e-7, normalize: 'add' };

/**
 * k Newton–Schulz steps on G (any 2-D view, e.g. a transposed one); returns a fresh dense matrix of G's shape.
 *
 * $$
 * X_0 = \frac{G}{\lVert G\rVert_F + \varepsilon},\qquad
 * A_j = X_j X_j^\top,\quad X_{j+1} = a X_j + (b A_j + c A_j^2)\, X_j,
 * $$
 *
 * computed on Gᵀ when G has more rows than columns.
 */
export function newtonSchulz(g: Matrix, options: Partial<NewtonSchulzOptions> = {}): Matrix {
  const { coefficients, steps, eps, normalize } = { ...DEFAULTS, ...options };
  const [a, b, c] = coefficients;
  const tall = (g.shape[0] as number) > (g.shape[1] as number);
  let x = dense(tall ? g.transpose(1, 0) : g);
  const denominator = normalize === 'clamp' ? Math.max(frobeniusNorm(x), eps) : frobeniusNorm(x) + eps;
  for (let i = 0; i < x.data.length; i++) x.data[i] = (x.data[i] as number) / denominator;
  for (let j = 0; j < steps; j++) {
    const gram = matmul(x, x.transpose(1, 0));
    const poly = axpby(b, gram, c, matmul(gram, gram));
    x = axpby(a, x, 1, matmul(poly, x));
  }
  return tall ? transpose(x) : x;
}

/**
 * What {@link newtonSchulz} does to one singular value σ of X₀ (already normalised): φᵏ(σ). The invariant a
 * conformance test checks: the singular values of the output are φᵏ of those of X₀.
 */
export function newtonSchulzScalar(sigma: number, options: Partial<Omit<NewtonSchulzOptions, 'eps'>> = {}): number {
  const { coefficients, steps } = { ...DEFAULTS, ...options };
  const [a, b, c] = coefficients;
  let x = sigma;
  for (let j = 0; j < steps; j++) x = a * x + b * x ** 3 + c * x ** 5;
  return x;
}
