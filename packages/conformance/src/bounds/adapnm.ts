import type { AdapnmOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * AdaPNM (core/src/optimizers/adapnm.ts): PNM's positive buffer and cancelling combination (see pnm.ts), Adam's
 * second moment with the optional AMSGrad maximum and δ = 10⁻¹⁵ under the root, and the step (−η/c₁·pn)/denom.
 * The buffer not written this step is passed through unchanged.
 */
export const adapnmBound: BoundFunction<AdapnmOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2, beta0] = o.betas;
  const size = param.v.length;
  const odd = t % 2 === 1;
  const posName = odd ? 'expAvg' : 'negExpAvg';
  const negName = odd ? 'negExpAvg' : 'expAvg';
  const beta1Sq = beta1 ** 2;
  const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
  const cB1 = ar.input(beta1Sq);
  const c1B1 = ar.input(1 - beta1Sq);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cPlus = ar.input(1 + beta0);
  const cMinus = ar.input(-beta0);
  const cInv = ar.input(1 / Math.sqrt((1 + beta0) ** 2 + beta0 ** 2));
  const cVEps = ar.input(1e-15);
  const cEps = ar.input(o.eps);
  const cBc2s = ar.input(Math.sqrt(1 - beta2 ** t));
  const cStep = ar.input(-o.lr / (1 - beta1 ** t));
  const cDecay = ar.input(decay);
  const cLambda = ar.input(o.weightDecay);
  const theta = new BoundBuilder(size);
  const pos = new BoundBuilder(size);
  const neg = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  const vm = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let th = at(param, i);
    let g = at(grad, i);
    if (o.maximize) g = ar.neg(g);
    if (o.decoupledWeightDecay) {
      if (decay !== 1) th = ar.mul(th, cDecay);
    } else if (o.weightDecay > 0) g = ar.add(g, ar.mul(cLambda, th));
    const p = ar.add(ar.mul(cB1, at(slots[posName]!, i)), ar.mul(c1B1, g));
    const n = at(slots[negName]!, i);
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, g), g));
    let vHat = vi;
    if (slots.maxExpAvgSq) {
      vHat = ar.max(at(slots.maxExpAvgSq, i), vi);
      vm.set(i, vHat);
    }
    const denom = ar.div(ar.add(ar.sqrt(ar.add(vHat, cVEps)), cEps), cBc2s);
    const pn = ar.mul(ar.add(ar.mul(p, cPlus), ar.mul(cMinus, n)), cInv);
    theta.set(i, ar.add(th, ar.div(ar.mul(cStep, pn), denom)));
    pos.set(i, p);
    neg.set(i, n);
    v.set(i, vi);
  }
  const out: Record<string, ReturnType<BoundBuilder['build']>> = { [posName]: pos.build(), [negName]: neg.build(), expAvgSq: v.build() };
  if (slots.maxExpAvgSq) out.maxExpAvgSq = vm.build();
  return { param: theta.build(), slots: out, scalars: {} };
};
