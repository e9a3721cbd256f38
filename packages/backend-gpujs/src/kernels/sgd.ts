import type { SgdOptions } from '@descent/core';
import { elementwise, gradientPrologue, same, type GpujsKernel } from '../kernel.js';

/**
 * SGD on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/sgd.ts`. The
 * momentum buffer is b ← μ_t·b + c_t·g with host scalars (μ_t, c_t) = (0, 1) on a parameter's first step (the
 * buffer was just initialised to 0, so this is b = g exactly) and (μ, 1 − τ) afterwards.
 */
export const sgdKernel: GpujsKernel<SgdOptions> = {
  update({ options: o, size, step, run }) {
    const b = o.momentum !== 0;
    const slots = b ? ['momentumBuffer'] : [];
    const body = [gradientPrologue(o), 'let d = g;'];
    if (b) {
      body.push('momentumBuffer = bufferDecay * momentumBuffer + gradientWeight * g;');
      body.push(o.nesterov ? 'd = g + momentum * momentumBuffer;' : 'd = momentumBuffer;');
    }
    body.push('theta = theta - lr * d;');
    const values: Record<string, number> = { lr: o.lr };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    if (b) {
      values.bufferDecay = step === 1 ? 0 : o.momentum;
      values.gradientWeight = step === 1 ? 1 : 1 - o.dampening;
      if (o.nesterov) values.momentum = o.momentum;
    }
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
