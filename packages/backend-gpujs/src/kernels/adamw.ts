import type { AdamwOptions } from '@descent/core';
import { elementwise, same, type GpujsKernel } from '../kernel.js';
import { adamCore, adamScalars, adamSlots } from './adam.js';

/**
 * AdamW on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/adamw.ts`:
 * θ·(1 − ηλ) first, then Adam's step with the gradient alone.
 */
export const adamwKernel: GpujsKernel<AdamwOptions> = {
  update({ options: o, size, step, run }) {
    const slots = adamSlots(o.amsgrad);
    const values = { ...adamScalars(o, step), shrink: 1 - o.lr * o.weightDecay };
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', ...same(slots) },
        scalars: Object.keys(values),
        body: `${o.maximize ? 'g = -g;\n' : ''}theta = theta * shrink;\n${adamCore(o.amsgrad)}`,
        writes: { param: 'theta', ...same(slots) },
      }),
      values,
    );
  },
};
