import type { NadamOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * NAdam on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/nadam.ts`.
 * The momentum schedule μ_t, μ_{t+1}, the product Π_t (host scalar `muProduct`, updated here in Float64) and
 * both step coefficients are computed on the host.
 */
export const nadamKernel: GpujsKernel<NadamOptions> = {
  update({ options: o, size, step: t, scalars, run }) {
    const [beta1, beta2] = o.betas;
    const psi = o.momentumDecay;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
    const muProduct = (scalars.muProduct as number) * mu;
    scalars.muProduct = muProduct;
    const values: Record<string, number> = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      biasCorrection2: 1 - beta2 ** t,
      eps: o.eps,
      gradCoef: (o.lr * (1 - mu)) / (1 - muProduct),
      momentumCoef: (o.lr * muNext) / (1 - muProduct * muNext),
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
      'const denom = Math.sqrt(expAvgSq / biasCorrection2) + eps;',
      'theta = theta - (gradCoef * g) / denom;',
      'theta = theta - (momentumCoef * expAvg) / denom;',
    );
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
