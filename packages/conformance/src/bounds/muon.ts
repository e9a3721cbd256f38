import { muonMatrixShape, muonUpdate, type MuonOptions, type NewtonSchulzNormalization } from '@descent/core';
import type { Arith, Tracked } from './arith.js';
import { newtonSchulzTolerance } from './newton-schulz.js';
import { BoundBuilder, at, frobenius, type BoundContext, type BoundResult } from './tensor.js';

/**
 * The Muon part shared by muon and muonWithAuxAdam (core/src/optimizers/muon.ts): the momentum buffer
 * B ← lerp(B, g, 1 − β) is element-wise (torch's lerp, one product and two sums); the orthogonalized update O
 * (Newton–Schulz on U = lerp(g, B, β) or B, times the shape scale) is a matrix function, compared normwise:
 * ‖O_backend − O‖_F ≤ τ·‖O‖_F with τ from {@link newtonSchulzTolerance} (including the relative error of U).
 * θ ← θ(1 − ηλ) − η·O then has an element-wise part (the two products and the subtraction, O taken as exact) and
 * the normwise allowance η·τ·‖O‖_F, added to whatever normwise allowance θ already carried (times 1 − ηλ).
 */
export function muonBoundPart(ctx: BoundContext<MuonOptions>, ar: Arith, normalize: NewtonSchulzNormalization = 'add'): BoundResult {
  const { options: o, shape, param, grad, slots, matrixFactor } = ctx;
  const size = param.v.length;
  const beta = o.momentum;
  const bIn = slots.momentumBuffer!;
  const buf = new BoundBuilder(size);
  const uTracked: Tracked[] = [];
  for (let i = 0; i < size; i++) {
    const g = at(grad, i);
    const bi = ar.lerp(at(bIn, i), g, 1 - beta);
    buf.set(i, bi);
    uTracked.push(o.nesterov ? ar.lerp(g, bi, beta) : bi);
  }
  const bufBound = buf.build(bIn.extra, bIn.note);
  // O from core's own function, on copies (it updates the buffer it is given).
  const update = muonUpdate(o, shape, Float64Array.from(grad.v), Float64Array.from(bIn.v), normalize);
  const [rows, cols] = size === 0 ? [0, 0] : muonMatrixShape(shape, o.matrixView);
  const uValues = Float64Array.from(uTracked, (x) => x.v);
  const uNorm = frobenius(uValues);
  const uErr = Math.sqrt(uTracked.reduce((s, x) => s + (ar.radius(x) + (x.n ? Infinity : 0)) ** 2, 0)) + (o.nesterov ? beta : 1) * bIn.extra;
  const inputRelative = uNorm > 0 ? uErr / uNorm : 0;
  const tau = matrixFactor * newtonSchulzTolerance(rows, cols, [o.nsA, o.nsB, o.nsC], o.nsSteps, inputRelative);
  const oNorm = frobenius(update);
  const cDecay = ar.input(1 - o.lr * o.weightDecay);
  const cLr = ar.input(o.lr);
  const theta = new BoundBuilder(size);
  for (let i = 0; i < size; i++) theta.set(i, ar.sub(ar.mul(at(param, i), cDecay), ar.mul(cLr, ar.exact(update[i] as number))));
  const extra = Math.abs(1 - o.lr * o.weightDecay) * param.extra + o.lr * tau * oNorm;
  const note = `Newton–Schulz: η·τ·‖O‖_F with τ = ${tau.toExponential(2)} (${rows}×${cols}, ${o.nsSteps} steps)`;
  return { param: theta.build(extra, note), slots: { momentumBuffer: bufBound }, scalars: {} };
}

export const muonBound = (ctx: BoundContext<MuonOptions>): BoundResult => muonBoundPart(ctx, ctx.ar);
