import * as tf from '@tensorflow/tfjs-core';
import type { AdamOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { maximumTorch } from './common.js';

/**
 * Adam / AMSGrad on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adam.ts`. Bias corrections are Float64 host scalars.
 */
export const adamKernel: TfjsKernel<AdamOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const stepSize = o.lr / biasCorrection1;
    let g = o.maximize ? tf.neg(grad) : grad;
    if (o.weightDecay !== 0) g = tf.add(g, tf.mul(o.weightDecay, theta));
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    let vHat: tf.Tensor = v;
    const vMax = slots.maxExpAvgSq;
    if (vMax) {
      vMax.assign(maximumTorch(vMax, v));
      vHat = vMax;
    }
    const denom = tf.add(tf.div(tf.sqrt(vHat), biasCorrection2Sqrt), o.eps);
    theta.assign(tf.sub(theta, tf.div(tf.mul(stepSize, m), denom)));
  },
};
