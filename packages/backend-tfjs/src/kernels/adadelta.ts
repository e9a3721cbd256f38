import * as tf from '@tensorflow/tfjs-core';
import type { AdadeltaOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/** Adadelta on TF.js; the update rule and its order of operations are those of `core/src/optimizers/adadelta.ts`. */
export const adadeltaKernel: TfjsKernel<AdadeltaOptions> = {
  update({ options: o, param: theta, grad, slots }) {
    const { lr, rho, eps, weightDecay: lambda } = o;
    const s = slots.squareAvg!;
    const a = slots.accDelta!;
    let g = direction(grad, o.maximize);
    if (lambda !== 0) g = tf.add(g, tf.mul(lambda, theta));
    s.assign(tf.add(tf.mul(rho, s), tf.mul(tf.mul(1 - rho, g), g)));
    const std = tf.sqrt(tf.add(s, eps));
    const delta = tf.mul(tf.div(tf.sqrt(tf.add(a, eps)), std), g);
    a.assign(tf.add(tf.mul(rho, a), tf.mul(tf.mul(1 - rho, delta), delta)));
    theta.assign(tf.sub(theta, tf.mul(lr, delta)));
  },
};
