import * as tf from '@tensorflow/tfjs-core';
import type { PnmOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * Positive-Negative Momentum on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/pnm.ts`. Which buffer is the positive one is decided on the host from the step's parity;
 * β₁², 1/ν and the decay factor are Float64 host scalars.
 */
export const pnmKernel: TfjsKernel<PnmOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta0] = o.betas;
    const odd = t % 2 === 1;
    const pos = (odd ? slots.posMomentum : slots.negMomentum)!;
    const neg = (odd ? slots.negMomentum : slots.posMomentum)!;
    const beta1Sq = beta1 ** 2;
    const noiseNorm = Math.sqrt((1 + beta0) ** 2 + beta0 ** 2);
    const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
    let g = direction(grad, o.maximize);
    let th: tf.Tensor = theta;
    if (o.decoupledWeightDecay) {
      if (decay !== 1) th = tf.mul(th, decay);
    } else if (o.weightDecay > 0) g = tf.add(g, tf.mul(o.weightDecay, theta));
    pos.assign(tf.add(tf.mul(beta1Sq, pos), tf.mul(1 - beta1Sq, g)));
    const delta = tf.mul(tf.add(tf.mul(pos, 1 + beta0), tf.mul(-beta0, neg)), 1 / noiseNorm);
    theta.assign(tf.add(th, tf.mul(-o.lr, delta)));
  },
};
