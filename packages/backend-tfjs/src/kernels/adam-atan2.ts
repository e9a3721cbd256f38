import * as tf from '@tensorflow/tfjs-core';
import type { AdamAtan2Options } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * Adam-atan2 on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adam-atan2.ts`. The bias corrections and η·a are Float64 host scalars; `tf.atan2(0, 0)`
 * is 0, as `Math.atan2`.
 */
export const adamAtan2Kernel: TfjsKernel<AdamAtan2Options> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, weightDecay: lambda, a, b } = o;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const g = direction(grad, o.maximize);
    const th = lambda > 0 ? tf.mul(theta, 1 - lr * lambda) : theta;
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    const mHat = tf.div(m, biasCorrection1);
    const vHat = tf.div(v, biasCorrection2);
    theta.assign(tf.sub(th, tf.mul(lr * a, tf.atan2(mHat, tf.mul(b, tf.sqrt(vHat))))));
  },
};
