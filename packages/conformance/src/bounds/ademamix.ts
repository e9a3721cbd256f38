import { ademamixSchedule, type AdemamixOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * AdEMAMix (core/src/optimizers/ademamix.ts): three EMAs as in Adam, the mix (m₁/c₁ + α m₂)/(√v/√c₂ + ε), which
 * may cancel (its budget is that of both terms), the decay term and the step. α and β₃ are host scalars, each
 * rounded once.
 */
export const ademamixBound: BoundFunction<AdemamixOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { alpha, beta3 } = ademamixSchedule(o, t);
  const size = param.v.length;
  const fastSlot = slots.expAvgFast;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cB3 = ar.input(beta3);
  const c1B3 = ar.input(1 - beta3);
  const cAlpha = ar.input(alpha);
  const cEps = ar.input(o.eps);
  const cBc1 = ar.input(1 - beta1 ** t);
  const cBc2s = ar.input(Math.sqrt(1 - beta2 ** t));
  const cLambda = ar.input(o.weightDecay);
  const cLr = ar.input(-o.lr);
  const theta = new BoundBuilder(size);
  const fast = new BoundBuilder(size);
  const slow = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (o.maximize) g = ar.neg(g);
    let m1 = g;
    if (fastSlot) {
      m1 = ar.add(ar.mul(cB1, at(fastSlot, i)), ar.mul(c1B1, g));
      fast.set(i, m1);
    }
    const m2 = ar.add(ar.mul(cB3, at(slots.expAvgSlow!, i)), ar.mul(c1B3, g));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, g), g));
    const denom = ar.add(ar.div(ar.sqrt(vi), cBc2s), cEps);
    let u = ar.div(ar.add(ar.div(m1, cBc1), ar.mul(cAlpha, m2)), denom);
    if (o.weightDecay !== 0) u = ar.add(u, ar.mul(cLambda, th));
    theta.set(i, ar.add(th, ar.mul(cLr, u)));
    slow.set(i, m2);
    v.set(i, vi);
  }
  const out: Record<string, ReturnType<BoundBuilder['build']>> = { expAvgSlow: slow.build(), expAvgSq: v.build() };
  if (fastSlot) out.expAvgFast = fast.build();
  return { param: theta.build(), slots: out, scalars: {} };
};
