import type { AdoptOptions } from '@descent/core';
import { adoptClip } from '@descent/core';
import { elementwise, same, type GpujsKernel } from '../kernel.js';

/**
 * ADOPT on gpu.js; the update rule and its order of operations are those of `core/src/optimizers/adopt.ts` (the
 * first step only initialises v). The clip bound s^{1/4} and the lerp weight 1 − β₁ are Float64 host scalars, and
 * the lerp's branch (torch.lerp's, by |w| < ½) is chosen on the host.
 */
export const adoptKernel: GpujsKernel<AdoptOptions> = {
  update({ options: o, size, step: t, run }) {
    const [beta1, beta2] = o.betas;
    const lambda = o.weightDecay;
    const slots = ['expAvg', 'expAvgSq'];
    const values: Record<string, number> = {};
    const body = o.maximize ? ['g = -g;'] : [];
    if (lambda !== 0 && !o.decoupledWeightDecay) {
      values.weightDecay = lambda;
      body.push('g = g + weightDecay * theta;');
    }
    if (t === 1) {
      body.push('expAvgSq = expAvgSq + g * g;');
    } else {
      if (lambda !== 0 && o.decoupledWeightDecay) {
        values.minusLrLambda = -o.lr * lambda;
        body.push('theta = theta + minusLrLambda * theta;');
      }
      values.eps = o.eps;
      body.push('let normed = g / Math.max(Math.sqrt(expAvgSq), eps);');
      const clip = adoptClip(o.clipLambda, t - 1);
      if (Number.isFinite(clip)) {
        values.clip = clip;
        values.minusClip = -clip;
        body.push('normed = Math.min(Math.max(normed, minusClip), clip);');
      }
      const w = 1 - beta1;
      values.w = w;
      values.oneMinusW = 1 - w;
      body.push(w < 0.5 ? 'expAvg = expAvg + w * (normed - expAvg);' : 'expAvg = normed - (normed - expAvg) * oneMinusW;');
      values.minusLr = -o.lr;
      values.beta2 = beta2;
      values.oneMinusBeta2 = 1 - beta2;
      body.push('theta = theta + minusLr * expAvg;', 'expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;');
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
