import * as tf from '@tensorflow/tfjs-core';
import { muonRoute, type MuonWithAuxAdamOptions, powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { lerpTorch } from './common.js';
import { muonUpdateTfjs } from './muon.js';

/**
 * Muon with auxiliary Adam on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/muon-with-aux-adam.ts`. Each parameter goes to the Muon half (see `muonKernel`) or the
 * Adam half by its group's `use`, decided on the host; the Adam half's bias corrections, lerp weights and decay
 * are Float64 host scalars.
 */
export const muonWithAuxAdamKernel: TfjsKernel<MuonWithAuxAdamOptions> = {
  update({ options: o, shape, param: theta, grad, slots, step: t, linalg }) {
    if (muonRoute(o.use, shape) === 'muon') {
      const update = muonUpdateTfjs(o, shape, grad, slots.momentumBuffer!, 'add', linalg);
      const decay = 1 - o.lr * o.weightDecay;
      theta.assign(tf.sub(tf.mul(theta, decay), tf.mul(o.lr, update)));
      return;
    }
    const [beta1, beta2] = o.adamBetas;
    const { adamLr: lr, adamEps: eps, adamWeightDecay: lambda } = o;
    const m = slots.expAvg!;
    const v = slots.expAvgSq!;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const decay = 1 - lr * lambda;
    m.assign(lerpTorch(m, grad, 1 - beta1));
    v.assign(lerpTorch(v, tf.mul(grad, grad), 1 - beta2));
    const update = tf.div(tf.div(m, biasCorrection1), tf.add(tf.sqrt(tf.div(v, biasCorrection2)), eps));
    theta.assign(tf.sub(tf.mul(theta, decay), tf.mul(lr, update)));
  },
};
