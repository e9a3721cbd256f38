import * as tf from '@tensorflow/tfjs-core';
import type { AdagradOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * Adagrad on TF.js; the update rule and its order of operations are those of `core/src/optimizers/adagrad.ts`.
 * The decayed learning rate η / (1 + (t − 1)δ) is a Float64 host scalar.
 */
export const adagradKernel: TfjsKernel<AdagradOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const { lr, lrDecay, weightDecay: lambda, eps } = o;
    const s = slots.sum!;
    const clr = lr / (1 + (t - 1) * lrDecay);
    let g = direction(grad, o.maximize);
    if (lambda !== 0) g = tf.add(g, tf.mul(lambda, theta));
    s.assign(tf.add(s, tf.mul(g, g)));
    const std = tf.add(tf.sqrt(s), eps);
    theta.assign(tf.sub(theta, tf.div(tf.mul(clr, g), std)));
  },
};
