import type { AdamOptions } from '@descent/core';
import { elementwise, gradientPrologue, same, type GpujsKernel } from '../kernel.js';

/** The moment updates and step of Adam and AdamW, after the gradient (and any decay of θ) is prepared. */
export function adamCore(amsgrad: boolean): string {
  return [
    'expAvg = beta1 * expAvg + oneMinusBeta1 * g;',
    'expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;',
    'let vHat = expAvgSq;',
    ...(amsgrad ? ['maxExpAvgSq = Math.max(maxExpAvgSq, vHat);', 'vHat = maxExpAvgSq;'] : []),
    'const denom = Math.sqrt(vHat) / biasCorrection2Sqrt + eps;',
    'theta = theta - (stepSize * expAvg) / denom;',
  ].join('\n');
}

/** Host scalars of Adam's step t, in Float64. */
export function adamScalars(o: { lr: number; betas: readonly [number, number]; eps: number }, t: number): Record<string, number> {
  const [beta1, beta2] = o.betas;
  return {
    beta1,
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** t),
    eps: o.eps,
    stepSize: o.lr / (1 - beta1 ** t),
  };
}

export function adamSlots(amsgrad: boolean): string[] {
  return ['expAvg', 'expAvgSq', ...(amsgrad ? ['maxExpAvgSq'] : [])];
}

/**
 * Adam / AMSGrad on gpu.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adam.ts`. Bias corrections are Float64 host scalars.
 */
export const adamKernel: GpujsKernel<AdamOptions> = {
  update({ options: o, size, step, run }) {
    const slots = adamSlots(o.amsgrad);
    const values = adamScalars(o, step);
    if (o.weightDecay !== 0) values.weightDecay = o.weightDecay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', ...same(slots) },
        scalars: Object.keys(values),
        body: `${gradientPrologue(o)}\n${adamCore(o.amsgrad)}`,
        writes: { param: 'theta', ...same(slots) },
      }),
      values,
    );
  },
};
