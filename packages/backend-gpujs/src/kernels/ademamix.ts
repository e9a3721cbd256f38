import type { AdemamixOptions } from '@descent/core';
import { ademamixSchedule } from '@descent/core';
import { elementwise, same, type GpujsKernel } from '../kernel.js';

/**
 * AdEMAMix on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/ademamix.ts`.
 * The scheduled α and β₃ (core's `ademamixSchedule`) and the bias corrections are Float64 host scalars.
 */
export const ademamixKernel: GpujsKernel<AdemamixOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const { alpha, beta3 } = ademamixSchedule(o, t);
    const hasFast = beta1 !== 0;
    const slots = [...(hasFast ? ['expAvgFast'] : []), 'expAvgSlow', 'expAvgSq'];
    const values: Record<string, number> = {
      beta2,
      oneMinusBeta2: 1 - beta2,
      beta3,
      oneMinusBeta3: 1 - beta3,
      alpha,
      eps: o.eps,
      biasCorrection1: 1 - beta1 ** t,
      biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** t),
      minusLr: -o.lr,
    };
    const body = o.maximize ? ['g = -g;'] : [];
    if (hasFast) {
      values.beta1 = beta1;
      values.oneMinusBeta1 = 1 - beta1;
      body.push('expAvgFast = beta1 * expAvgFast + oneMinusBeta1 * g;', 'const m1 = expAvgFast;');
    } else {
      body.push('const m1 = g;');
    }
    body.push(
      'expAvgSlow = beta3 * expAvgSlow + oneMinusBeta3 * g;',
      'expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;',
      'const denom = Math.sqrt(expAvgSq) / biasCorrection2Sqrt + eps;',
      'let u = (m1 / biasCorrection1 + alpha * expAvgSlow) / denom;',
    );
    if (o.weightDecay !== 0) {
      values.weightDecay = o.weightDecay;
      body.push('u = u + weightDecay * theta;');
    }
    body.push('theta = theta + minusLr * u;');
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
