import type { AdamOptions } from '@descent/core';
import { adamArrays, adamCoefficients, adamProgramTail, adamScalars } from './adam-common.js';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';

/**
 * Adam (core `optimizers/adam.ts`): g ← ±∇ + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; v̂ ← max(v̂, v)
 * (AMSGrad) or v; θ ← θ − (η/(1 − β₁ᵗ))·m / (√v̂/√(1 − β₂ᵗ) + ε).
 */
export const adamFused = programKernel<AdamOptions>()({
  coefficients: (o, t) => ({ ...adamCoefficients(o.lr, o.betas[0], o.betas[1], o.eps, t), lambda: o.weightDecay }),
  key: (o) => `adam:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.amsgrad)}`,
  program: (o) => ({
    arrays: adamArrays(o.amsgrad),
    scalars: [...adamScalars, 'lambda'],
    body: [loadGrad(o.maximize), ...coupledDecay(o.weightDecay), ...adamProgramTail(o.amsgrad, 'theta')],
  }),
});
