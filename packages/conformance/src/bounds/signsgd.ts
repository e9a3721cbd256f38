import type { SignsgdOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * signSGD / Signum (core/src/optimizers/signsgd.ts): θ ← θ(1 − ηλ) − η·sign(d), d = g or m ← βm + (1−β)g.
 * sign(g) of a float32 gradient is exact; sign(m) is exact outside the band k·u·S(m) and otherwise allows ±2η.
 */
export const signsgdBound: BoundFunction<SignsgdOptions> = ({ ar, options: o, param, grad, slots }) => {
  const { lr, momentum: beta, weightDecay: lambda, maximize } = o;
  const size = param.v.length;
  const mSlot = slots.momentumBuffer;
  const cDecay = ar.input(1 - lr * lambda);
  const cB = ar.input(beta);
  const c1B = ar.input(1 - beta);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    let th = ar.mul(at(param, i), cDecay);
    let d = g;
    if (mSlot) {
      d = ar.add(ar.mul(cB, at(mSlot, i)), ar.mul(c1B, g));
      m.set(i, d);
    }
    th = ar.sub(th, ar.mul(cLr, ar.sign(d)));
    theta.set(i, th);
  }
  return { param: theta.build(), slots: mSlot ? { momentumBuffer: m.build() } : {}, scalars: {} };
};
