import { ADANORM_V_EPS, type AdanormOptions } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * AdaNorm, AdamNorm form (core/src/optimizers/adanorm.ts). The gradient norm is a reduction (charged as in LAMB:
 * γ_{n−1}·Σ|gᵢ²|), the history e = γe + (1−γ)‖g‖ two roundings more, and the rescaled gradient s = (g·e)/‖g‖
 * inherits both relative budgets. The decision e > ‖g‖ is a threshold: where e and ‖g‖ lie within their rounding
 * bounds of each other, float32 may take the other branch, which changes s by at most
 * |g|·(|e − ‖g‖| + radius(e) + radius(‖g‖))/‖g‖; that goes into the absolute allowance (the ambiguity band).
 */
export const adanormBound: BoundFunction<AdanormOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const size = param.v.length;
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cR = ar.input(o.r);
  const c1R = ar.input(1 - o.r);
  const cEps = ar.input(o.eps);
  const cVEps = ar.input(ADANORM_V_EPS);
  const cLambda = ar.input(o.weightDecay);
  const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
  const cDecay = ar.input(decay);
  const cBc2s = ar.input(Math.sqrt(1 - beta2 ** t));
  const cStep = ar.input(-o.lr / (1 - beta1 ** t));

  const th: Tracked[] = [];
  const g: Tracked[] = [];
  const gSq: Tracked[] = [];
  for (let i = 0; i < size; i++) {
    let thi = at(param, i);
    let gi = at(grad, i);
    if (o.maximize) gi = ar.neg(gi);
    if (o.decoupledWeightDecay) {
      if (decay !== 1) thi = ar.mul(thi, cDecay);
    } else if (o.weightDecay > 0) gi = ar.add(gi, ar.mul(cLambda, thi));
    th.push(thi);
    g.push(gi);
    gSq.push(ar.mul(gi, gi));
  }
  const gradNorm = ar.sqrt(ar.sum(gSq));
  const eNew = ar.add(ar.mul(cR, at(slots.expGradNorm!, 0)), ar.mul(c1R, gradNorm));
  const rescale = eNew.v > gradNorm.v && gradNorm.v !== 0;
  const ambiguous = gradNorm.v !== 0 && Math.abs(eNew.v - gradNorm.v) <= ar.radius(eNew) + ar.radius(gradNorm);
  const band = ambiguous ? (Math.abs(eNew.v - gradNorm.v) + ar.radius(eNew) + ar.radius(gradNorm)) / gradNorm.v : 0;

  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  const vm = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const gi = g[i]!;
    let s = rescale ? ar.div(ar.mul(gi, eNew), gradNorm) : gi;
    if (band > 0) s = { ...s, a: s.a + Math.abs(gi.v) * band * 2 };
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, s));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgVar!, i)), ar.mul(ar.mul(c1B2, gi), gi));
    let vHat = vi;
    if (slots.maxExpAvgVar) {
      vHat = ar.max(at(slots.maxExpAvgVar, i), vi);
      vm.set(i, vHat);
    }
    const denom = ar.div(ar.add(ar.sqrt(ar.add(vHat, cVEps)), cEps), cBc2s);
    theta.set(i, ar.add(th[i]!, ar.div(ar.mul(cStep, mi), denom)));
    m.set(i, mi);
    v.set(i, vi);
  }
  const e = new BoundBuilder(1);
  e.set(0, eNew);
  const out: Record<string, ReturnType<BoundBuilder['build']>> = { expAvg: m.build(), expAvgVar: v.build(), expGradNorm: e.build() };
  if (slots.maxExpAvgVar) out.maxExpAvgVar = vm.build();
  return { param: theta.build(), slots: out, scalars: {} };
};
