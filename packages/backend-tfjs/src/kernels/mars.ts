import * as tf from '@tensorflow/tfjs-core';
import type { MarsOptions } from '@descent/core';
import { marsBranch, marsLr1d, powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { maximumTorch, norm2 } from './common.js';

/**
 * MARS (mars-adamw) on TF.js; the update rule and its order of operations are those of `core/src/optimizers/mars.ts`.
 * The norm of c_t and the clipping decision stay on the device (no readback: the divisor is ‖c_t‖ where it
 * exceeds 1, else 1); bias corrections and the step sizes are Float64 host scalars.
 */
export const marsKernel: TfjsKernel<MarsOptions> = {
  update({ options: o, shape, param: theta, grad: g, slots, step: t }) {
    const isMars = marsBranch(o, shape);
    const [beta1, beta2] = isMars ? o.betas : o.betas1d;
    const lr = isMars ? o.lr : marsLr1d(o);
    const wd = isMars ? o.weightDecay : o.weightDecay1d;
    const m = slots.expAvg!;
    const last = slots.lastGrad!;
    const v = slots.expAvgSq!;
    let c: tf.Tensor = g;
    if (isMars) {
      c = tf.add(tf.mul(tf.sub(g, last), o.gamma * (beta1 / (1 - beta1))), g);
      const norm = norm2(c);
      c = tf.div(c, tf.where(tf.greater(norm, 1), norm, tf.onesLike(norm)));
    }
    const biasCorrection1 = 1 - powInt(beta1, t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - powInt(beta2, t));
    m.assign(tf.add(tf.mul(m, beta1), tf.mul(1 - beta1, c)));
    v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.mul(1 - beta2, c), c)));
    let vHat: tf.Tensor = v;
    const vMax = slots.maxExpAvgSq;
    if (vMax) {
      vMax.assign(maximumTorch(vMax, v));
      vHat = vMax;
    }
    const denom = tf.mul(tf.add(tf.mul(tf.sqrt(vHat), invSqrtBc2), o.eps), biasCorrection1);
    theta.assign(tf.add(theta, tf.mul(tf.add(tf.mul(theta, wd), tf.div(m, denom)), -lr)));
    last.assign(g);
  },
};
