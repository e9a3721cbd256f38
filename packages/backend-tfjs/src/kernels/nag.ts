import * as tf from '@tensorflow/tfjs-core';
import type { NagOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * NAG (look-ahead form) on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/nag.ts`. `evaluationPoint` returns φ = θ − γv, where `step(closure)` asks for the gradient.
 */
export const nagKernel: TfjsKernel<NagOptions> = {
  evaluationPoint({ options: o, param: theta, slots }) {
    return tf.sub(theta, tf.mul(o.momentum, slots.velocity!));
  },
  update({ options: o, param: theta, grad, slots }) {
    const { lr, momentum: gamma, weightDecay: lambda } = o;
    const v = slots.velocity!;
    let g = direction(grad, o.maximize);
    if (lambda !== 0) g = tf.add(g, tf.mul(lambda, tf.sub(theta, tf.mul(gamma, v))));
    v.assign(tf.add(tf.mul(gamma, v), tf.mul(lr, g)));
    theta.assign(tf.sub(theta, v));
  },
};
