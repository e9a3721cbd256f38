import type { AdagradOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s } from './simd.js';

/** Adagrad (core `optimizers/adagrad.ts`): g ← ±∇ + λθ; S ← S + g²; θ ← θ − η̃g/(√S + ε), η̃ = η/(1 + (t − 1)·decay). */
export const adagradFused = programKernel<AdagradOptions>()({
  coefficients: (o, t) => ({ clr: o.lr / (1 + (t - 1) * o.lrDecay), eps: o.eps, lambda: o.weightDecay }),
  key: (o) => `adagrad:${flag(o.maximize)}${flag(o.weightDecay !== 0)}`,
  program: (o) => ({
    arrays: ['theta', 'out', 'grad', 'sum'],
    scalars: ['clr', 'eps', 'lambda'],
    body: [
      loadGrad(o.maximize),
      ...coupledDecay(o.weightDecay),
      s.store('sum', s.add(s.load('sum'), s.mul(s.ref('g'), s.ref('g')))),
      s.let('std', s.add(s.sqrt(s.load('sum')), s.scalar('eps'))),
      s.store('out', s.sub(s.load('theta'), s.div(s.mul(s.scalar('clr'), s.ref('g')), s.ref('std')))),
    ],
  }),
});
