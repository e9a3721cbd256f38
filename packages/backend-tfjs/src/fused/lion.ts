import type { LionOptions } from '@descent/core';
import { flag, loadGrad, programKernel } from './kernel.js';
import { simd as s } from './simd.js';

/** Lion (core `optimizers/lion.ts`): θ ← θ(1 − ηλ); c ← β₁m + (1 − β₁)g; θ ← θ − η·sign(c); m ← β₂m + (1 − β₂)g. */
export const lionFused = programKernel<LionOptions>()({
  coefficients: (o) => ({ lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], oneMinusBeta1: 1 - o.betas[0], oneMinusBeta2: 1 - o.betas[1], decay: 1 - o.lr * o.weightDecay }),
  key: (o) => `lion:${flag(o.maximize)}`,
  program: (o) => ({
    arrays: ['theta', 'out', 'grad', 'expAvg'],
    scalars: ['lr', 'beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'decay'],
    body: [
      loadGrad(o.maximize),
      s.store('out', s.mul(s.load('theta'), s.scalar('decay'))),
      s.let('c', s.add(s.mul(s.scalar('beta1'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta1'), s.ref('g')))),
      s.store('out', s.sub(s.load('out'), s.mul(s.scalar('lr'), s.sign(s.ref('c'))))),
      s.store('expAvg', s.add(s.mul(s.scalar('beta2'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta2'), s.ref('g')))),
    ],
  }),
});
