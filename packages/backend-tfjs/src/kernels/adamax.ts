import * as tf from '@tensorflow/tfjs-core';
import type { AdamaxOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, maximumTorch } from './common.js';

/**
 * Adamax on TF.js; the update rule and its order of operations are those of `core/src/optimizers/adamax.ts`.
 * The bias correction 1 − β₁ᵗ is a Float64 host scalar. `tf.maximum` propagates NaN, as `Math.max` does.
 */
export const adamaxKernel: TfjsKernel<AdamaxOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda } = o;
    const m = slots.expAvg!;
    const u = slots.expInf!;
    const clr = lr / (1 - powInt(beta1, t));
    let g = direction(grad, o.maximize);
    if (lambda !== 0) g = tf.add(g, tf.mul(lambda, theta));
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    u.assign(maximumTorch(tf.mul(beta2, u), tf.add(tf.abs(g), eps)));
    theta.assign(tf.sub(theta, tf.div(tf.mul(clr, m), u)));
  },
};
