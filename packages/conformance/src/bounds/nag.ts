import type { NagOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction, type PointBoundFunction } from './tensor.js';

/**
 * NAG (core/src/optimizers/nag.ts): g ← g + λ(θ − γv), v ← γv + ηg, θ ← θ − v.
 * S(v) = |γv| + |ηg| + |v′|, S(θ) = |θ| + |v′| + |θ′| (plus what g carries from the decay term).
 */
export const nagBound: BoundFunction<NagOptions> = ({ ar, options: o, param, grad, slots }) => {
  const { lr, momentum: gamma, weightDecay: lambda, maximize } = o;
  const size = param.v.length;
  const cGamma = ar.input(gamma);
  const cLambda = ar.input(lambda);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const vel = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    const vi0 = at(slots.velocity!, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, ar.sub(th, ar.mul(cGamma, vi0))));
    const vi = ar.add(ar.mul(cGamma, vi0), ar.mul(cLr, g));
    vel.set(i, vi);
    theta.set(i, ar.sub(th, vi));
  }
  return { param: theta.build(), slots: { velocity: vel.build() }, scalars: {} };
};

/** NAG's evaluation point (core's `evaluationPoint`): φ = θ − γv. S = |θ| + |γv| + |φ|. */
export const nagPointBound: PointBoundFunction<NagOptions> = ({ ar, options: o, param, slots }) => {
  const cGamma = ar.input(o.momentum);
  const point = new BoundBuilder(param.v.length);
  for (let i = 0; i < param.v.length; i++) point.set(i, ar.sub(at(param, i), ar.mul(cGamma, at(slots.velocity!, i))));
  return point.build();
};
