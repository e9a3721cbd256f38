import type { AdafactorOptions } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction, type TensorBound } from './tensor.js';

/**
 * Adafactor (core/src/optimizers/adafactor.ts), a per-tensor-norm update with factored second moments. Row and
 * column means of g² are reductions (γ_{m−1}, γ_{n−1} times their absolute sums), blended by torch's lerp with
 * the host weight tᵗ; V̂ = R·C/mean(R) and the clamp at ε₁² (1-Lipschitz) carry relative budgets; U = g/√V̂.
 * The step size α = max(ε₂, RMS(θ))·ρ_t and the clipping divisor max(1, RMS(U)/d) are reductions over the whole
 * tensor and carry relative budgets of about n/2 each, which every element of θ inherits.
 */
export const adafactorBound: BoundFunction<AdafactorOptions> = ({ ar, options: o, shape, param, grad, slots, step: t }) => {
  const { lr: gamma, beta2Decay: tau, d, weightDecay: lambda, maximize } = o;
  const [eps1, eps2] = o.eps;
  const size = param.v.length;
  const w = t ** tau;
  const rho = Math.min(gamma, 1 / Math.sqrt(t));
  const cEps1 = ar.input(eps1);
  const cEps1Sq = ar.input(eps1 * eps1);
  const sq: Tracked[] = [];
  for (let i = 0; i < size; i++) sq.push(ar.mul(at(param, i), at(param, i)));
  const rms = ar.div(ar.sqrt(ar.sum(sq)), ar.input(Math.sqrt(size)));
  // Python's max(a, b): b when b > a, else a (so a NaN b gives a), with the larger of the two budgets.
  const pyMax = (a: Tracked, b: Tracked): Tracked => ({ ...ar.max(a, b), v: b.v > a.v ? b.v : a.v });
  const alpha = ar.mul(pyMax(ar.input(eps2), rms), ar.input(rho));

  const theta: Tracked[] = [];
  for (let i = 0; i < size; i++) theta.push(lambda !== 0 ? ar.mul(at(param, i), ar.input(1 - gamma * lambda)) : at(param, i));

  const g = (i: number): Tracked => (maximize ? ar.neg(at(grad, i)) : at(grad, i));
  const U: Tracked[] = new Array<Tracked>(size);
  const k = shape.length;
  const outSlots: Record<string, TensorBound> = {};
  if (k >= 2) {
    const n = shape[k - 2] as number;
    const m = shape[k - 1] as number;
    const batches = n * m === 0 ? 0 : size / (n * m);
    const R = slots.rowVar!;
    const C = slots.colVar!;
    const rOut = new BoundBuilder(R.v.length);
    const cOut = new BoundBuilder(C.v.length);
    for (let b = 0; b < batches; b++) {
      const idx = (i: number, j: number): number => (b * n + i) * m + j;
      const rows: Tracked[] = [];
      for (let i = 0; i < n; i++) {
        const terms: Tracked[] = [];
        for (let j = 0; j < m; j++) terms.push(ar.mul(g(idx(i, j)), g(idx(i, j))));
        const ri = ar.lerp(at(R, b * n + i), ar.div(ar.sum(terms), ar.exact(m)), w);
        rOut.set(b * n + i, ri);
        rows.push(ri);
      }
      const cols: Tracked[] = [];
      for (let j = 0; j < m; j++) {
        const terms: Tracked[] = [];
        for (let i = 0; i < n; i++) terms.push(ar.mul(g(idx(i, j)), g(idx(i, j))));
        const cj = ar.lerp(at(C, b * m + j), ar.div(ar.sum(terms), ar.exact(n)), w);
        cOut.set(b * m + j, cj);
        cols.push(cj);
      }
      const rowMean = ar.max(ar.div(ar.sum(rows), ar.exact(n)), cEps1);
      for (let i = 0; i < n; i++) {
        const ratio = ar.div(rows[i]!, rowMean);
        if (o.factoredRoot === 'separate') {
          // rsqrt(R_i/mean R)·rsqrt(C_j), capped at 1/ε₁ (a host scalar rounded once; min is 1-Lipschitz).
          const rowFactor = ar.div(ar.exact(1), ar.sqrt(ratio));
          for (let j = 0; j < m; j++) {
            const scale = ar.min(ar.mul(rowFactor, ar.div(ar.exact(1), ar.sqrt(cols[j]!))), ar.input(1 / eps1));
            U[idx(i, j)] = ar.mul(g(idx(i, j)), scale);
          }
          continue;
        }
        for (let j = 0; j < m; j++) {
          const vHat = ar.mul(ratio, cols[j]!);
          U[idx(i, j)] = ar.div(g(idx(i, j)), ar.sqrt(ar.max(vHat, cEps1Sq)));
        }
      }
    }
    outSlots.rowVar = rOut.build();
    outSlots.colVar = cOut.build();
  } else {
    const V = slots.variance!;
    const vOut = new BoundBuilder(size);
    for (let i = 0; i < size; i++) {
      const vi = ar.lerp(at(V, i), ar.mul(g(i), g(i)), w);
      vOut.set(i, vi);
      U[i] = ar.div(g(i), ar.sqrt(ar.max(vi, cEps1Sq)));
    }
    outSlots.variance = vOut.build();
  }

  const uSq: Tracked[] = [];
  for (let i = 0; i < size; i++) uSq.push(ar.mul(U[i]!, U[i]!));
  const denom = pyMax(ar.exact(1), ar.div(ar.sqrt(ar.sum(uSq)), ar.input(Math.sqrt(size) * d)));
  const stepSize = ar.div(alpha, denom);
  const out = new BoundBuilder(size);
  for (let i = 0; i < size; i++) out.set(i, ar.sub(theta[i]!, ar.mul(stepSize, U[i]!)));
  return { param: out.build(), slots: outSlots, scalars: {} };
};
