import * as tf from '@tensorflow/tfjs-core';
import type { NadamOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * NAdam / NAdamW on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/nadam.ts`. The momentum schedule μ_t, μ_{t+1}, the product Π_t (kept in the host scalar
 * `muProduct`) and every coefficient are Float64 host scalars.
 */
export const nadamKernel: TfjsKernel<NadamOptions> = {
  update({ options: o, param: theta, grad, slots, scalars, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, momentumDecay: psi } = o;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const biasCorrection2 = 1 - powInt(beta2, t);
    const decay = 1 - lr * lambda;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
    const muProduct = (scalars.muProduct as number) * mu;
    scalars.muProduct = muProduct;
    const muProductNext = muProduct * muNext;
    const gradCoef = (lr * (1 - mu)) / (1 - muProduct);
    const momentumCoef = (lr * muNext) / (1 - muProductNext);
    let g = direction(grad, o.maximize);
    let th: tf.Tensor = theta;
    if (lambda !== 0) {
      if (o.decoupledWeightDecay) th = tf.mul(th, decay);
      else g = tf.add(g, tf.mul(lambda, theta));
    }
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    const denom = tf.add(tf.sqrt(tf.div(v, biasCorrection2)), eps);
    th = tf.sub(th, tf.div(tf.mul(gradCoef, g), denom));
    theta.assign(tf.sub(th, tf.div(tf.mul(momentumCoef, m), denom)));
  },
};
