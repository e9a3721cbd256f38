import * as tf from '@tensorflow/tfjs-core';
import type { SgdOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';

/** SGD on TF.js; the update rule and its order of operations are those of `core/src/optimizers/sgd.ts`. */
export const sgdKernel: TfjsKernel<SgdOptions> = {
  update({ options: o, param: theta, grad, slots, step }) {
    let g = o.maximize ? tf.neg(grad) : grad;
    if (o.weightDecay !== 0) g = tf.add(g, tf.mul(o.weightDecay, theta));
    let d = g;
    const b = slots.momentumBuffer;
    if (b) {
      b.assign(step === 1 ? g : tf.add(tf.mul(o.momentum, b), tf.mul(1 - o.dampening, g)));
      d = o.nesterov ? tf.add(g, tf.mul(o.momentum, b)) : b;
    }
    theta.assign(tf.sub(theta, tf.mul(o.lr, d)));
  },
};
