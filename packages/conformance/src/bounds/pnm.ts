import type { PnmOptions } from '@descent/core';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * Positive-Negative Momentum (core/src/optimizers/pnm.ts): the positive buffer's EMA with β₁², the combination
 * ((1 + β₀)m⁺ − β₀m⁻)·(1/ν), which cancels (its budget is that of both terms, not relative to the result), and the
 * step. The buffer not written this step is passed through unchanged (exact).
 */
export const pnmBound: BoundFunction<PnmOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta0] = o.betas;
  const size = param.v.length;
  const odd = t % 2 === 1;
  const posName = odd ? 'posMomentum' : 'negMomentum';
  const negName = odd ? 'negMomentum' : 'posMomentum';
  const beta1Sq = beta1 ** 2;
  const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
  const cB = ar.input(beta1Sq);
  const c1B = ar.input(1 - beta1Sq);
  const cPlus = ar.input(1 + beta0);
  const cMinus = ar.input(-beta0);
  const cInv = ar.input(1 / Math.sqrt((1 + beta0) ** 2 + beta0 ** 2));
  const cLr = ar.input(-o.lr);
  const cDecay = ar.input(decay);
  const cLambda = ar.input(o.weightDecay);
  const theta = new BoundBuilder(size);
  const pos = new BoundBuilder(size);
  const neg = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let th = at(param, i);
    let g = at(grad, i);
    if (o.maximize) g = ar.neg(g);
    if (o.decoupledWeightDecay) {
      if (decay !== 1) th = ar.mul(th, cDecay);
    } else if (o.weightDecay > 0) g = ar.add(g, ar.mul(cLambda, th));
    const p = ar.add(ar.mul(cB, at(slots[posName]!, i)), ar.mul(c1B, g));
    const n = at(slots[negName]!, i);
    const delta = ar.mul(ar.add(ar.mul(p, cPlus), ar.mul(cMinus, n)), cInv);
    theta.set(i, ar.add(th, ar.mul(cLr, delta)));
    pos.set(i, p);
    neg.set(i, n);
  }
  return { param: theta.build(), slots: { [posName]: pos.build(), [negName]: neg.build() }, scalars: {} };
};
