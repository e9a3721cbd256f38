import type { AdamAtan2Options } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * Adam-atan2 on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adam-atan2.ts`. `Math.atan2` runs as the host's (webasm imports it from JavaScript, the
 * result rounded to float32), as GLSL's `atan(y, x)` or as WGSL's `atan2` (see the numerical quirks in `gpu.ts`).
 * A zero first moment is written out as a zero update: WebGPU on SwiftShader returns atan2(−0, x > 0) = π (and
 * flushes denormal moments to −0), where JavaScript gives −0; the sign of a zero update changes nothing.
 */
export const adamAtan2Kernel: GpujsKernel<AdamAtan2Options> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const values: Record<string, number> = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      biasCorrection1: 1 - beta1 ** t,
      biasCorrection2: 1 - beta2 ** t,
      b: o.b,
      lrA: o.lr * o.a,
    };
    if (o.weightDecay > 0) values.decay = 1 - o.lr * o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
        scalars: Object.keys(values),
        body: `${o.maximize ? 'g = -g;' : ''}
${o.weightDecay > 0 ? 'theta = theta * decay;' : ''}
expAvg = beta1 * expAvg + oneMinusBeta1 * g;
expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;
const mHat = expAvg / biasCorrection1;
const vHat = expAvgSq / biasCorrection2;
theta = theta - lrA * (mHat === 0.0 ? 0.0 : Math.atan2(mHat, b * Math.sqrt(vHat)));`,
        writes: { param: 'theta', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
      }),
      values,
    );
  },
};
