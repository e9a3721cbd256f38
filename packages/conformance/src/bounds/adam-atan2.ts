import type { AdamAtan2Options } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Adam-atan2 (core/src/optimizers/adam-atan2.ts): moments as Adam, θ ← θ − η·a·atan2(m̂, b·√v̂). atan2 is
 * smooth away from the origin, with |Δatan2| ≤ (|x|·|Δy| + |y|·|Δx|)/(x² + y²); when both arguments are within
 * their budgets of 0 anything in (−π, π] is allowed (times η·a).
 */
export const adamAtan2Bound: BoundFunction<AdamAtan2Options> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { lr, weightDecay: lambda, a, b, maximize } = o;
  const size = param.v.length;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cBc1 = ar.input(1 - beta1 ** t);
  const cBc2 = ar.input(1 - beta2 ** t);
  const cDecay = ar.input(1 - lr * lambda);
  const cLr = ar.input(lr);
  const cA = ar.input(a);
  const cB = ar.input(b);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    let th = at(param, i);
    if (lambda > 0) th = ar.mul(th, cDecay);
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, g));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, g), g));
    const mHat = ar.div(mi, cBc1);
    const vHat = ar.div(vi, cBc2);
    th = ar.sub(th, ar.mul(ar.mul(cLr, cA), ar.atan2(mHat, ar.mul(cB, ar.sqrt(vHat)))));
    theta.set(i, th);
    m.set(i, mi);
    v.set(i, vi);
  }
  return { param: theta.build(), slots: { expAvg: m.build(), expAvgSq: v.build() }, scalars: {} };
};
