import * as tf from '@tensorflow/tfjs-core';
import type { RadamOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction } from './common.js';

/**
 * RAdam / RAdamW on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/radam.ts`. ρ∞, ρ_t, the rectification r_t, the bias corrections and the choice between the
 * rectified and the momentum step are Float64 host scalars and a host branch.
 */
export const radamKernel: TfjsKernel<RadamOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda } = o;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const decay = 1 - lr * lambda;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * powInt(beta2, t)) / biasCorrection2;
    const rectified = rhoT > 5;
    const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    let g = direction(grad, o.maximize);
    let th: tf.Tensor = theta;
    if (lambda !== 0) {
      if (o.decoupledWeightDecay) th = tf.mul(th, decay);
      else g = tf.add(g, tf.mul(lambda, theta));
    }
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    v.assign(tf.add(tf.mul(beta2, v), tf.mul(tf.mul(1 - beta2, g), g)));
    const mHat = tf.div(m, biasCorrection1);
    if (rectified) {
      // As the reference (and PyTorch's `scalar / tensor`): reciprocal, then times the scalar.
      const adaptiveLr = tf.mul(tf.reciprocal(tf.add(tf.sqrt(v), eps)), biasCorrection2Sqrt);
      theta.assign(tf.sub(th, tf.mul(tf.mul(tf.mul(mHat, lr), adaptiveLr), rect)));
    } else {
      theta.assign(tf.sub(th, tf.mul(mHat, lr)));
    }
  },
};
