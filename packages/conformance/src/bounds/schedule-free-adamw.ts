import type { ScheduleFreeAdamwOptions } from '@descent/core';
import { powInt, scheduleFreeAverageWeight, scheduleFreeWarmup } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Schedule-Free AdamW (core/src/optimizers/schedule-free-adamw.ts). The lr γ·s_t·√(1 − β₂ᵗ), γλ, c_{t+1} and the
 * scalars lrMax, weightSum are Float64 host values, rounded once when handed to the kernels. Per element, one
 * rounding per operation: z ← z − γλ·(y or z), v ← β₂v + (1 − β₂)g², z ← z − γg/(√v + ε),
 * x ← (1 − c)x + cz, y ← β₁x + (1 − β₁)z; on a parameter's first step z and x are the parameter.
 */
export const scheduleFreeAdamwBound: BoundFunction<ScheduleFreeAdamwOptions> = ({ ar, options: o, param, grad, slots, scalars, step: t }) => {
  const [beta1, beta2] = o.betas;
  const next = { ...scalars };
  const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps) * Math.sqrt(1 - powInt(beta2, t));
  const ckp1 = scheduleFreeAverageWeight(next, lr, t, o.r, o.weightLrPower);
  const size = param.v.length;
  const cLr = ar.input(lr);
  const cDecay = ar.input(lr * o.weightDecay);
  const cC = ar.input(ckp1);
  const c1C = ar.input(1 - ckp1);
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cEps = ar.input(o.eps);
  const y = new BoundBuilder(size);
  const zb = new BoundBuilder(size);
  const xb = new BoundBuilder(size);
  const vb = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const yi = at(param, i);
    const g = at(grad, i);
    let z = t === 1 ? yi : at(slots.z!, i);
    if (o.weightDecay !== 0) z = ar.sub(z, ar.mul(cDecay, o.decayAtZ ? z : yi));
    const v = ar.add(ar.mul(at(slots.expAvgSq!, i), cB2), ar.mul(ar.mul(c1B2, g), g));
    const denom = ar.add(ar.sqrt(v), cEps);
    z = ar.sub(z, ar.div(ar.mul(cLr, g), denom));
    const x = ar.add(ar.mul(t === 1 ? yi : at(slots.x!, i), c1C), ar.mul(cC, z));
    y.set(i, ar.add(ar.mul(x, cB1), ar.mul(c1B1, z)));
    zb.set(i, z);
    xb.set(i, x);
    vb.set(i, v);
  }
  return { param: y.build(), slots: { z: zb.build(), x: xb.build(), expAvgSq: vb.build() }, scalars: next };
};
