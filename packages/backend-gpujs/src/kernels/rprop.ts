import type { RpropOptions } from '@descent/core';
import { elementwise, signOf, type GpujsKernel } from '../kernel.js';

/**
 * Rprop (iRprop⁻) on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/rprop.ts`. The sign of g·p is taken by comparisons: a NaN product leaves the factor NaN,
 * as the reference (and PyTorch) do.
 */
export const rpropKernel: GpujsKernel<RpropOptions> = {
  update({ options: o, size, run }) {
    const [etaMinus, etaPlus] = o.etas;
    const [stepSizeMin, stepSizeMax] = o.stepSizes;
    const values = { etaMinus, etaPlus, stepSizeMin, stepSizeMax };
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', prev: 'prev', stepSize: 'stepSize' },
        scalars: Object.keys(values),
        body: `${o.maximize ? 'g = -g;' : ''}
const gp = g * prev;
let factor = gp;
if (gp > 0.0) { factor = etaPlus; } else if (gp < 0.0) { factor = etaMinus; } else if (gp === 0.0) { factor = 1.0; }
stepSize = Math.min(Math.max(stepSize * factor, stepSizeMin), stepSizeMax);
if (gp < 0.0) { g = 0.0; }
theta = theta - ${signOf('g')} * stepSize;
prev = g;`,
        writes: { param: 'theta', prev: 'prev', stepSize: 'stepSize' },
      }),
      values,
    );
  },
};
