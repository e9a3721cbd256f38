import type { NadamOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * NAdam (core/src/optimizers/nadam.ts). The μ-schedule and its product are Float64 host scalars (exact on every
 * backend); per element: the moments as in Adam, denom = √(v/(1−β₂ᵗ)) + ε, and two subtractions
 * θ ← θ − c_g·g/denom − c_m·m/denom, each adding the absolute value of its term to the scale of θ.
 */
export const nadamBound: BoundFunction<NadamOptions> = ({ ar, options: o, param, grad, slots, scalars, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay: lambda, momentumDecay: psi, decoupledWeightDecay, maximize } = o;
  const size = param.v.length;
  const biasCorrection2 = 1 - beta2 ** t;
  const mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi));
  const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
  const muProduct = (scalars.muProduct as number) * mu;
  const muProductNext = muProduct * muNext;
  const cGrad = ar.input((lr * (1 - mu)) / (1 - muProduct));
  const cMom = ar.input((lr * muNext) / (1 - muProductNext));
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cBc2 = ar.input(biasCorrection2);
  const cEps = ar.input(eps);
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
    const denom = ar.add(ar.sqrt(ar.div(vi, cBc2)), cEps);
    th = ar.sub(th, ar.div(ar.mul(cGrad, g), denom));
    th = ar.sub(th, ar.div(ar.mul(cMom, mi), denom));
    theta.set(i, th);
    m.set(i, mi);
    v.set(i, vi);
  }
  return { param: theta.build(), slots: { expAvg: m.build(), expAvgSq: v.build() }, scalars: { muProduct } };
};
