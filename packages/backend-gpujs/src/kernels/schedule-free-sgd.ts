import type { ScheduleFreeSgdOptions } from '@descent/core';
import { scheduleFreeAverageWeight, scheduleFreeWarmup } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * Schedule-Free SGD on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/schedule-free-sgd.ts`. The warmed-up lr, the average's weight c_{t+1} and the scalars
 * `lrMax`/`weightSum` are Float64 host values. On a parameter's first step the program reads z and x from the
 * parameter (upstream's lazy state z = x = y = θ).
 */
export const scheduleFreeSgdKernel: GpujsKernel<ScheduleFreeSgdOptions> = {
  update({ options: o, size, step: t, scalars, run }) {
    const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps);
    const ckp1 = scheduleFreeAverageWeight(scalars, lr, t, o.r, o.weightLrPower);
    const values: Record<string, number> = { lr, ckp1, oneMinusCkp1: 1 - ckp1, momentum: o.momentum, oneMinusMomentum: 1 - o.momentum };
    const body: string[] = [];
    if (o.weightDecay !== 0) {
      values.weightDecay = o.weightDecay;
      body.push('g = g + weightDecay * theta;');
    }
    body.push('z = z - lr * g;', 'x = x * oneMinusCkp1 + ckp1 * z;', 'theta = x * momentum + oneMinusMomentum * z;');
    const first = t === 1;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', z: first ? 'param' : 'z', x: first ? 'param' : 'x' },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', z: 'z', x: 'x' },
      }),
      values,
    );
  },
};
