import type { DiffgradOptions } from '@descent/core';
import { elementwise, gradientPrologue, same, type GpujsKernel } from '../kernel.js';

/**
 * diffGrad on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/diffgrad.ts`
 * (the friction coefficient as 1/(1 + exp(−|g_{t−1} − g_t|))). The step size η√c₂/c₁ is a Float64 host scalar.
 */
export const diffgradKernel: GpujsKernel<DiffgradOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const slots = ['expAvg', 'expAvgSq', 'previousGrad'];
    const values: Record<string, number> = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      minusStepSize: -(o.lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t),
    };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    const body = [
      gradientPrologue(o),
      'expAvg = beta1 * expAvg + oneMinusBeta1 * g;',
      'expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;',
      'const denom = Math.sqrt(expAvgSq) + eps;',
      'const friction = 1.0 / (1.0 + Math.exp(-Math.abs(previousGrad - g)));',
      'previousGrad = g;',
      'theta = theta + (minusStepSize * (expAvg * friction)) / denom;',
    ];
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
