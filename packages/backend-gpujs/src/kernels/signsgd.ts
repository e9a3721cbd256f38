import type { SignsgdOptions } from '@descent/core';
import { elementwise, same, signOf, type GpujsKernel } from '../kernel.js';

/** signSGD / Signum on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/signsgd.ts`. */
export const signsgdKernel: GpujsKernel<SignsgdOptions> = {
  update({ options: o, size, run }) {
    const m = o.momentum > 0;
    const slots = m ? ['momentumBuffer'] : [];
    const values: Record<string, number> = { lr: o.lr, decay: 1 - o.lr * o.weightDecay };
    if (m) Object.assign(values, { beta: o.momentum, oneMinusBeta: 1 - o.momentum });
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', ...same(slots) },
        scalars: Object.keys(values),
        body: `${o.maximize ? 'g = -g;' : ''}
theta = theta * decay;
let d = g;
${m ? 'momentumBuffer = beta * momentumBuffer + oneMinusBeta * g;\nd = momentumBuffer;' : ''}
theta = theta - lr * ${signOf('d')};`,
        writes: { param: 'theta', ...same(slots) },
      }),
      values,
    );
  },
};
