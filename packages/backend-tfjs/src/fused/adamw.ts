import type { AdamwOptions } from '@descent/core';
import { adamArrays, adamCoefficients, adamProgramTail, adamScalars } from './adam-common.js';
import { flag, loadGrad, programKernel } from './kernel.js';
import { simd as s } from './simd.js';

/** AdamW (core `optimizers/adamw.ts`): θ ← θ(1 − ηλ), then Adam's step on ±∇ (see `adam.ts`). */
export const adamwFused = programKernel<AdamwOptions>()({
  coefficients: (o, t) => ({ ...adamCoefficients(o.lr, o.betas[0], o.betas[1], o.eps, t), shrink: 1 - o.lr * o.weightDecay }),
  key: (o) => `adamw:${flag(o.maximize)}${flag(o.amsgrad)}`,
  program: (o) => ({
    arrays: adamArrays(o.amsgrad),
    scalars: [...adamScalars, 'shrink'],
    body: [loadGrad(o.maximize), s.store('out', s.mul(s.load('theta'), s.scalar('shrink'))), ...adamProgramTail(o.amsgrad, 'out')],
  }),
});
