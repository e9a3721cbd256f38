import type { AdabeliefOptions } from '@descent/core';
import { elementwise, same, type GpujsKernel } from '../kernel.js';

/**
 * AdaBelief on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adabelief.ts` (ε into the stored s every step, then again after the root). The rectified
 * rule's scalars, and which of its branches applies, are decided on the host.
 */
export const adabeliefKernel: GpujsKernel<AdabeliefOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const biasCorrection1 = 1 - beta1 ** t;
    const biasCorrection2 = 1 - beta2 ** t;
    const beta2t = beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rho = rhoInf - (2 * t * beta2t) / (1 - beta2t);
    const slots = ['expAvg', 'expAvgVar', ...(o.amsgrad ? ['maxExpAvgVar'] : [])];
    const values: Record<string, number> = { beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, eps: o.eps };
    const body = o.maximize ? ['g = -g;'] : [];
    if (o.weightDecay !== 0) {
      if (o.decoupledWeightDecay) {
        values.decay = 1 - o.lr * o.weightDecay;
        body.push('theta = theta * decay;');
      } else {
        values.weightDecay = o.weightDecay;
        body.push('g = g + weightDecay * theta;');
      }
    }
    body.push(
      'expAvg = beta1 * expAvg + oneMinusBeta1 * g;',
      'const residual = g - expAvg;',
      'expAvgVar = beta2 * expAvgVar + oneMinusBeta2 * residual * residual;',
      'expAvgVar = expAvgVar + eps;',
    );
    if (!o.rectify) {
      values.biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
      values.stepSize = o.lr / biasCorrection1;
      body.push('let sHat = expAvgVar;');
      if (o.amsgrad) body.push('maxExpAvgVar = Math.max(maxExpAvgVar, sHat);', 'sHat = maxExpAvgVar;');
      body.push('const denom = Math.sqrt(sHat) / biasCorrection2Sqrt + eps;', 'theta = theta - stepSize * (expAvg / denom);');
    } else if (rho >= 5) {
      const ratio = ((((1 - beta2t) * (rho - 4)) / (rhoInf - 4)) * (rho - 2)) / rho;
      values.rectifiedLr = (Math.sqrt((ratio * rhoInf) / (rhoInf - 2)) / biasCorrection1) * o.lr;
      body.push('const denom = Math.sqrt(expAvgVar) + eps;', 'theta = theta - rectifiedLr * (expAvg / denom);');
    } else if (o.degeneratedToSgd) {
      values.sgdLr = (1 / biasCorrection1) * o.lr;
      body.push('theta = theta - sgdLr * expAvg;');
    }
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', ...same(slots) },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', ...same(slots) },
      }),
      values,
    );
  },
};
