import type { LarsOptions } from '@descent/core';
import { elementwise, same, type GpujsKernel } from '../kernel.js';

/**
 * LARS on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/lars.ts`. The
 * norms ‖θ‖ and ‖g‖ are device reductions (float32 block sums added in Float64 on the host); the local rate r is a
 * host scalar. The momentum buffer follows SGD's first-step rule through host scalars, as in `sgd.ts`.
 */
export const larsKernel: GpujsKernel<LarsOptions> = {
  *update({ options: o, size, step: t, run, sumSquares }) {
    const adapt = o.weightDecay !== 0 || o.alwaysAdapt;
    let r = 1;
    if (adapt) {
      const wNorm = Math.sqrt(yield* sumSquares('param'));
      const gNorm = Math.sqrt(yield* sumSquares('grad'));
      if (wNorm > 0 && gNorm > 0) r = (o.trustCoefficient * wNorm) / (gNorm + wNorm * o.weightDecay + o.eps);
      if (o.trustClip) r = Math.min(r / o.lr, 1);
    }
    const b = o.momentum !== 0;
    const slots = b ? ['momentumBuffer'] : [];
    const values: Record<string, number> = { lr: o.lr };
    const body = [adapt ? 'const d = (g + weightDecay * theta) * r;' : 'const d = g;', 'let delta = d;'];
    if (adapt) Object.assign(values, { weightDecay: o.weightDecay, r });
    if (b) {
      Object.assign(values, { bufferDecay: t === 1 ? 0 : o.momentum, gradientWeight: t === 1 ? 1 : 1 - o.dampening });
      body.push('momentumBuffer = bufferDecay * momentumBuffer + gradientWeight * d;');
      if (o.nesterov) {
        values.momentum = o.momentum;
        body.push('delta = d + momentum * momentumBuffer;');
      } else {
        body.push('delta = momentumBuffer;');
      }
    }
    body.push('theta = theta - lr * delta;');
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
