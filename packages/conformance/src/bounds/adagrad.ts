import type { AdagradOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Adagrad (core/src/optimizers/adagrad.ts): s ← s + g², θ ← θ − η_t·g/(√s + ε) with η_t = η/(1 + (t−1)δ) a host
 * scalar. S(s) = |s| + |g²| + |s′| (all non-negative, so s keeps a small relative budget); the quotient adds the
 * relative budgets of its numerator and denominator.
 */
export const adagradBound: BoundFunction<AdagradOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const { lr, lrDecay, weightDecay: lambda, eps, maximize } = o;
  const size = param.v.length;
  const cLambda = ar.input(lambda);
  const cClr = ar.input(lr / (1 + (t - 1) * lrDecay));
  const cEps = ar.input(eps);
  const theta = new BoundBuilder(size);
  const sum = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, th));
    const si = ar.add(at(slots.sum!, i), ar.mul(g, g));
    sum.set(i, si);
    const std = ar.add(ar.sqrt(si), cEps);
    theta.set(i, ar.sub(th, ar.div(ar.mul(cClr, g), std)));
  }
  return { param: theta.build(), slots: { sum: sum.build() }, scalars: {} };
};
