import type { AdamaxOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Adamax (core/src/optimizers/adamax.ts): m ← β₁m + (1−β₁)g, u ← max(β₂u, |g| + ε), θ ← θ − (η/(1−β₁ᵗ))·m/u.
 * The maximum is 1-Lipschitz (no band needed: either branch is within the budget of both); the quotient adds
 * the relative budgets of m and u.
 */
export const adamaxBound: BoundFunction<AdamaxOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay: lambda, maximize } = o;
  const size = param.v.length;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const cEps = ar.input(eps);
  const cLambda = ar.input(lambda);
  const cClr = ar.input(lr / (1 - beta1 ** t));
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const u = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, th));
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, g));
    const ui = ar.max(ar.mul(cB2, at(slots.expInf!, i)), ar.add(ar.abs(g), cEps));
    m.set(i, mi);
    u.set(i, ui);
    theta.set(i, ar.sub(th, ar.div(ar.mul(cClr, mi), ui)));
  }
  return { param: theta.build(), slots: { expAvg: m.build(), expInf: u.build() }, scalars: {} };
};
