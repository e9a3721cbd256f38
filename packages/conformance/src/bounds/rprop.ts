import type { RpropOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Rprop (core/src/optimizers/rprop.ts). The decision s = sign(g·prev) is a sign: exact outside its ambiguity
 * band, and since g and prev are float32 values their product only rounds (its sign cannot change unless it
 * underflows), so the band is empty in practice. The step size Δ ← clamp(Δ·η±, Δmin, Δmax) carries one
 * rounding per step (the clamp is 1-Lipschitz), and θ ← θ − sign(g)·Δ adds |Δ| to the scale of θ.
 */
export const rpropBound: BoundFunction<RpropOptions> = ({ ar, options: o, param, grad, slots }) => {
  const [etaMinus, etaPlus] = o.etas;
  const [stepSizeMin, stepSizeMax] = o.stepSizes;
  const size = param.v.length;
  const cMin = ar.input(stepSizeMin);
  const cMax = ar.input(stepSizeMax);
  const theta = new BoundBuilder(size);
  const prevOut = new BoundBuilder(size);
  const deltaOut = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let g = at(grad, i);
    if (o.maximize) g = ar.neg(g);
    const s = ar.sign(ar.mul(g, at(slots.prev!, i)));
    const factor = s.v > 0 ? etaPlus : s.v < 0 ? etaMinus : s.v === 0 ? 1 : s.v;
    let delta = ar.min(ar.max(ar.mul(at(slots.stepSize!, i), ar.input(factor)), cMin), cMax);
    if (s.v < 0) g = ar.exact(0);
    let th = ar.sub(at(param, i), ar.mul(ar.sign(g), delta));
    if (s.a > 0) {
      // An ambiguous s (only possible if g·prev underflows) could have picked any branch: allow all of them.
      const widest = Math.abs(delta.v) * Math.max(etaPlus, 1) + Math.abs(stepSizeMax);
      delta = { ...delta, a: delta.a + widest };
      th = { ...th, a: th.a + 2 * widest };
      g = { ...g, a: g.a + Math.abs(grad.v[i] as number) };
    }
    theta.set(i, th);
    prevOut.set(i, g);
    deltaOut.set(i, delta);
  }
  return { param: theta.build(), slots: { prev: prevOut.build(), stepSize: deltaOut.build() }, scalars: {} };
};
