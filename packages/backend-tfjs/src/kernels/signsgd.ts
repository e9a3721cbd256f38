import * as tf from '@tensorflow/tfjs-core';
import type { SignsgdOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, signTorch } from './common.js';

/**
 * signSGD / Signum on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/signsgd.ts`. The sign is `tf.sign` (sign(0) = 0, as `torch.sign`), with NaN kept as NaN.
 */
export const signsgdKernel: TfjsKernel<SignsgdOptions> = {
  update({ options: o, param: theta, grad, slots }) {
    const { lr, momentum: beta, weightDecay: lambda } = o;
    const m = slots.momentumBuffer;
    const decay = 1 - lr * lambda;
    const g = direction(grad, o.maximize);
    const decayed = tf.mul(theta, decay);
    let d = g;
    if (m) {
      m.assign(tf.add(tf.mul(beta, m), tf.mul(1 - beta, g)));
      d = m;
    }
    theta.assign(tf.sub(decayed, tf.mul(lr, signTorch(d))));
  },
};
