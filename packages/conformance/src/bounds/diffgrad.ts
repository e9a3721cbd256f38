import type { DiffgradOptions } from '@descent/core';
import { U32, type Arith, type Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * exp(x) for x ≤ 0 (the friction's argument): the operand's error propagates with the derivative exp(x), taken at
 * the largest x the operand's bound allows (exp(k·u·e) ≥ 1 covers the convexity), plus two roundings for a library
 * exp a couple of ulp off. The result lies in (0, 1].
 */
function expNonPositive(ar: Arith, x: Tracked): Tracked {
  const v = Math.exp(x.v);
  const grow = Math.exp(Math.min(ar.k * U32 * x.e + x.a, 1));
  return { v, e: v * grow * x.e + 2 * v, a: v * grow * x.a, n: x.n };
}

/**
 * diffGrad (core/src/optimizers/diffgrad.ts): Adam's moments, denominator √v + ε, the friction
 * ξ = 1/(1 + exp(−|g_{t−1} − g_t|)) and the step η√c₂/c₁ (a host scalar). ξ is 1/4-Lipschitz in the difference,
 * which the first-order propagation through exp, + and ÷ reproduces.
 */
export const diffgradBound: BoundFunction<DiffgradOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const size = param.v.length;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cEps = ar.input(o.eps);
  const cLambda = ar.input(o.weightDecay);
  const cStep = ar.input(-(o.lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t));
  const one = ar.exact(1);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  const prev = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (o.maximize) g = ar.neg(g);
    if (o.weightDecay !== 0) g = ar.add(g, ar.mul(cLambda, th));
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, g));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, g), g));
    const denom = ar.add(ar.sqrt(vi), cEps);
    const diff = ar.abs(ar.sub(at(slots.previousGrad!, i), g));
    const friction = ar.div(one, ar.add(one, expNonPositive(ar, ar.neg(diff))));
    theta.set(i, ar.add(th, ar.div(ar.mul(cStep, ar.mul(mi, friction)), denom)));
    m.set(i, mi);
    v.set(i, vi);
    prev.set(i, g);
  }
  return { param: theta.build(), slots: { expAvg: m.build(), expAvgSq: v.build(), previousGrad: prev.build() }, scalars: {} };
};
