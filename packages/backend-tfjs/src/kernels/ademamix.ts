import * as tf from '@tensorflow/tfjs-core';
import type { AdemamixOptions } from '@descent/core';
import { ademamixSchedule, powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * AdEMAMix on TF.js; the update rule and its order of operations are those of `core/src/optimizers/ademamix.ts`.
 * The scheduled α and β₃ (core's `ademamixSchedule`) and the bias corrections are Float64 host scalars.
 */
export const ademamixKernel: TfjsKernel<AdemamixOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { alpha, beta3 } = ademamixSchedule(o, t);
    const fast = slots.expAvgFast;
    const slow = slots.expAvgSlow!;
    const v = slots.expAvgSq!;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const g = direction(grad, o.maximize);
    let m1: tf.Tensor = g;
    if (fast) {
      fast.assign(tf.add(tf.mul(beta1, fast), tf.mul(1 - beta1, g)));
      m1 = fast;
    }
    slow.assign(tf.add(tf.mul(beta3, slow), tf.mul(1 - beta3, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    const denom = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), o.eps);
    let u = tf.div(tf.add(tf.div(m1, biasCorrection1), tf.mul(alpha, slow)), denom);
    if (o.weightDecay !== 0) u = tf.add(u, tf.mul(o.weightDecay, theta));
    theta.assign(tf.add(theta, tf.mul(-o.lr, u)));
  },
};
