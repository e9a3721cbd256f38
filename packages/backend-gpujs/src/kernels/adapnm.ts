import type { AdapnmOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * AdaPNM on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/adapnm.ts`
 * (torch's addcdiv order). The step's parity picks, on the host, which buffer is the positive momentum; β₁², 1/ν,
 * the bias corrections and the decay factor are Float64 host scalars.
 */
export const adapnmKernel: GpujsKernel<AdapnmOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2, beta0] = o.betas;
    const odd = t % 2 === 1;
    const [posBuffer, negBuffer] = odd ? ['expAvg', 'negExpAvg'] : ['negExpAvg', 'expAvg'];
    const beta1Sq = beta1 ** 2;
    const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
    const values: Record<string, number> = {
      beta1Sq,
      oneMinusBeta1Sq: 1 - beta1Sq,
      beta2,
      oneMinusBeta2: 1 - beta2,
      onePlusBeta0: 1 + beta0,
      minusBeta0: -beta0,
      invNoiseNorm: 1 / Math.sqrt((1 + beta0) ** 2 + beta0 ** 2),
      vEps: 1e-15,
      eps: o.eps,
      biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** t),
      minusStepSize: -o.lr / (1 - beta1 ** t),
    };
    const body = o.maximize ? ['g = -g;'] : [];
    if (o.decoupledWeightDecay) {
      if (decay !== 1) {
        values.decay = decay;
        body.push('theta = theta * decay;');
      }
    } else if (o.weightDecay > 0) {
      values.weightDecay = o.weightDecay;
      body.push('g = g + weightDecay * theta;');
    }
    body.push(
      'pos = beta1Sq * pos + oneMinusBeta1Sq * g;',
      'expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;',
      'let vHat = expAvgSq;',
      ...(o.amsBound ? ['maxExpAvgSq = Math.max(maxExpAvgSq, vHat);', 'vHat = maxExpAvgSq;'] : []),
      'const denom = (Math.sqrt(vHat + vEps) + eps) / biasCorrection2Sqrt;',
      'const pn = (pos * onePlusBeta0 + minusBeta0 * neg) * invNoiseNorm;',
      'theta = theta + (minusStepSize * pn) / denom;',
    );
    const extra = o.amsBound ? { maxExpAvgSq: 'maxExpAvgSq' } : {};
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', pos: posBuffer!, neg: negBuffer!, expAvgSq: 'expAvgSq', ...extra },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', [posBuffer!]: 'pos', expAvgSq: 'expAvgSq', ...extra },
      }),
      values,
    );
  },
};
