import * as tf from '@tensorflow/tfjs-core';
import type { LarsOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { minimumTorch, norm2, select } from './common.js';

/**
 * LARS on TF.js; the update rule and its order of operations are those of `core/src/optimizers/lars.ts`. The
 * local rate r is computed on the device from the two norms (no readback): 1 unless both norms are > 0, so a
 * NaN norm also gives 1, as in the reference and timm.
 */
export const larsKernel: TfjsKernel<LarsOptions> = {
  update({ options: o, param: theta, grad: g, slots, step: t }) {
    const { lr, momentum: mu, dampening: tau, weightDecay: lambda, nesterov, trustCoefficient: eta, eps, trustClip } = o;
    const b = slots.momentumBuffer;
    const adapt = lambda !== 0 || o.alwaysAdapt;

    let d: tf.Tensor = g;
    if (adapt) {
      const wNorm = norm2(theta);
      const gNorm = norm2(g);
      let r: tf.Tensor = select(
        tf.logicalAnd(tf.greater(wNorm, 0), tf.greater(gNorm, 0)),
        tf.div(tf.mul(eta, wNorm), tf.add(tf.add(gNorm, tf.mul(wNorm, lambda)), eps)),
        1,
      );
      if (trustClip) r = minimumTorch(tf.div(r, lr), 1);
      d = tf.mul(tf.add(g, tf.mul(lambda, theta)), r);
    }
    let delta = d;
    if (b) {
      b.assign(t === 1 ? d : tf.add(tf.mul(mu, b), tf.mul(1 - tau, d)));
      delta = nesterov ? tf.add(d, tf.mul(mu, b)) : b;
    }
    theta.assign(tf.sub(theta, tf.mul(lr, delta)));
  },
};
