import type { MarsOptions } from '@descent/core';
import { marsBranch, marsLr1d, powInt } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction, type TensorBound } from './tensor.js';

/**
 * MARS (core/src/optimizers/mars.ts). On the MARS branch c_t = (g − g_{t−1})·coef + g per element, the norm
 * √Σc² (backends sum in float32 blocks or on the device; the sum's bound covers any order), and the clipping
 * divisor max(‖c‖, 1): max is 1-Lipschitz, so where ‖c‖ is within its bound of 1 — float32 may take either branch —
 * the divisor's bound covers both. Then one rounding per operation of the AdamW step, as in the reference: m, v,
 * (√v̂·(1/√c₂) + ε)·c₁, θ + (θλ + m/denom)·(−η); host scalars rounded once.
 */
export const marsBound: BoundFunction<MarsOptions> = ({ ar, options: o, shape, param, grad, slots, step: t }) => {
  const isMars = marsBranch(o, shape);
  const [beta1, beta2] = isMars ? o.betas : o.betas1d;
  const size = param.v.length;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cEps = ar.input(o.eps);
  const cBc1 = ar.input(1 - powInt(beta1, t));
  const cInv = ar.input(1 / Math.sqrt(1 - powInt(beta2, t)));
  const cWd = ar.input(isMars ? o.weightDecay : o.weightDecay1d);
  const cNegLr = ar.input(-(isMars ? o.lr : marsLr1d(o)));
  const c: Tracked[] = [];
  for (let i = 0; i < size; i++) c.push(at(grad, i));
  if (isMars) {
    const cCoef = ar.input(o.gamma * (beta1 / (1 - beta1)));
    const squares: Tracked[] = [];
    for (let i = 0; i < size; i++) {
      const g = at(grad, i);
      c[i] = ar.add(ar.mul(ar.sub(g, at(slots.lastGrad!, i)), cCoef), g);
      squares.push(ar.mul(c[i]!, c[i]!));
    }
    const divisor = ar.max(ar.sqrt(ar.sum(squares)), ar.exact(1));
    for (let i = 0; i < size; i++) c[i] = ar.div(c[i]!, divisor);
  }
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  const vMax = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const ci = c[i]!;
    const mi = ar.add(ar.mul(at(slots.expAvg!, i), cB1), ar.mul(c1B1, ci));
    const vi = ar.add(ar.mul(at(slots.expAvgSq!, i), cB2), ar.mul(ar.mul(c1B2, ci), ci));
    let vHat = vi;
    if (o.amsgrad) {
      vHat = ar.max(at(slots.maxExpAvgSq!, i), vi);
      vMax.set(i, vHat);
    }
    const denom = ar.mul(ar.add(ar.mul(ar.sqrt(vHat), cInv), cEps), cBc1);
    const th = at(param, i);
    theta.set(i, ar.add(th, ar.mul(ar.add(ar.mul(th, cWd), ar.div(mi, denom)), cNegLr)));
    m.set(i, mi);
    v.set(i, vi);
  }
  // lastGrad is g_t as the update saw it (exact, or with a transform's budget).
  const out: Record<string, TensorBound> = { expAvg: m.build(), lastGrad: grad, expAvgSq: v.build() };
  if (o.amsgrad) out.maxExpAvgSq = vMax.build();
  return { param: theta.build(), slots: out, scalars: {} };
};
