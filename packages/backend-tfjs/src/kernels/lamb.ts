import * as tf from '@tensorflow/tfjs-core';
import type { LambOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { maximumTorch, minimumTorch, norm2, select } from './common.js';

/**
 * LAMB on TF.js; the update rule and its order of operations are those of `core/src/optimizers/lamb.ts`. The
 * two norms and the trust ratio stay on the device (no readback); the debias factor is a Float64 host scalar.
 * As in the reference, the ratio is 1 when either norm is 0, and NaN when a norm is NaN.
 */
export const lambKernel: TfjsKernel<LambOptions> = {
  update({ options: o, param: theta, grad: g, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, clampValue } = o;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const s = o.debias ? Math.sqrt(1 - powInt(beta2, t)) / (1 - powInt(beta1, t)) : 1;
    const stepSize = lr * s;

    // ‖θ_{t−1}‖, clamped to [0, c].
    const weightNorm = minimumTorch(maximumTorch(norm2(theta), 0), clampValue);

    // Moments, and the Adam step u with decoupled decay.
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    let u = tf.div(m, tf.add(tf.sqrt(v), eps));
    if (lambda !== 0) u = tf.add(u, tf.mul(lambda, theta));
    const adamNorm = norm2(u);

    const trustRatio: tf.Tensor | number = o.adam
      ? 1
      : select(tf.logicalOr(tf.equal(weightNorm, 0), tf.equal(adamNorm, 0)), 1, tf.div(weightNorm, adamNorm));
    theta.assign(tf.sub(theta, tf.mul(tf.mul(stepSize, trustRatio), u)));
  },
};
