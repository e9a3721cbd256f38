import type { ScheduleFreeSgdOptions } from '@descent/core';
import { scheduleFreeAverageWeight, scheduleFreeWarmup } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Schedule-Free SGD (core/src/optimizers/schedule-free-sgd.ts). The warmed-up lr, c_{t+1} and the scalars lrMax,
 * weightSum are Float64 host values (exact on every backend; 1 − c and 1 − β are rounded once when handed to the
 * kernels). Per element: g ← g + λy, z ← z − γg, x ← (1 − c)x + cz, y ← βx + (1 − β)z, one rounding per
 * operation; on a parameter's first step z and x are the parameter.
 */
export const scheduleFreeSgdBound: BoundFunction<ScheduleFreeSgdOptions> = ({ ar, options: o, param, grad, slots, scalars, step: t }) => {
  const next = { ...scalars };
  const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps);
  const ckp1 = scheduleFreeAverageWeight(next, lr, t, o.r, o.weightLrPower);
  const size = param.v.length;
  const cLr = ar.input(lr);
  const cC = ar.input(ckp1);
  const c1C = ar.input(1 - ckp1);
  const cMu = ar.input(o.momentum);
  const c1Mu = ar.input(1 - o.momentum);
  const cLambda = ar.input(o.weightDecay);
  const y = new BoundBuilder(size);
  const zb = new BoundBuilder(size);
  const xb = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const yi = at(param, i);
    let g = at(grad, i);
    if (o.weightDecay !== 0) g = ar.add(g, ar.mul(cLambda, yi));
    const z = ar.sub(t === 1 ? yi : at(slots.z!, i), ar.mul(cLr, g));
    const x = ar.add(ar.mul(t === 1 ? yi : at(slots.x!, i), c1C), ar.mul(cC, z));
    y.set(i, ar.add(ar.mul(x, cMu), ar.mul(c1Mu, z)));
    zb.set(i, z);
    xb.set(i, x);
  }
  return { param: y.build(), slots: { z: zb.build(), x: xb.build() }, scalars: next };
};
