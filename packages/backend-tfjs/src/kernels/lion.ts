import * as tf from '@tensorflow/tfjs-core';
import type { LionOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, signTorch } from './common.js';

/**
 * Lion on TF.js; the update rule and its order of operations are those of `core/src/optimizers/lion.ts`. The
 * sign is `tf.sign` (sign(0) = 0, as `torch.sign`), with NaN kept as NaN. Where the interpolation c is within
 * float32 rounding of 0 the sign can differ from the Float64 reference's; that is the ambiguity band every
 * float32 implementation of Lion has.
 */
export const lionKernel: TfjsKernel<LionOptions> = {
  update({ options: o, param: theta, grad, slots }) {
    const [beta1, beta2] = o.betas;
    const { lr, weightDecay: lambda } = o;
    const m = slots.expAvg!;
    const decay = 1 - lr * lambda;
    const g = direction(grad, o.maximize);
    const decayed = tf.mul(theta, decay);
    const c = tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g));
    theta.assign(tf.sub(decayed, tf.mul(lr, signTorch(c))));
    m.assign(tf.add(tf.mul(beta2, m), tf.mul(1 - beta2, g)));
  },
};
