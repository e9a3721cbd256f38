import type { RadamOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * RAdam (core/src/optimizers/radam.ts). Whether the step is rectified (ρ_t > 5) and the rectification factor are
 * Float64 host scalars, so the branch is the same on every backend; per element the moments are Adam's and
 * the update is θ ← θ − m̂·η·(√(1−β₂ᵗ)/(√v + ε))·r or θ ← θ − m̂·η.
 */
export const radamBound: BoundFunction<RadamOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay: lambda, decoupledWeightDecay, maximize } = o;
  const size = param.v.length;
  const biasCorrection1 = 1 - beta1 ** t;
  const biasCorrection2 = 1 - beta2 ** t;
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * beta2 ** t) / biasCorrection2;
  const rectified = rhoT > 5;
  const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 1;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cBc1 = ar.input(biasCorrection1);
  const cBc2s = ar.input(Math.sqrt(biasCorrection2));
  const cEps = ar.input(eps);
  const cLr = ar.input(lr);
  const cRect = ar.input(rect);
  const cLambda = ar.input(lambda);
  const cDecay = ar.input(1 - lr * lambda);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) {
      if (decoupledWeightDecay) th = ar.mul(th, cDecay);
      else g = ar.add(g, ar.mul(cLambda, th));
    }
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, g));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, g), g));
    const mHat = ar.div(mi, cBc1);
    if (rectified) {
      const adaptiveLr = ar.div(cBc2s, ar.add(ar.sqrt(vi), cEps));
      th = ar.sub(th, ar.mul(ar.mul(ar.mul(mHat, cLr), adaptiveLr), cRect));
    } else {
      th = ar.sub(th, ar.mul(mHat, cLr));
    }
    theta.set(i, th);
    m.set(i, mi);
    v.set(i, vi);
  }
  return { param: theta.build(), slots: { expAvg: m.build(), expAvgSq: v.build() }, scalars: {} };
};
