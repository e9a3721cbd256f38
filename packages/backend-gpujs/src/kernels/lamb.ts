import type { LambOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * LAMB on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/lamb.ts`. Three
 * device passes per parameter: the reduction ‖θ‖², the moments with the Adam step u (a temporary buffer `update`)
 * followed by the reduction ‖u‖², and θ − (η·s·r)·u. Norms and the trust ratio are Float64 host scalars.
 */
export const lambKernel: GpujsKernel<LambOptions> = {
  *update({ options: o, size, step: t, run, sumSquares }) {
    const [beta1, beta2] = o.betas;
    const s = o.debias ? Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) : 1;
    const stepSize = o.lr * s;
    const weightNorm = Math.min(Math.max(Math.sqrt(yield* sumSquares('param')), 0), o.clampValue);

    const values: Record<string, number> = { beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, eps: o.eps };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
        scalars: Object.keys(values),
        body: `expAvg = beta1 * expAvg + oneMinusBeta1 * g;
expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;
let u = expAvg / (Math.sqrt(expAvgSq) + eps);
${o.weightDecay !== 0 ? 'u = u + weightDecay * theta;' : ''}`,
        writes: { expAvg: 'expAvg', expAvgSq: 'expAvgSq', update: 'u' },
      }),
      values,
    );
    const adamNorm = Math.sqrt(yield* sumSquares('update'));

    let trustRatio = weightNorm === 0 || adamNorm === 0 ? 1 : weightNorm / adamNorm;
    if (o.adam) trustRatio = 1;
    run(
      elementwise(size, {
        reads: { theta: 'param', u: 'update' },
        scalars: ['stepRatio'],
        body: 'theta = theta - stepRatio * u;',
        writes: { param: 'theta' },
      }),
      { stepRatio: stepSize * trustRatio },
    );
  },
};
