import type { PnmOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * Positive-Negative Momentum on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/pnm.ts`. The step's parity picks, on the host, which buffer is read and written as the
 * positive momentum; β₁², 1/ν and the decay factor are Float64 host scalars.
 */
export const pnmKernel: GpujsKernel<PnmOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta0] = o.betas;
    const odd = t % 2 === 1;
    const [posBuffer, negBuffer] = odd ? ['posMomentum', 'negMomentum'] : ['negMomentum', 'posMomentum'];
    const beta1Sq = beta1 ** 2;
    const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
    const values: Record<string, number> = {
      beta1Sq,
      oneMinusBeta1Sq: 1 - beta1Sq,
      onePlusBeta0: 1 + beta0,
      minusBeta0: -beta0,
      invNoiseNorm: 1 / Math.sqrt((1 + beta0) ** 2 + beta0 ** 2),
      minusLr: -o.lr,
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
      'const delta = (pos * onePlusBeta0 + minusBeta0 * neg) * invNoiseNorm;',
      'theta = theta + minusLr * delta;',
    );
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', pos: posBuffer!, neg: negBuffer! },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', [posBuffer!]: 'pos' },
      }),
      values,
    );
  },
};
