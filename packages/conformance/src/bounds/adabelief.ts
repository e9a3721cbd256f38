import type { AdabeliefOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * AdaBelief (core/src/optimizers/adabelief.ts): m ← β₁m + (1−β₁)g, s ← β₂s + (1−β₂)(g − m)² + ε, then the
 * AMSGrad / plain / rectified / SGD update chosen by Float64 host scalars (the same on every backend).
 * The residual g − m cancels: its budget is that of m plus |g| + |g − m|, not relative to the residual, and s
 * inherits it through the square (first order: 2|g − m|·budget).
 */
export const adabeliefBound: BoundFunction<AdabeliefOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay: lambda, decoupledWeightDecay, rectify, degeneratedToSgd, maximize } = o;
  const size = param.v.length;
  const sMax = slots.maxExpAvgVar;
  const biasCorrection1 = 1 - beta1 ** t;
  const biasCorrection2 = 1 - beta2 ** t;
  const beta2t = beta2 ** t;
  const rhoInf = 2 / (1 - beta2) - 1;
  const rho = rhoInf - (2 * t * beta2t) / (1 - beta2t);
  let rectifiedStep = 0;
  if (rectify && rho >= 5) {
    const ratio = ((((1 - beta2t) * (rho - 4)) / (rhoInf - 4)) * (rho - 2)) / rho;
    rectifiedStep = Math.sqrt((ratio * rhoInf) / (rhoInf - 2)) / biasCorrection1;
  }
  const sgdStep = rectify && rho < 5 && degeneratedToSgd ? 1 / biasCorrection1 : 0;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cEps = ar.input(eps);
  const cLambda = ar.input(lambda);
  const cDecay = ar.input(1 - lr * lambda);
  const cBc2s = ar.input(Math.sqrt(biasCorrection2));
  const cPlain = ar.input(lr / biasCorrection1);
  const cRect = ar.input(rectifiedStep);
  const cSgd = ar.input(sgdStep);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const s = new BoundBuilder(size);
  const sm = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) {
      if (decoupledWeightDecay) th = ar.mul(th, cDecay);
      else g = ar.add(g, ar.mul(cLambda, th));
    }
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, g));
    const residual = ar.sub(g, mi);
    let si = ar.add(ar.mul(cB2, at(slots.expAvgVar!, i)), ar.mul(ar.mul(c1B2, residual), residual));
    si = ar.add(si, cEps);
    if (!rectify) {
      let sHat = si;
      if (sMax) {
        sHat = ar.max(at(sMax, i), si);
        sm.set(i, sHat);
      }
      const denom = ar.add(ar.div(ar.sqrt(sHat), cBc2s), cEps);
      th = ar.sub(th, ar.mul(cPlain, ar.div(mi, denom)));
    } else if (rho >= 5) {
      const denom = ar.add(ar.sqrt(si), cEps);
      th = ar.sub(th, ar.mul(ar.mul(cRect, cLr), ar.div(mi, denom)));
    } else if (sgdStep > 0) {
      th = ar.sub(th, ar.mul(ar.mul(cSgd, cLr), mi));
    }
    theta.set(i, th);
    m.set(i, mi);
    s.set(i, si);
  }
  const out: Record<string, ReturnType<BoundBuilder['build']>> = { expAvg: m.build(), expAvgVar: s.build() };
  if (sMax) out.maxExpAvgVar = sm.build();
  return { param: theta.build(), slots: out, scalars: {} };
};
