import * as tf from '@tensorflow/tfjs-core';
import type { AdamwOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, maximumTorch } from './common.js';

/**
 * AdamW / AMSGrad with decoupled weight decay on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adamw.ts`. The shrink factor 1 − ηλ (applied only when λ ≠ 0, as there) and the bias
 * corrections are Float64 host scalars.
 */
export const adamwKernel: TfjsKernel<AdamwOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda } = o;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const vMax = slots.maxExpAvgSq;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2Sqrt = Math.sqrt(1 - powInt(beta2, t));
    const stepSize = lr / biasCorrection1;
    const g = direction(grad, o.maximize);
    const shrunk = lambda !== 0 ? tf.mul(theta, 1 - lr * lambda) : theta;
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    let vHat: tf.Tensor = v;
    if (vMax) {
      vMax.assign(maximumTorch(vMax, v));
      vHat = vMax;
    }
    const denom = tf.add(tf.div(tf.sqrt(vHat), biasCorrection2Sqrt), eps);
    theta.assign(tf.sub(shrunk, tf.div(tf.mul(stepSize, m), denom)));
  },
};
