import * as tf from '@tensorflow/tfjs-core';
import type { AdapnmOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, maximumTorch } from './common.js';

/**
 * AdaPNM on TF.js; the update rule and its order of operations are those of `core/src/optimizers/adapnm.ts`
 * (torch's addcdiv order: θ + (−η/c₁·pn)/denom). Which buffer is the positive one is decided on the host from the
 * step's parity; β₁², 1/ν, the bias corrections and the decay factor are Float64 host scalars.
 */
export const adapnmKernel: TfjsKernel<AdapnmOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2, beta0] = o.betas;
    const odd = t % 2 === 1;
    const pos = (odd ? slots.expAvg : slots.negExpAvg)!;
    const neg = (odd ? slots.negExpAvg : slots.expAvg)!;
    const v = slots.expAvgSq!;
    const vMax = slots.maxExpAvgSq;
    const beta1Sq = beta1 ** 2;
    const noiseNorm = Math.sqrt((1 + beta0) ** 2 + beta0 ** 2);
    const stepSize = o.lr / (1 - powInt(beta1, t));
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
    let g = direction(grad, o.maximize);
    let th: tf.Tensor = theta;
    if (o.decoupledWeightDecay) {
      if (decay !== 1) th = tf.mul(th, decay);
    } else if (o.weightDecay > 0) g = tf.add(g, tf.mul(o.weightDecay, theta));
    pos.assign(tf.add(tf.mul(beta1Sq, pos), tf.mul(1 - beta1Sq, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    let vHat: tf.Tensor = v;
    if (vMax) {
      vMax.assign(maximumTorch(vMax, v));
      vHat = vMax;
    }
    const denom = tf.div(tf.add(tf.sqrt(tf.add(vHat, 1e-15)), o.eps), biasCorrection2Sqrt);
    const pn = tf.mul(tf.add(tf.mul(pos, 1 + beta0), tf.mul(-beta0, neg)), 1 / noiseNorm);
    theta.assign(tf.add(th, tf.div(tf.mul(-stepSize, pn), denom)));
  },
};
