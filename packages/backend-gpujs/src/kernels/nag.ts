import type { NagOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * NAG (look-ahead form) on gpu.js; the update rule, its order of operations and the evaluation point
 * θ − γv are those of `core/src/optimizers/nag.ts`.
 */
export const nagKernel: GpujsKernel<NagOptions> = {
  evaluationPoint({ options: o, size, run }) {
    run(
      elementwise(size, {
        reads: { theta: 'param', velocity: 'velocity' },
        scalars: ['momentum'],
        body: 'const point = theta - momentum * velocity;',
        writes: { point: 'point' },
      }),
      { momentum: o.momentum },
    );
  },
  update({ options: o, size, run }) {
    const body = [
      ...(o.maximize ? ['g = -g;'] : []),
      ...(o.weightDecay !== 0 ? ['g = g + weightDecay * (theta - momentum * velocity);'] : []),
      'velocity = momentum * velocity + lr * g;',
      'theta = theta - velocity;',
    ];
    const values: Record<string, number> = { lr: o.lr, momentum: o.momentum };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', velocity: 'velocity' },
        scalars: Object.keys(values),
        body: body.join('\n'),
        writes: { param: 'theta', velocity: 'velocity' },
      }),
      values,
    );
  },
};
