import type { AdadeltaOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Adadelta (core/src/optimizers/adadelta.ts): s ← ρs + (1−ρ)g², δ = √(a + ε)/√(s + ε)·g, a ← ρa + (1−ρ)δ²,
 * θ ← θ − ηδ. Both averages have non-negative terms (small relative budgets); δ carries the relative budgets of
 * both square roots and of g, and a and θ inherit them.
 */
export const adadeltaBound: BoundFunction<AdadeltaOptions> = ({ ar, options: o, param, grad, slots }) => {
  const { lr, rho, eps, weightDecay: lambda, maximize } = o;
  const size = param.v.length;
  const cRho = ar.input(rho);
  const c1Rho = ar.input(1 - rho);
  const cEps = ar.input(eps);
  const cLambda = ar.input(lambda);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const sq = new BoundBuilder(size);
  const acc = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, th));
    const si = ar.add(ar.mul(cRho, at(slots.squareAvg!, i)), ar.mul(ar.mul(c1Rho, g), g));
    const std = ar.sqrt(ar.add(si, cEps));
    const a0 = at(slots.accDelta!, i);
    const delta = ar.mul(ar.div(ar.sqrt(ar.add(a0, cEps)), std), g);
    const ai = ar.add(ar.mul(cRho, a0), ar.mul(ar.mul(c1Rho, delta), delta));
    sq.set(i, si);
    acc.set(i, ai);
    theta.set(i, ar.sub(th, ar.mul(cLr, delta)));
  }
  return { param: theta.build(), slots: { squareAvg: sq.build(), accDelta: acc.build() }, scalars: {} };
};
