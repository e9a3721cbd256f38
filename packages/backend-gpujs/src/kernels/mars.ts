import type { MarsOptions } from '@descent/core';
import { marsBranch, marsLr1d, powInt } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';

/**
 * MARS (mars-adamw) on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/mars.ts`. On the MARS branch a first pass writes c_t (temporary `c`) and the reduction
 * ‖c_t‖² is read back (float32 block sums added in Float64); the clipping divisor max(‖c_t‖, 1) and the bias
 * corrections are host scalars. The other parameters take the AdamW step in one pass.
 */
export const marsKernel: GpujsKernel<MarsOptions> = {
  *update({ options: o, shape, size, step: t, run, sumSquares }) {
    const isMars = marsBranch(o, shape);
    const [beta1, beta2] = isMars ? o.betas : o.betas1d;
    const values: Record<string, number> = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      biasCorrection1: 1 - powInt(beta1, t),
      invSqrtBc2: 1 / Math.sqrt(1 - powInt(beta2, t)),
      wd: isMars ? o.weightDecay : o.weightDecay1d,
      negLr: -(isMars ? o.lr : marsLr1d(o)),
    };
    let source = 'grad';
    if (isMars) {
      run(
        elementwise(size, {
          reads: { g: 'grad', last: 'lastGrad' },
          scalars: ['coef'],
          body: 'const c = (g - last) * coef + g;',
          writes: { c: 'c' },
        }),
        { coef: o.gamma * (beta1 / (1 - beta1)) },
      );
      const norm = Math.sqrt(yield* sumSquares('c'));
      values.divisor = norm > 1 ? norm : 1;
      source = 'c';
    }
    const amsgrad = o.amsgrad;
    const body = [
      isMars ? 'c = c / divisor;' : '',
      'expAvg = expAvg * beta1 + oneMinusBeta1 * c;',
      'expAvgSq = expAvgSq * beta2 + oneMinusBeta2 * c * c;',
      'let vHat = expAvgSq;',
      amsgrad ? 'maxExpAvgSq = Math.max(maxExpAvgSq, expAvgSq);\nvHat = maxExpAvgSq;' : '',
      'const denom = (Math.sqrt(vHat) * invSqrtBc2 + eps) * biasCorrection1;',
      'theta = theta + (theta * wd + expAvg / denom) * negLr;',
    ];
    const slots = amsgrad ? { expAvg: 'expAvg', expAvgSq: 'expAvgSq', maxExpAvgSq: 'maxExpAvgSq' } : { expAvg: 'expAvg', expAvgSq: 'expAvgSq' };
    run(
      elementwise(size, {
        reads: { theta: 'param', c: source, g: 'grad', ...slots },
        scalars: Object.keys(values),
        body: body.filter((l) => l !== '').join('\n'),
        writes: { param: 'theta', lastGrad: 'g', ...slots },
      }),
      values,
    );
  },
};
