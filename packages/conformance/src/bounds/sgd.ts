import type { SgdOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * SGD (core/src/optimizers/sgd.ts). With g ← g + λθ, b ← μb + (1−τ)g, d = g + μb or b, θ ← θ − ηd, the scale
 * of each result is the sum of the absolute values of its terms: S(b) = |μb| + |(1−τ)g| + |b′| (+ the budgets
 * the terms carry), S(θ) = |θ| + |ηd| + |θ′|.
 */
export const sgdBound: BoundFunction<SgdOptions> = ({ ar, options: o, param, grad, slots, step }) => {
  const { lr, momentum: mu, dampening: tau, weightDecay: lambda, nesterov, maximize } = o;
  const size = param.v.length;
  const b = slots.momentumBuffer;
  const theta = new BoundBuilder(size);
  const buf = new BoundBuilder(size);
  const cLambda = ar.input(lambda);
  const cMu = ar.input(mu);
  const cDamp = ar.input(1 - tau);
  const cLr = ar.input(lr);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, th));
    let d = g;
    if (b) {
      const bi = step === 1 ? g : ar.add(ar.mul(cMu, at(b, i)), ar.mul(cDamp, g));
      buf.set(i, bi);
      d = nesterov ? ar.add(g, ar.mul(cMu, bi)) : bi;
    }
    theta.set(i, ar.sub(th, ar.mul(cLr, d)));
  }
  return { param: theta.build(), slots: b ? { momentumBuffer: buf.build() } : {}, scalars: {} };
};
