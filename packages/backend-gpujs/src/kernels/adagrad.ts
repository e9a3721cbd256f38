import type { AdagradOptions } from '@descent/core';
import { elementwise, gradientPrologue, type GpujsKernel } from '../kernel.js';

/**
 * Adagrad on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/adagrad.ts`.
 * The decayed learning rate η / (1 + (t − 1)δ) is a Float64 host scalar.
 */
export const adagradKernel: GpujsKernel<AdagradOptions> = {
  update({ options: o, size, step: t, run }) {
    const values: Record<string, number> = { clr: o.lr / (1 + (t - 1) * o.lrDecay), eps: o.eps };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', sum: 'sum' },
        scalars: Object.keys(values),
        body: `${gradientPrologue(o)}
sum = sum + g * g;
const std = Math.sqrt(sum) + eps;
theta = theta - (clr * g) / std;`,
        writes: { param: 'theta', sum: 'sum' },
      }),
      values,
    );
  },
};
