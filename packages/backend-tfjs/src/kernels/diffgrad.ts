import * as tf from '@tensorflow/tfjs-core';
import type { DiffgradOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * diffGrad on TF.js; the update rule and its order of operations are those of `core/src/optimizers/diffgrad.ts`.
 * The friction coefficient is written out as 1/(1 + exp(−|g_{t−1} − g_t|)) as the reference has it, rather than
 * `tf.sigmoid` (whose wasm kernel is an approximation with its own error). The step size η√c₂/c₁ is a Float64
 * host scalar.
 */
export const diffgradKernel: TfjsKernel<DiffgradOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const previous = slots.previousGrad!;
    const stepSize = (o.lr * Math.sqrt(1 - powInt(beta2, t))) / (1 - powInt(beta1, t));
    let g = direction(grad, o.maximize);
    if (o.weightDecay !== 0) g = tf.add(g, tf.mul(o.weightDecay, theta));
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    const denom = tf.add(tf.sqrt(v), o.eps);
    const friction = tf.div(1, tf.add(1, tf.exp(tf.neg(tf.abs(tf.sub(previous, g))))));
    previous.assign(g);
    theta.assign(tf.add(theta, tf.div(tf.mul(-stepSize, tf.mul(m, friction)), denom)));
  },
};
