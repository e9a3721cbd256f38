import type { AdabeliefOptions } from '@descent/core';
import { fused } from './kernel.js';

/**
 * AdaBelief (core `optimizers/adabelief.ts`): a hand-written loop, the reference's branches (rectified or
 * not, the SGD fallback) as it has them.
 */
export const adabeliefFused = fused<AdabeliefOptions>()({
  coefficients(o, t) {
    const [beta1, beta2] = o.betas;
    const biasCorrection1 = 1 - beta1 ** t;
    const biasCorrection2 = 1 - beta2 ** t;
    const beta2t = beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rho = rhoInf - (2 * t * beta2t) / (1 - beta2t);
    let rectifiedStep = 0;
    if (o.rectify && rho >= 5) {
      const ratio = ((((1 - beta2t) * (rho - 4)) / (rhoInf - 4)) * (rho - 2)) / rho;
      rectifiedStep = Math.sqrt((ratio * rhoInf) / (rhoInf - 2)) / biasCorrection1;
    }
    return {
      lr: o.lr,
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      lambda: o.weightDecay,
      shrink: 1 - o.lr * o.weightDecay,
      biasCorrection1,
      biasCorrection2Sqrt: Math.sqrt(biasCorrection2),
      rho,
      rectifiedStep,
      sgdStep: o.rectify && rho < 5 && o.degeneratedToSgd ? 1 / biasCorrection1 : 0,
    };
  },
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, lambda, shrink, biasCorrection1, biasCorrection2Sqrt, rho, rectifiedStep, sgdStep } = k;
    const { decoupledWeightDecay, rectify, maximize } = o;
    const m = slots.expAvg as Float32Array;
    const sv = slots.expAvgVar as Float32Array;
    const sMax = slots.maxExpAvgVar;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = theta[i] as number;
      if (lambda !== 0) {
        if (decoupledWeightDecay) out[i] = (out[i] as number) * shrink;
        else g = g + lambda * (out[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      const residual = g - (m[i] as number);
      sv[i] = beta2 * (sv[i] as number) + oneMinusBeta2 * residual * residual;
      sv[i] = (sv[i] as number) + eps;
      if (!rectify) {
        let sHat = sv[i] as number;
        if (sMax) sHat = sMax[i] = Math.max(sMax[i] as number, sHat);
        const denom = Math.sqrt(sHat) / biasCorrection2Sqrt + eps;
        out[i] = (out[i] as number) - (lr / biasCorrection1) * ((m[i] as number) / denom);
      } else if (rho >= 5) {
        const denom = Math.sqrt(sv[i] as number) + eps;
        out[i] = (out[i] as number) - rectifiedStep * lr * ((m[i] as number) / denom);
      } else if (sgdStep > 0) {
        out[i] = (out[i] as number) - sgdStep * lr * (m[i] as number);
      }
    }
  },
});

