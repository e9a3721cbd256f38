import { inverseRootSchedule, resolveMatrixView, shampooDefinition, shampooPreconditioned, type ShampooOptions } from '@descent/core';
import { U32, type Tracked } from './arith.js';
import { symmetricEigenvalues } from './eigen.js';
import { BoundBuilder, at, boundNorm, frobenius, roundedOnce, type BoundContext, type BoundResult, type TensorBound } from './tensor.js';

function modeSizes(shape: readonly number[], mode: number): { outer: number; d: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < mode; i++) outer *= shape[i] as number;
  for (let i = mode + 1; i < shape.length; i++) inner *= shape[i] as number;
  return { outer, d: shape[mode] as number, inner };
}

function modeProduct(m: ArrayLike<number>, x: Float64Array, shape: readonly number[], mode: number): Float64Array {
  const { outer, d, inner } = modeSizes(shape, mode);
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < d; a++) {
      for (let r = 0; r < inner; r++) {
        let sum = 0;
        for (let b = 0; b < d; b++) sum += (m[a * d + b] as number) * (x[(o * d + b) * inner + r] as number);
        y[(o * d + a) * inner + r] = sum;
      }
    }
  }
  return y;
}

/**
 * Rounding mass of the coupled Newton–Schulz inverse root (core's inverseRootNewtonSchulz): iteration j forms
 * W = aI + bP + cP² from coefficients much larger than W itself (the first row for r = 1 is (14.3, −31.2, 18.9)
 * while W ≈ 2 near P = I), so W carries a relative error of about (|a| + |b|·ρ + |c|·ρ²)·u with ρ ≈ 1 the spectral
 * radius of P, which G ← G·W keeps and P ← P·Wʳ multiplies by r + 1. The sum over the iterations is the factor
 * charged to the inverse root, on top of the product errors (d + 2).
 */
function newtonSchulzRootMass(r: number, steps: number): number {
  let mass = 0;
  for (const [a, b, c] of inverseRootSchedule(r, steps)) mass += (Math.abs(a) + 1.01 * Math.abs(b) + 1.02 * Math.abs(c)) * (r + 1);
  return mass;
}

/**
 * Shampoo (core/src/optimizers/shampoo.ts), compared normwise everywhere but in the element-wise first stage.
 * The Float64 values come from the definition's own update (run on copies); the allowances follow the
 * perturbation theory of each stage, in absolute Frobenius norms E:
 *
 * - X⁽⁰⁾ (momentum mix and L2): element-wise budgets; E₀ is their norm (plus μ times the buffer's allowance).
 * - H_i ← H_i + X₍ᵢ₎X₍ᵢ₎ᵀ: the Gram product contracts n = size/dᵢ terms (γ_n·‖X‖²_F for any order), the sum
 *   rounds (u·‖H′‖_F), and an error E in X gives 2‖X‖E + E².
 * - R_i = H_i^{−1/p}: the Fréchet derivative of λ ↦ λ^{−1/p} is at most λ_min^{−1/p−1}/p, so
 *   ‖ΔR‖₂ ≤ λ_min^{−1/p}·[(‖ΔH‖ + k·u·c·λ_max)/(p·λ_min) + k·u·(d + 2)]: the condition number λ_max/λ_min of H
 *   scales the allowance, c = d + 2 for an eigendecomposition (× the rounding mass of its coefficients for the
 *   Newton–Schulz inverse root, see newtonSchulzRootMass, whose ε·‖H‖_F regularisation raises λ_min). No bound
 *   when ‖ΔH‖ reaches λ_min/2.
 * - X ← R ×ᵢ X: E′ = ‖ΔR‖₂‖X‖_F + ‖R‖₂E + k·u·dᵢ‖R‖_F‖X‖_F.
 * - θ ← θ − ηX: element-wise rounding plus η·E; the momentum buffer is X (allowance E).
 *
 * A large condition number makes the allowance large, honestly: float32 Shampoo on ill-conditioned statistics
 * is that inaccurate. The conformance generator keeps ε ≥ 0.01 and moderate gradients for this optimizer.
 */
