import {
  addModeGram,
  jacobiEigen,
  modeProduct,
  permuteAxes,
  soapDefinition,
  soapLayout,
  soapRefreshBasis,
  type SoapOptions,
} from '@descent/core';
import { U32 } from './arith.js';
import { BoundBuilder, at, boundNorm, frobenius, roundedOnce, type BoundContext, type BoundResult, type TensorBound } from './tensor.js';

/** Input error of a tensor, as an absolute Frobenius norm: its element-wise budgets plus its normwise allowance. */
const inputError = (t: TensorBound, k: number): number => boundNorm(t, k) + t.extra;

/** max |x_i|. */
function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] as number));
  return m;
}

/** An upper bound of ‖Q‖₂ for a nearly orthogonal d × d Q: √(max row sum of |QᵀQ|) (Gershgorin on QᵀQ). */
function spectralBound(q: ArrayLike<number>, d: number): number {
  let worst = 0;
  for (let a = 0; a < d; a++) {
    let row = 0;
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += (q[r * d + a] as number) * (q[r * d + b] as number);
      row += Math.abs(s);
    }
    worst = Math.max(worst, row);
  }
  return Math.sqrt(worst);
}

function transposeSquare(m: ArrayLike<number>, d: number): Float64Array {
  const t = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) t[b * d + a] = m[a * d + b] as number;
  return t;
}

/**
 * SOAP (core/src/optimizers/soap.ts), compared normwise after the projections (in absolute Frobenius norms E).
 * The Float64 values come from the definition's own update (run on copies); the allowances follow the
 * perturbation theory of each stage:
 *
 * - GGᵢ ← GGᵢ + w·(G₍ᵢ₎G₍ᵢ₎ᵀ − GGᵢ): the Gram product contracts n = size/dᵢ terms (γ_n‖G‖²), an error E in G gives
 *   2‖G‖E + E², the lerp rounds (u times its terms), the input's error is carried with weight |1 − w|.
 * - Mode products with Qᵢ or Qᵢᵀ (orthogonal): E′ = ‖ΔQᵢ‖·‖X‖ + ‖Qᵢ‖₂E + k·u·dᵢ‖Qᵢ‖_F‖X‖.
 * - Adam's moments: the weights of the inputs' errors, u times the terms; the square adds 2·max|G′|·E + E².
 * - m/(√v + ε): E_m / min(√v + ε) + max(|m|/(√v + ε)²)·‖Δ√v‖, with ‖Δ√v‖ ≤ min(E_v/(2 min √v), (√N·E_v)^{1/2})
 *   (|√a − √b| ≤ √|a − b|), plus three roundings.
 * - normalizeGrads: ‖x/‖x‖ − y/‖y‖‖ ≤ 2‖x − y‖/‖x‖, plus the sum of squares (γ_N).
 * - The first basis (eigenvectors, Davis–Kahan): ‖Δqₖ‖ ≤ √2·‖ΔGG‖/(δₖ − ‖ΔGG‖), δₖ the gap of λₖ to the other
 *   eigenvalues; no bound when a gap is below 2‖ΔGG‖ (a repeated eigenvalue has no unique eigenvector — SOAP's
 *   update then depends on the solver's choice, on every implementation).
 * - A refresh: the sort by diag(QᵀGGQ) must be the same (no bound when two estimates are closer than twice their
 *   perturbation ‖ΔGG‖ + 2‖GG‖‖ΔQ‖); the QR of A = GG·Q[:, π] (Sun 1991): ‖ΔQ′‖_F ≤ (1 + √2)·‖A⁻¹‖₂‖ΔA‖_F /
 *   (1 − ‖A⁻¹‖₂‖ΔA‖_F), ‖A⁻¹‖₂ = 1/λ_min(GG), no bound when ‖A⁻¹‖₂‖ΔA‖_F ≥ ½.
 * - θ: element-wise rounding of θ − η′N and of the decay, plus η′·E_N.
 *
 * Ill-conditioned or rank-deficient preconditioners make the allowances large or unbounded, honestly: float32
 * SOAP there is that inaccurate (and so is upstream's float32 eigh).
 */
