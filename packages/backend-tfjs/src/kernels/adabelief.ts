import * as tf from '@tensorflow/tfjs-core';
import type { AdabeliefOptions } from '@descent/core';
import { powInt } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, maximumTorch } from './common.js';

/**
 * AdaBelief on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adabelief.ts`, including ε added to s into the state every step and again after the
 * square root. Every scalar of the rectified rule (ρ∞, ρ_t, the rectified and the SGD step sizes) and the choice
 * of branch are Float64 host scalars.
 *
 * Float32 note: with the default ε = 1e-16 the addition s + ε changes s only where s < ~1e-9 (ε is below half an
 * ulp of any larger float32), so the accumulated ε's the reference carries in s are mostly lost here; the
 * formula is kept as the reference has it, and the difference is far below float32 resolution of s wherever s is
 * not itself tiny. The ε after the square root likewise only matters where √s ≲ 1e-9.
 */
export const adabeliefKernel: TfjsKernel<AdabeliefOptions> = {
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, rectify, degeneratedToSgd } = o;
    const m = slots.expAvg!;
    const s = slots.expAvgVar!;
    const sMax = slots.maxExpAvgVar;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);

    const beta2t = powInt(beta2, t);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rho = rhoInf - (2 * t * beta2t) / (1 - beta2t);
    let rectifiedStep = 0;
    if (rectify && rho >= 5) {
      const ratio = ((((1 - beta2t) * (rho - 4)) / (rhoInf - 4)) * (rho - 2)) / rho;
      rectifiedStep = Math.sqrt((ratio * rhoInf) / (rhoInf - 2)) / biasCorrection1;
    }
    const sgdStep = rectify && rho < 5 && degeneratedToSgd ? 1 / biasCorrection1 : 0;

    let g = direction(grad, o.maximize);
    let th: tf.Tensor = theta;
    if (lambda !== 0) {
      if (o.decoupledWeightDecay) th = tf.mul(th, 1 - lr * lambda);
      else g = tf.add(g, tf.mul(lambda, theta));
    }
    m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
    const residual = tf.sub(g, m);
    s.assign(tf.add(tf.add(tf.mul(beta2, s), tf.mul(tf.mul(1 - beta2, residual), residual)), eps));
    if (!rectify) {
      let sHat: tf.Tensor = s;
      if (sMax) {
        sMax.assign(maximumTorch(sMax, s));
        sHat = sMax;
      }
      const denom = tf.add(tf.div(tf.sqrt(sHat), biasCorrection2Sqrt), eps);
      th = tf.sub(th, tf.mul(lr / biasCorrection1, tf.div(m, denom)));
    } else if (rho >= 5) {
      const denom = tf.add(tf.sqrt(s), eps);
      th = tf.sub(th, tf.mul(rectifiedStep * lr, tf.div(m, denom)));
    } else if (sgdStep > 0) {
      th = tf.sub(th, tf.mul(sgdStep * lr, m));
    }
    if (th !== theta) theta.assign(th);
  },
};
