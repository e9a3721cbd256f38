import type { LionOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Lion (core/src/optimizers/lion.ts): θ ← θ(1 − ηλ) − η·sign(β₁m + (1−β₁)g), m ← β₂m + (1−β₂)g.
 * The update is a sign: exact when the interpolation c is outside its rounding bound k·u·(|β₁m| + |(1−β₁)g| +
 * |c|); inside that band the sign may come out as −1, 0 or 1 and θ gets an allowance of 2η.
 */
export const lionBound: BoundFunction<LionOptions> = ({ ar, options: o, param, grad, slots }) => {
  const [beta1, beta2] = o.betas;
  const { lr, weightDecay: lambda, maximize } = o;
  const size = param.v.length;
  const cDecay = ar.input(1 - lr * lambda);
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    const m0 = at(slots.expAvg!, i);
    let th = ar.mul(at(param, i), cDecay);
    const c = ar.add(ar.mul(cB1, m0), ar.mul(c1B1, g));
    th = ar.sub(th, ar.mul(cLr, ar.sign(c)));
    theta.set(i, th);
    m.set(i, ar.add(ar.mul(cB2, m0), ar.mul(c1B2, g)));
  }
  return { param: theta.build(), slots: { expAvg: m.build() }, scalars: {} };
};
