import { U32 } from './arith.js';

/**
 * The normwise allowance of a float32 Newton–Schulz orthogonalization (Muon), relative to ‖O‖_F.
 *
 * One step X ← aX + (bA + cA²)X, A = XXᵀ, applies φ(σ) = aσ + bσ³ + cσ⁵ to the singular values. In float32 each
 * step adds an error of about (N + 2)·u relative to ‖X‖ (the matrix products contract over N = the larger
 * dimension, γ_N; the two additions and the coefficients add a few u), and the following steps propagate an
 * error through the Fréchet derivative of the matrix polynomial, whose norm is at most L_j = max|φ′(σ)| over the
 * singular values X can have at step j (they start in [0, 1] after the normalisation X₀ = G/(‖G‖_F + ε) and stay
 * in [0, σ_j], σ_{j+1} = max φ([0, σ_j])). An error made at step j is therefore amplified at most by
 * L_{j+1}⋯L_{k−1}, and
 *
 *   τ = u·(N + 2)·(2 + Σ_j Π_{i>j} L_i) + (Π_i L_i)·δ_in,
 *
 * where δ_in is the relative error of the input (the momentum blend). For Keller Jordan's quintic (L ≈ 3.9 on
 * the reachable [0, 1.2]) and 5 steps, Σ ≈ 500: τ ≈ 2.4e-4 (4070u) for 6-wide matrices, the "≈1e-4" of
 * DESIGN.md. The sampled maxima are padded by 1% per step, so the bound errs on the safe side.
 *
 * Calibration (a float32 emulation rounding every product and every partial sum, sequential accumulation, the
 * worst order, on thousands of random and near-rank-deficient matrices up to 16 × 16; see test/bounds.test.ts):
 * largest observed error vs τ — 5 steps, ≤ 6 wide: 650u vs 4070u; 16 wide: 840u vs 9170u; one step: 11u vs
 * 24u; 8 steps: 13000u vs 3.6e5u; the cubic, 12 steps: 100u vs 2270u. The derivation is a worst case, and the
 * margin grows with the number of steps, where errors stop aligning with the worst direction. TF.js on the cpu
 * backend accumulates matrix products in Float64 and stays far below it.
 */
export function newtonSchulzTolerance(rows: number, cols: number, coefficients: readonly [number, number, number], steps: number, inputRelativeError = 0): number {
  const [a, b, c] = coefficients;
  const phi = (s: number): number => a * s + b * s ** 3 + c * s ** 5;
  const dphi = (s: number): number => Math.abs(a + 3 * b * s * s + 5 * c * s ** 4);
  const samples = 512;
  const lipschitz: number[] = [];
  let sigmaMax = 1;
  for (let j = 0; j < steps; j++) {
    let L = 0;
    let next = 0;
    for (let q = 0; q <= samples; q++) {
      const s = (sigmaMax * q) / samples;
      L = Math.max(L, dphi(s));
      next = Math.max(next, Math.abs(phi(s)));
    }
    // The sampled maximum of |φ′| may miss the true one by a little: pad by 1%.
    lipschitz.push(L * 1.01);
    sigmaMax = next * 1.01;
  }
  let amplified = 0;
  for (let j = 0; j < steps; j++) {
    let prod = 1;
    for (let i = j + 1; i < steps; i++) prod *= lipschitz[i] as number;
    amplified += prod;
  }
  const all = lipschitz.reduce((p, L) => p * L, 1);
  const n = Math.max(rows, cols);
  return U32 * (n + 2) * (2 + amplified) + all * inputRelativeError;
}