export const soapBound = (ctx: BoundContext<SoapOptions>): BoundResult => {
  const { ar, options: o, shape, param, grad, slots, step: t, matrixFactor } = ctx;
  const kU = ar.k * U32;
  const kM = matrixFactor * kU;
  const size = param.v.length;
  const layout = soapLayout(o, shape);
  const work = layout.shape;
  const perm = layout.permutation;
  const toWork = (x: Float64Array): Float64Array => (perm ? permuteAxes(x, shape, perm) : Float64Array.from(x));
  const [beta1, beta2] = o.betas;
  const w = 1 - (o.shampooBeta >= 0 ? o.shampooBeta : beta2);

  // The Float64 values of every output, from the reference update itself.
  const after: Record<string, Float64Array> = {};
  for (const [name, b] of Object.entries(slots)) after[name] = Float64Array.from(b.v);
  const thetaAfter = Float64Array.from(param.v);
  soapDefinition.update({ name: 'bound', options: o, shape, param: thetaAfter, grad: Float64Array.from(grad.v), slots: after, scalars: {}, step: t });

  const g = toWork(Float64Array.from(grad.v));
  const gNorm = frobenius(g);
  const eG = inputError(grad, ar.k);
  const out: Record<string, TensorBound> = {};
  const eGG: Record<number, number> = {};

  // Statistics (both cases).
  for (const i of layout.modes) {
    const d = work[i] as number;
    const ggIn = slots[`GG${i}`]!;
    const gram = new Float64Array(d * d);
    addModeGram(g, work, i, gram);
    const n = d === 0 ? 0 : size / d;
    const ggNew = after[`GG${i}`]!;
    const e =
      Math.abs(1 - w) * inputError(ggIn, ar.k) +
      w * (kM * n * gNorm * gNorm + 2 * gNorm * eG + eG * eG) +
      kU * (2 * frobenius(ggIn.v) + 2 * w * frobenius(gram) + frobenius(ggNew));
    eGG[i] = e;
    out[`GG${i}`] = roundedOnce(ggNew, e, `SOAP statistics of mode ${i}`);
  }

  if (t === 1) {
    for (const i of layout.modes) {
      const d = work[i] as number;
      const { values } = jacobiEigen(after[`GG${i}`]!, d);
      const dA = eGG[i] as number;
      let sq = 0;
      let worstGap = Infinity;
      for (let k = 0; k < d; k++) {
        let gap = Infinity;
        for (let j = 0; j < d; j++) if (j !== k) gap = Math.min(gap, Math.abs((values[k] as number) - (values[j] as number)));
        worstGap = Math.min(worstGap, gap);
        if (gap < Infinity) sq += ((Math.SQRT2 * dA) / (gap - dA)) ** 2;
      }
      const e = worstGap > 2 * dA ? Math.sqrt(sq) + kM * (d + 2) * Math.sqrt(d) : Infinity;
      out[`Q${i}`] = roundedOnce(after[`Q${i}`]!, e, `SOAP first eigenbasis of mode ${i} (smallest eigenvalue gap ${worstGap.toExponential(2)})`);
    }
    out.expAvg = slots.expAvg!;
    out.expAvgSq = slots.expAvgSq!;
    return { param, slots: out, scalars: {} };
  }

  // Mode products through every preconditioned mode with the bases `qs` (errors `eQs`).
  const qIn: Record<number, Float64Array> = {};
  const eQ: Record<number, number> = {};
  for (const i of layout.modes) {
    qIn[i] = Float64Array.from(slots[`Q${i}`]!.v);
    eQ[i] = inputError(slots[`Q${i}`]!, ar.k);
  }
  const project = (x: Float64Array, e: number, back: boolean, qs: Record<number, Float64Array>, eQs: Record<number, number>): { x: Float64Array; e: number } => {
    let y = x;
    let err = e;
    for (const i of layout.modes) {
      const d = work[i] as number;
      const q = qs[i] as Float64Array;
      const norm = frobenius(y);
      err = (eQs[i] as number) * norm + spectralBound(q, d) * err + kM * d * frobenius(q) * norm;
      y = modeProduct(back ? q : transposeSquare(q, d), y, work, i);
    }
    return { x: y, e: Number.isNaN(err) ? Infinity : err };
  };

  const s = t - 1;
  const mIn = toWork(Float64Array.from(slots.expAvg!.v));
  const vIn = toWork(Float64Array.from(slots.expAvgSq!.v));
  const gp = project(g, eG, false, qIn, eQ);
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  const ratio = new Float64Array(size);
  let denomMin = Infinity;
  let sqrtVMin = Infinity;
  let ratioOverDenomMax = 0;
  for (let k = 0; k < size; k++) {
    const x = gp.x[k] as number;
    m[k] = (mIn[k] as number) * beta1 + (1 - beta1) * x;
    v[k] = (vIn[k] as number) * beta2 + (1 - beta2) * (x * x);
    const root = Math.sqrt(v[k] as number);
    const denom = root + o.eps;
    ratio[k] = (m[k] as number) / denom;
    denomMin = Math.min(denomMin, denom);
    sqrtVMin = Math.min(sqrtVMin, root);
    ratioOverDenomMax = Math.max(ratioOverDenomMax, Math.abs(ratio[k] as number) / denom);
  }
  const gpMax = maxAbs(gp.x);
  const eM = beta1 * inputError(slots.expAvg!, ar.k) + (1 - beta1) * gp.e + 2 * kU * (beta1 * frobenius(mIn) + (1 - beta1) * gp.e + (1 - beta1) * frobenius(gp.x));
  const eSq = 2 * gpMax * gp.e + gp.e * gp.e;
  let vSq = 0;
  for (let k = 0; k < size; k++) vSq += (gp.x[k] as number) ** 4;
  const eV = beta2 * inputError(slots.expAvgSq!, ar.k) + (1 - beta2) * (eSq + 2 * kU * Math.sqrt(vSq)) + 2 * kU * beta2 * frobenius(vIn);
  const eRoot = Math.min(sqrtVMin > 0 ? eV / (2 * sqrtVMin) : Infinity, Math.sqrt(Math.sqrt(size) * eV));
  const eRatio = size === 0 ? 0 : eM / denomMin + ratioOverDenomMax * eRoot + 4 * kU * frobenius(ratio);
  const nProj = project(ratio, Number.isNaN(eRatio) ? Infinity : eRatio, true, qIn, eQ);
  let nVals = nProj.x;
  let eN = nProj.e;
  if (o.normalizeGrads && size > 0) {
    const norm = frobenius(nVals);
    const rms = norm / Math.sqrt(size);
    const scale = 1e-30 + rms;
    nVals = Float64Array.from(nVals, (x) => x / scale);
    eN = norm > 0 ? (2 * eN * Math.sqrt(size)) / norm + kU * (size + 2) * frobenius(nVals) : Infinity;
  }
  if (perm) nVals = permuteAxes(nVals, shape, perm, true);
  const stepSize = o.correctBias ? (o.lr * Math.sqrt(1 - beta2 ** s)) / (1 - beta1 ** s) : o.lr;
  const cStep = ar.input(stepSize);
  const cDecay = ar.input(-o.lr * o.weightDecay);
  const theta = new BoundBuilder(size);
  for (let k = 0; k < size; k++) {
    let x = ar.sub(at(param, k), ar.mul(cStep, ar.exact(nVals[k] as number)));
    if (o.weightDecay > 0) x = ar.add(x, ar.mul(cDecay, x));
    theta.set(k, x);
  }
  const grow = o.weightDecay > 0 ? 1 + o.lr * o.weightDecay : 1;
  const paramBound = theta.build(size === 0 ? param.extra : (param.extra + stepSize * eN) * grow, 'SOAP: η′·‖ΔN‖_F');

  let eMOut = eM;
  let eVOut = eV;
  if (s % o.preconditionFrequency === 0) {
    const original = project(m, eM, true, qIn, eQ);
    const qNew: Record<number, Float64Array> = {};
    const eQNew: Record<number, number> = {};
    for (const i of layout.modes) {
      const d = work[i] as number;
      const gg = after[`GG${i}`]!;
      const q = qIn[i] as Float64Array;
      const dGG = eGG[i] as number;
      const ggNorm = frobenius(gg);
      const { order } = soapRefreshBasis(gg, q, d);
      // The estimates diag(QᵀGGQ), sorted; a near tie may sort differently in float32.
      const est = order.map((c) => {
        let sum = 0;
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) sum += (q[a * d + c] as number) * (gg[a * d + b] as number) * (q[b * d + c] as number);
        return sum;
      });
      const dEst = dGG + 2 * ggNorm * (eQ[i] as number) + kM * (2 * d + 2) * ggNorm;
      let tie = false;
      for (let c = 1; c < d; c++) if ((est[c - 1] as number) - (est[c] as number) <= 2 * dEst) tie = true;
      const { values } = jacobiEigen(gg, d);
      const lambdaMin = d === 0 ? Infinity : Math.min(...Array.from(values));
      const dA = dGG * spectralBound(q, d) + ggNorm * (eQ[i] as number) + kM * d * ggNorm * Math.sqrt(d);
      const rel = dA / lambdaMin;
      const e = d === 0 ? 0 : !tie && lambdaMin > 0 && rel < 0.5 ? ((1 + Math.SQRT2) * rel) / (1 - rel) + kM * (d + 2) * Math.sqrt(d) : Infinity;
      qNew[i] = after[`Q${i}`]!;
      eQNew[i] = e;
      out[`Q${i}`] = roundedOnce(after[`Q${i}`]!, e, `SOAP refreshed basis of mode ${i} (λ_min ${lambdaMin.toExponential(2)}${tie ? ', near tie in the sort' : ''})`);
      if (tie) eVOut = Infinity;
    }
    // v is only permuted (exactly, by the same order unless there is a near tie); m is rotated into the new basis.
    eMOut = project(original.x, original.e, false, qNew, eQNew).e;
  } else {
    for (const i of layout.modes) out[`Q${i}`] = slots[`Q${i}`]!;
  }
  out.expAvg = roundedOnce(after.expAvg!, size === 0 ? 0 : eMOut, 'SOAP first moment in the eigenbasis');
  out.expAvgSq = roundedOnce(after.expAvgSq!, size === 0 ? 0 : eVOut, 'SOAP second moment in the eigenbasis');
  return { param: paramBound, slots: out, scalars: {} };
};
