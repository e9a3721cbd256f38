import type { AdadeltaOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s } from './simd.js';

/** Adadelta (core `optimizers/adadelta.ts`): s ← ρs + (1 − ρ)g²; δ ← √(a + ε)/√(s + ε)·g; a ← ρa + (1 − ρ)δ²; θ ← θ − ηδ. */
export const adadeltaFused = programKernel<AdadeltaOptions>()({
  coefficients: (o) => ({ lr: o.lr, rho: o.rho, oneMinusRho: 1 - o.rho, eps: o.eps, lambda: o.weightDecay }),
  key: (o) => `adadelta:${flag(o.maximize)}${flag(o.weightDecay !== 0)}`,
  program: (o) => ({
    arrays: ['theta', 'out', 'grad', 'squareAvg', 'accDelta'],
    scalars: ['lr', 'rho', 'oneMinusRho', 'eps', 'lambda'],
    body: [
      loadGrad(o.maximize),
      ...coupledDecay(o.weightDecay),
      s.store('squareAvg', s.add(s.mul(s.scalar('rho'), s.load('squareAvg')), s.mul(s.mul(s.scalar('oneMinusRho'), s.ref('g')), s.ref('g')))),
      s.let('std', s.sqrt(s.add(s.load('squareAvg'), s.scalar('eps')))),
      s.let('delta', s.mul(s.div(s.sqrt(s.add(s.load('accDelta'), s.scalar('eps'))), s.ref('std')), s.ref('g'))),
      s.store('accDelta', s.add(s.mul(s.scalar('rho'), s.load('accDelta')), s.mul(s.mul(s.scalar('oneMinusRho'), s.ref('delta')), s.ref('delta')))),
      s.store('out', s.sub(s.load('theta'), s.mul(s.scalar('lr'), s.ref('delta')))),
    ],
  }),
});
