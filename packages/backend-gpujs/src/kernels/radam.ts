import type { RadamOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * RAdam on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/radam.ts`.
 * ρ_t, the rectification term r_t and whether to rectify are decided on the host, which picks one of two
 * programs.
 */
export const radamKernel: GpujsKernel<RadamOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const biasCorrection2 = 1 - beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / biasCorrection2;
    const rectified = rhoT > 5;
    const values: Record<string, number> = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      biasCorrection1: 1 - beta1 ** t,
      lr: o.lr,
    };
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
      'expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;',
      'const mHat = expAvg / biasCorrection1;',
    );
    if (rectified) {
      values.biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
      values.eps = o.eps;
      values.rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
      body.push('const adaptiveLr = biasCorrection2Sqrt / (Math.sqrt(expAvgSq) + eps);', 'theta = theta - mHat * lr * adaptiveLr * rect;');
    } else {
      body.push('theta = theta - mHat * lr;');
    }
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
      }),
      values,
    );
  },
};
