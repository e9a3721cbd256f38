import type { LionOptions } from '@descent/core';
import { elementwise, signOf, type GpujsKernel } from '../kernel.js';

/**
 * Lion on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/lion.ts`
 * (decay, sign step with the interpolated momentum, then the momentum update).
 */
export const lionKernel: GpujsKernel<LionOptions> = {
  update({ options: o, size, run }) {
    const [beta1, beta2] = o.betas;
    const values = { lr: o.lr, decay: 1 - o.lr * o.weightDecay, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2 };
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvg: 'expAvg' },
        scalars: Object.keys(values),
        body: `${o.maximize ? 'g = -g;' : ''}
theta = theta * decay;
const c = beta1 * expAvg + oneMinusBeta1 * g;
theta = theta - lr * ${signOf('c')};
expAvg = beta2 * expAvg + oneMinusBeta2 * g;`,
        writes: { param: 'theta', expAvg: 'expAvg' },
      }),
      values,
    );
  },
};
