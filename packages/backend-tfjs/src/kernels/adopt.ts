import * as tf from '@tensorflow/tfjs-core';
import type { AdoptOptions } from '@descent/core';
import { adoptClip } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, lerpTorch, maximumTorch, minimumTorch } from './common.js';

/**
 * ADOPT on TF.js; the update rule and its order of operations are those of `core/src/optimizers/adopt.ts` (the
 * first step only initialises v). The clip bound s^{1/4} and the lerp weight 1 − β₁ are Float64 host scalars;
 * max/min propagate NaN as torch.clamp does (tfjs-backend-wasm's maximum does not).
 */
export const adoptKernel: TfjsKernel<AdoptOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const lambda = o.weightDecay;
    let g = direction(grad, o.maximize);
    if (lambda !== 0 && !o.decoupledWeightDecay) g = tf.add(g, tf.mul(lambda, theta));
    if (t === 1) {
      v.assign(tf.add(v, tf.mul(g, g)));
      return;
    }
    let th: tf.Tensor = theta;
    if (lambda !== 0 && o.decoupledWeightDecay) th = tf.add(th, tf.mul(-o.lr * lambda, th));
    const denom = maximumTorch(tf.sqrt(v), o.eps);
    let normed = tf.div(g, denom);
    const clip = adoptClip(o.clipLambda, t - 1);
    if (Number.isFinite(clip)) normed = minimumTorch(maximumTorch(normed, -clip), clip);
    m.assign(lerpTorch(m, normed, 1 - beta1));
    theta.assign(tf.add(th, tf.mul(-o.lr, m)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
  },
};