export const shampooBound = (ctx: BoundContext<ShampooOptions>): BoundResult => {
  const { ar, options: o, shape, param, grad, slots, step: t, matrixFactor } = ctx;
  const kU = ar.k * U32;
  const { lr, momentum: mu, weightDecay: lambda } = o;
  const size = param.v.length;
  const k = shape.length;
  const u = slots.momentumBuffer;

  // Stage 1, element-wise.
  const x0: Tracked[] = [];
  for (let i = 0; i < size; i++) {
    const g = at(grad, i);
    let d = g;
    if (u) d = ar.add(ar.mul(g, ar.input(1 - mu)), ar.mul(ar.input(mu), t === 1 ? g : at(u, i)));
    if (lambda > 0) d = ar.add(d, ar.mul(ar.input(lambda), at(param, i)));
    x0.push(d);
  }
  const x0Values = Float64Array.from(x0, (x) => x.v);
  const e0 = Math.sqrt(x0.reduce((s, x) => s + (ar.radius(x) + (x.n ? Infinity : 0)) ** 2, 0)) + (u && t > 1 ? mu * u.extra : 0);

  // The Float64 values of every output, from the reference update itself.
  const after: Record<string, Float64Array> = {};
  for (const [name, b] of Object.entries(slots)) after[name] = Float64Array.from(b.v);
  const thetaAfter = Float64Array.from(param.v);
  shampooDefinition.update({ name: 'bound', options: o, shape, param: thetaAfter, grad: Float64Array.from(grad.v), slots: after, scalars: {}, step: t });

  const p = (o.exponent === 'paper' ? 2 : 1) * k;
  const refresh = (t - 1) % o.updateFreq === 0;
  const out: Record<string, TensorBound> = {};
  let x: Float64Array = x0Values;
  let err = e0;
  // The modes in the order the update visits them (the matrix view's).
  for (const i of resolveMatrixView(o.matrixView, shape).order) {
    const d = shape[i] as number;
    if (!shampooPreconditioned(o, d)) continue; // X ×ᵢ I = X: no statistic, no root, no error added
    const hIn = slots[`precond${i}`]!;
    const rIn = slots[`invPrecond${i}`]!;
    const hNew = after[`precond${i}`]!;
    const rNew = after[`invPrecond${i}`]!;
    const xs = o.statistics === 'paper' ? x0Values : x;
    const es = o.statistics === 'paper' ? e0 : err;
    const n = d === 0 ? 0 : size / d;
    const xsNorm = frobenius(xs);
    const hNorm = frobenius(hNew);
    const dH = boundNorm(hIn, ar.k) + hIn.extra + kU * (n * xsNorm * xsNorm + hNorm) + 2 * xsNorm * es + es * es;
    out[`precond${i}`] = roundedOnce(hNew, dH, `Shampoo statistics of mode ${i}`);
    let dR: number;
    let rSpectral: number;
    if (refresh && d > 0) {
      const lambdas = symmetricEigenvalues(hNew, d);
      let lo = Infinity;
      let hi = 0;
      for (const l of lambdas) {
        lo = Math.min(lo, l);
        hi = Math.max(hi, Math.abs(l));
      }
      const ns = o.inverseRoot === 'newtonSchulz';
      const lEff = ns ? lo + o.iterEps * hNorm : lo;
      const c = (d + 2) * (ns ? newtonSchulzRootMass(p, o.iterSteps) : 1);
      if (!(lo > 0) || !(lEff > 2 * dH)) {
        dR = Infinity;
        rSpectral = Infinity;
      } else {
        rSpectral = lEff ** (-1 / p);
        dR = rSpectral * ((dH + matrixFactor * kU * c * hi) / (p * lEff) + matrixFactor * kU * (d + 2));
      }
      out[`invPrecond${i}`] = roundedOnce(rNew, Math.sqrt(d) * dR, `Shampoo inverse root of mode ${i} (κ = ${(hi / lo).toExponential(2)})`);
    } else {
      dR = boundNorm(rIn, ar.k) + rIn.extra;
      rSpectral = frobenius(rIn.v);
      out[`invPrecond${i}`] = rIn;
    }
    const xNorm = frobenius(x);
    const next = modeProduct(rNew, x, shape, i);
    err = dR * xNorm + rSpectral * err + kU * d * frobenius(rNew) * xNorm;
    if (Number.isNaN(err)) err = Infinity;
    x = next;
  }
  if (size === 0) err = 0;
  if (u) out.momentumBuffer = roundedOnce(x, err, 'Shampoo preconditioned gradient');
  const theta = new BoundBuilder(size);
  const cLr = ar.input(lr);
  for (let i = 0; i < size; i++) theta.set(i, ar.sub(at(param, i), ar.mul(cLr, ar.exact(x[i] as number))));
  return { param: theta.build(param.extra + lr * err, 'Shampoo: η·‖ΔX‖_F'), slots: out, scalars: {} };
};
