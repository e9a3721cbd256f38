import { adoptClip, type AdoptOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * ADOPT (core/src/optimizers/adopt.ts): on the first step v ← v + g² only; then the normalisation
 * g / max(√v, ε), the clamp to ±s^{1/4} (1-Lipschitz: min and max carry the larger budget, no band), torch.lerp
 * into m, the step and the second moment. The clip bound is a host scalar, rounded once.
 */
export const adoptBound: BoundFunction<AdoptOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const size = param.v.length;
  const lambda = o.weightDecay;
  const cLambda = ar.input(lambda);
  const cDecay = ar.input(-o.lr * lambda);
  const cEps = ar.input(o.eps);
  const clip = adoptClip(o.clipLambda, t - 1);
  const cClip = ar.input(clip);
  const cMinusClip = ar.input(-clip);
  const cLr = ar.input(-o.lr);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let th = at(param, i);
    let g = at(grad, i);
    const mi = at(slots.expAvg!, i);
    const vi = at(slots.expAvgSq!, i);
    if (o.maximize) g = ar.neg(g);
    if (lambda !== 0 && !o.decoupledWeightDecay) g = ar.add(g, ar.mul(cLambda, th));
    if (t === 1) {
      theta.set(i, th);
      m.set(i, mi);
      v.set(i, ar.add(vi, ar.mul(g, g)));
      continue;
    }
    if (lambda !== 0 && o.decoupledWeightDecay) th = ar.add(th, ar.mul(cDecay, th));
    let normed = ar.div(g, ar.max(ar.sqrt(vi), cEps));
    if (Number.isFinite(clip)) normed = ar.min(ar.max(normed, cMinusClip), cClip);
    const mNew = ar.lerp(mi, normed, 1 - beta1);
    theta.set(i, ar.add(th, ar.mul(cLr, mNew)));
    m.set(i, mNew);
    v.set(i, ar.add(ar.mul(cB2, vi), ar.mul(ar.mul(c1B2, g), g)));
  }
  return { param: theta.build(), slots: { expAvg: m.build(), expAvgSq: v.build() }, scalars: {} };
};
