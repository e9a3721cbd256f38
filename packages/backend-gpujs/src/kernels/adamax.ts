import type { AdamaxOptions } from '@descent/core';
import { elementwise, gradientPrologue, type GpujsKernel } from '../kernel.js';

/**
 * Adamax on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/adamax.ts`.
 * `Math.max` propagates NaN on webasm and cpu as in the reference; GLSL's `max` does not (see the numerical quirks in `gpu.ts`).
 */
export const adamaxKernel: GpujsKernel<AdamaxOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const values: Record<string, number> = { beta1, oneMinusBeta1: 1 - beta1, beta2, eps: o.eps, clr: o.lr / (1 - beta1 ** t) };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvg: 'expAvg', expInf: 'expInf' },
        scalars: Object.keys(values),
        body: `${gradientPrologue(o)}
expAvg = beta1 * expAvg + oneMinusBeta1 * g;
expInf = Math.max(beta2 * expInf, Math.abs(g) + eps);
theta = theta - (clr * expAvg) / expInf;`,
        writes: { param: 'theta', expAvg: 'expAvg', expInf: 'expInf' },
      }),
      values,
    );
  },
};
