import type { AdamAtan2Options } from '@descent/core';
import { fused } from './kernel.js';

/**
 * Adam-atan2 (core `optimizers/adam-atan2.ts`): θ ← θ(1 − ηλ); m, v as Adam; θ ← θ − η·a·atan2(m̂, b·√v̂).
 * A hand-written loop (WebAssembly SIMD has no atan2, so there is no program to share).
 */
export const adamAtan2Fused = fused<AdamAtan2Options>()({
  coefficients: (o, t) => ({
    lr: o.lr,
    beta1: o.betas[0],
    beta2: o.betas[1],
    oneMinusBeta1: 1 - o.betas[0],
    oneMinusBeta2: 1 - o.betas[1],
    lambda: o.weightDecay,
    shrink: 1 - o.lr * o.weightDecay,
    a: o.a,
    b: o.b,
    biasCorrection1: 1 - o.betas[0] ** t,
    biasCorrection2: 1 - o.betas[1] ** t,
  }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, lambda, shrink, a, b, biasCorrection1, biasCorrection2 } = k;
    const maximize = o.maximize;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    for (let i = start; i < end; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = theta[i] as number;
      if (lambda > 0) out[i] = (out[i] as number) * shrink;
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      v[i] = beta2 * (v[i] as number) + oneMinusBeta2 * g * g;
      const mHat = (m[i] as number) / biasCorrection1;
      const vHat = (v[i] as number) / biasCorrection2;
      out[i] = (out[i] as number) - lr * a * Math.atan2(mHat, b * Math.sqrt(vHat));
    }
  },
});

