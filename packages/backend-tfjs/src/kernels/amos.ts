import * as tf from '@tensorflow/tfjs-core';
import { amosScale, powInt, type AmosOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, lerpTorch } from './common.js';

/**
 * Amos on TF.js; the update rule and its order of operations are those of `core/src/optimizers/amos.ts`
 * (pytorch_optimizer's `Amos._step_per_param`). mean(g²), v, r̂, the decay factors, γ and the accumulated decay
 * b stay on the device as 1-element tensors (no readback); √η, η², η̃ = η·scale, the bias correction 1 − βᵗ and
 * the coefficient products c√η and d√η̃ are Float64 host scalars.
 */
export const amosKernel: TfjsKernel<AmosOptions> = {
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const { lr, beta, momentum, extraL2, cCoef, dCoef, eps } = o;
    const size = theta.size;
    if (size === 0) return;
    const initLr = lr * amosScale(shape);
    const g = direction(grad, o.maximize);
    const g2 = tf.div(tf.sum(tf.square(g)), size);
    const v = slots.expAvgSq!;
    const b = slots.decay!;
    v.assign(lerpTorch(v, g2, 1 - beta));
    const rVHat = tf.div(1 - powInt(beta, t), tf.add(v, eps));
    const decayFactorC = tf.div(1, tf.sqrt(tf.add(1, tf.mul(cCoef * Math.sqrt(lr), b))));
    const decayFactorD = tf.div(1, tf.add(1, tf.mul(dCoef * Math.sqrt(initLr), b)));
    const gamma = tf.mul(tf.mul(tf.mul(decayFactorC, lr * lr), rVHat), g2);
    const shrink = tf.div(tf.sub(gamma, extraL2), 2);
    let u = tf.mul(tf.add(tf.mul(theta, shrink), tf.mul(initLr, tf.mul(tf.sqrt(rVHat), g))), decayFactorD);
    b.assign(tf.add(tf.mul(b, tf.add(1, gamma)), gamma));
    if (momentum > 0) {
      const m = slots.expAvg!;
      m.assign(lerpTorch(m, u, 1 - momentum));
      u = m;
    }
    theta.assign(tf.sub(theta, u));
  },
};
