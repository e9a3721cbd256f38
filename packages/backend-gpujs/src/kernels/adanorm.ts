import type { AdanormOptions } from '@descent/core';
import { ADANORM_V_EPS } from '@descent/core';
import { elementwise, same, type GpujsKernel } from '../kernel.js';

/**
 * AdaNorm (AdamNorm form) on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adanorm.ts`. The gradient norm is read back (float32 block sums added in Float64, after a
 * pass that applies `maximize` and the L2 term where there is one); the norm history e, stored as a one-element
 * buffer, is updated on the host in Float64, and the rescale decision with it. Where the rescale does not apply,
 * the factors are 1 and s = g·1/1 = g exactly.
 */
export const adanormKernel: GpujsKernel<AdanormOptions> = {
  *update({ options: o, size, step: t, run, sumSquares, read, write }) {
    const [beta1, beta2] = o.betas;
    const l2 = !o.decoupledWeightDecay && o.weightDecay > 0;
    const decay = 1 - o.weightDecay * (o.fixedDecay ? 1 : o.lr);
    const prologue = [o.maximize ? 'g = -g;' : '', l2 ? 'g = g + weightDecay * theta;' : ''].join('\n');
    let normBuffer = 'grad';
    if (l2) {
      run(
        elementwise(size, { reads: { theta: 'param', g: 'grad' }, scalars: ['weightDecay'], body: prologue, writes: { gradL2: 'g' } }),
        { weightDecay: o.weightDecay },
      );
      normBuffer = 'gradL2';
    }
    const gradNorm = Math.sqrt(yield* sumSquares(normBuffer));
    const eOld = (yield* read('expGradNorm'))[0] as number;
    const eNew = o.r * eOld + (1 - o.r) * gradNorm;
    write('expGradNorm', [eNew]);
    const rescale = eNew > gradNorm && gradNorm !== 0;

    const slots = ['expAvg', 'expAvgVar', ...(o.amsBound ? ['maxExpAvgVar'] : [])];
    const values: Record<string, number> = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      numerator: rescale ? eNew : 1,
      denominator: rescale ? gradNorm : 1,
      vEps: ADANORM_V_EPS,
      eps: o.eps,
      biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** t),
      minusStepSize: -o.lr / (1 - beta1 ** t),
    };
    if (l2) values.weightDecay = o.weightDecay;
    const body = [prologue];
    if (o.decoupledWeightDecay && decay !== 1) {
      values.decay = decay;
      body.push('theta = theta * decay;');
    }
    body.push(
      'const s = (g * numerator) / denominator;',
      'expAvg = beta1 * expAvg + oneMinusBeta1 * s;',
      'expAvgVar = beta2 * expAvgVar + oneMinusBeta2 * g * g;',
      'let vHat = expAvgVar;',
      ...(o.amsBound ? ['maxExpAvgVar = Math.max(maxExpAvgVar, vHat);', 'vHat = maxExpAvgVar;'] : []),
      'const denom = (Math.sqrt(vHat + vEps) + eps) / biasCorrection2Sqrt;',
      'theta = theta + (minusStepSize * expAvg) / denom;',
    );
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
