import { amosScale, powInt, type AmosOptions } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction, type TensorBound } from './tensor.js';

/**
 * Amos (core/src/optimizers/amos.ts, pytorch_optimizer's): mean(g²) as a sum of n squares (charged as any
 * summation order) divided by n; the per-tensor chain v, r̂ = (1 − βᵗ)/(v + ε), c_t = 1/√(1 + c√η·b),
 * d_t = 1/(1 + d√η̃·b), γ = ((c_t·η²)·r̂)·mean(g²), b ← b(1 + γ) + γ with one float32 rounding per operation (the
 * tfjs path; gpu.js computes the same chain in Float64 on the host, which is within it); then per element
 * u = ((θ·(γ − λ)/2) + η̃·(√r̂·g))·d_t, the optional lerp momentum and θ − u. Host scalars (1 − βᵗ, c√η, d√η̃, η²,
 * η̃) are rounded to float32 once.
 */
export const amosBound: BoundFunction<AmosOptions> = ({ ar, options: o, shape, param, grad, slots, step: t }) => {
  const { lr, beta, momentum, extraL2, cCoef, dCoef, eps, maximize } = o;
  const size = param.v.length;
  if (size === 0) return { param, slots: { ...slots }, scalars: {} };
  const initLr = lr * amosScale(shape);
  const one = ar.exact(1);
  const g = (i: number): Tracked => (maximize ? ar.neg(at(grad, i)) : at(grad, i));
  const squares: Tracked[] = [];
  for (let i = 0; i < size; i++) squares.push(ar.mul(g(i), g(i)));
  const g2 = ar.div(ar.sum(squares), ar.exact(size));
  const v = ar.lerp(at(slots.expAvgSq!, 0), g2, 1 - beta);
  const rVHat = ar.div(ar.input(1 - powInt(beta, t)), ar.add(v, ar.input(eps)));
  const b = at(slots.decay!, 0);
  const decayFactorC = ar.div(one, ar.sqrt(ar.add(one, ar.mul(ar.input(cCoef * Math.sqrt(lr)), b))));
  const decayFactorD = ar.div(one, ar.add(one, ar.mul(ar.input(dCoef * Math.sqrt(initLr)), b)));
  const gamma = ar.mul(ar.mul(ar.mul(decayFactorC, ar.input(lr * lr)), rVHat), g2);
  const shrink = ar.div(ar.sub(gamma, ar.input(extraL2)), ar.exact(2));
  const rootR = ar.sqrt(rVHat);
  const cInitLr = ar.input(initLr);
  const vOut = new BoundBuilder(1);
  vOut.set(0, v);
  const bOut = new BoundBuilder(1);
  bOut.set(0, ar.add(ar.mul(b, ar.add(one, gamma)), gamma));
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let u = ar.mul(ar.add(ar.mul(th, shrink), ar.mul(cInitLr, ar.mul(rootR, g(i)))), decayFactorD);
    if (momentum > 0) {
      u = ar.lerp(at(slots.expAvg!, i), u, 1 - momentum);
      m.set(i, u);
    }
    theta.set(i, ar.sub(th, u));
  }
  const outSlots: Record<string, TensorBound> = { expAvgSq: vOut.build(), decay: bOut.build() };
  if (momentum > 0) outSlots.expAvg = m.build();
  return { param: theta.build(), slots: outSlots, scalars: {} };
};
