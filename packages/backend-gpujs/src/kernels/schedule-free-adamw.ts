import type { ScheduleFreeAdamwOptions } from '@descent/core';
import { powInt, scheduleFreeAverageWeight, scheduleFreeWarmup } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * Schedule-Free AdamW on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/schedule-free-adamw.ts`. The lr γ·s_t·√(1 − β₂ᵗ), the average's weight c_{t+1} and the
 * scalars `lrMax`/`weightSum` are Float64 host values. On a parameter's first step the program reads z and x from
 * the parameter (upstream's lazy state z = x = y = θ).
 */
export const scheduleFreeAdamwKernel: GpujsKernel<ScheduleFreeAdamwOptions> = {
  update({ options: o, size, step: t, scalars, run }) {
    const [beta1, beta2] = o.betas;
    const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps) * Math.sqrt(1 - powInt(beta2, t));
    const ckp1 = scheduleFreeAverageWeight(scalars, lr, t, o.r, o.weightLrPower);
    const values: Record<string, number> = {
      lr,
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      ckp1,
      oneMinusCkp1: 1 - ckp1,
    };
    const body: string[] = [];
    if (o.weightDecay !== 0) {
      values.decayRate = lr * o.weightDecay;
      body.push(o.decayAtZ ? 'z = z - decayRate * z;' : 'z = z - decayRate * theta;');
    }
    body.push(
      'expAvgSq = expAvgSq * beta2 + oneMinusBeta2 * g * g;',
      'const denom = Math.sqrt(expAvgSq) + eps;',
      'z = z - (lr * g) / denom;',
      'x = x * oneMinusCkp1 + ckp1 * z;',
      'theta = x * beta1 + oneMinusBeta1 * z;',
    );
    const first = t === 1;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', z: first ? 'param' : 'z', x: first ? 'param' : 'x', expAvgSq: 'expAvgSq' },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', z: 'z', x: 'x', expAvgSq: 'expAvgSq' },
      }),
      values,
    );
  },
};
