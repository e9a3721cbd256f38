import * as tf from '@tensorflow/tfjs-core';
import type { AdanormOptions } from '@descent/core';
import { ADANORM_V_EPS, powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, maximumTorch, norm2, select } from './common.js';

/**
 * AdaNorm (AdamNorm form) on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adanorm.ts`. The gradient norm, its history e and the choice to rescale stay on the device
 * (no readback): where the rescale does not apply, the factors are 1 and s = g·1/1 = g exactly. Bias corrections
 * and the decay factor are Float64 host scalars.
 */
export const adanormKernel: TfjsKernel<AdanormOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const m = slots.expAvg!;
    const v = slots.expAvgVar!;
    const e = slots.expGradNorm!;
    const vMax = slots.maxExpAvgVar;
    const stepSize = o.lr / (1 - powInt(beta1, t));
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);

    let g = direction(grad, o.maximize);
    let th: tf.Tensor = theta;
    if (o.decoupledWeightDecay) {
      if (decay !== 1) th = tf.mul(th, decay);
    } else if (o.weightDecay > 0) g = tf.add(g, tf.mul(o.weightDecay, theta));
    const gradNorm = tf.reshape(norm2(g), [1]);
    const eNew = tf.add(tf.mul(o.r, e), tf.mul(1 - o.r, gradNorm));
    e.assign(eNew);
    const rescale = tf.logicalAnd(tf.greater(eNew, gradNorm), tf.notEqual(gradNorm, 0));
    const numerator = tf.reshape(select(rescale, eNew, 1), []);
    const denominator = tf.reshape(select(rescale, gradNorm, 1), []);
    const s = tf.div(tf.mul(g, numerator), denominator);
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, s)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    let vHat: tf.Tensor = v;
    if (vMax) {
      vMax.assign(maximumTorch(vMax, v));
      vHat = vMax;
    }
    const denom = tf.div(tf.add(tf.sqrt(tf.add(vHat, ADANORM_V_EPS)), o.eps), biasCorrection2Sqrt);
    theta.assign(tf.add(th, tf.div(tf.mul(-stepSize, m), denom)));
  },
};
