import type { AdadeltaOptions } from '@descent/core';
import { elementwise, gradientPrologue, type GpujsKernel } from '../kernel.js';

/** Adadelta on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/adadelta.ts`. */
export const adadeltaKernel: GpujsKernel<AdadeltaOptions> = {
  update({ options: o, size, run }) {
    const values: Record<string, number> = { lr: o.lr, rho: o.rho, oneMinusRho: 1 - o.rho, eps: o.eps };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', squareAvg: 'squareAvg', accDelta: 'accDelta' },
        scalars: Object.keys(values),
        body: `${gradientPrologue(o)}
squareAvg = rho * squareAvg + oneMinusRho * g * g;
const std = Math.sqrt(squareAvg + eps);
const delta = (Math.sqrt(accDelta + eps) / std) * g;
accDelta = rho * accDelta + oneMinusRho * delta * delta;
theta = theta - lr * delta;`,
        writes: { param: 'theta', squareAvg: 'squareAvg', accDelta: 'accDelta' },
      }),
      values,
    );
  },
};
