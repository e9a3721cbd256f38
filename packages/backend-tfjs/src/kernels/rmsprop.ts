import * as tf from '@tensorflow/tfjs-core';
import type { RmspropOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * RMSprop (plain and centered, with or without momentum) on TF.js; the update rule and its order of operations
 * are those of `core/src/optimizers/rmsprop.ts`. As there, the centered variance s − ḡ² is not clamped: where
 * float32 rounding makes it negative the step is NaN, as in PyTorch (float32 rounding makes that somewhat more
 * likely here than in the Float64 reference when s and ḡ² nearly cancel).
 */
export const rmspropKernel: TfjsKernel<RmspropOptions> = {
  update({ options: o, param: theta, grad, slots }) {
    const { lr, alpha, eps, weightDecay: lambda, momentum: mu } = o;
    const s = slots.squareAvg!;
    const gBar = slots.gradAvg;
    const b = slots.momentumBuffer;
    let g = direction(grad, o.maximize);
    if (lambda !== 0) g = tf.add(g, tf.mul(lambda, theta));
    s.assign(tf.add(tf.mul(alpha, s), tf.mul(tf.mul(1 - alpha, g), g)));
    let avg: tf.Tensor;
    if (gBar) {
      gBar.assign(tf.add(tf.mul(alpha, gBar), tf.mul(1 - alpha, g)));
      avg = tf.sqrt(tf.sub(s, tf.mul(gBar, gBar)));
    } else {
      avg = tf.sqrt(s);
    }
    avg = tf.add(avg, eps);
    if (b) {
      b.assign(tf.add(tf.mul(mu, b), tf.div(g, avg)));
      theta.assign(tf.sub(theta, tf.mul(lr, b)));
    } else {
      theta.assign(tf.sub(theta, tf.div(tf.mul(lr, g), avg)));
    }
  },
};
