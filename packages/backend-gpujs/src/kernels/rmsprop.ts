import type { RmspropOptions } from '@descent/core';
import { elementwise, gradientPrologue, same, type GpujsKernel } from '../kernel.js';

/**
 * RMSprop (plain, centered, with momentum) on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/rmsprop.ts`, including the unclamped centered variance s − ḡ² (NaN when rounding makes
 * it negative, as in PyTorch).
 */
export const rmspropKernel: GpujsKernel<RmspropOptions> = {
  update({ options: o, size, run }) {
    const b = o.momentum > 0;
    const slots = ['squareAvg', ...(b ? ['momentumBuffer'] : []), ...(o.centered ? ['gradAvg'] : [])];
    const body = [gradientPrologue(o), 'squareAvg = alpha * squareAvg + oneMinusAlpha * g * g;'];
    if (o.centered) {
      body.push('gradAvg = alpha * gradAvg + oneMinusAlpha * g;');
      body.push('let avg = Math.sqrt(squareAvg - gradAvg * gradAvg);');
    } else {
      body.push('let avg = Math.sqrt(squareAvg);');
    }
    body.push('avg = avg + eps;');
    if (b) body.push('momentumBuffer = momentum * momentumBuffer + g / avg;', 'theta = theta - lr * momentumBuffer;');
    else body.push('theta = theta - (lr * g) / avg;');
    const values: Record<string, number> = { lr: o.lr, alpha: o.alpha, oneMinusAlpha: 1 - o.alpha, eps: o.eps };
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    if (b) values.momentum = o.momentum;
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
