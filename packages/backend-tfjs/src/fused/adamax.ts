import type { AdamaxOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s } from './simd.js';

/** Adamax (core `optimizers/adamax.ts`): m ← β₁m + (1 − β₁)g; u ← max(β₂u, |g| + ε) (NaN propagates); θ ← θ − (η/(1 − β₁ᵗ))m/u. */
export const adamaxFused = programKernel<AdamaxOptions>()({
  coefficients: (o, t) => ({ beta1: o.betas[0], beta2: o.betas[1], oneMinusBeta1: 1 - o.betas[0], eps: o.eps, lambda: o.weightDecay, clr: o.lr / (1 - o.betas[0] ** t) }),
  key: (o) => `adamax:${flag(o.maximize)}${flag(o.weightDecay !== 0)}`,
  program: (o) => ({
    arrays: ['theta', 'out', 'grad', 'expAvg', 'expInf'],
    scalars: ['beta1', 'beta2', 'oneMinusBeta1', 'eps', 'lambda', 'clr'],
    body: [
      loadGrad(o.maximize),
      ...coupledDecay(o.weightDecay),
      s.store('expAvg', s.add(s.mul(s.scalar('beta1'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta1'), s.ref('g')))),
      s.store('expInf', s.max(s.mul(s.scalar('beta2'), s.load('expInf')), s.add(s.abs(s.ref('g')), s.scalar('eps')))),
      s.store('out', s.sub(s.load('theta'), s.div(s.mul(s.scalar('clr'), s.load('expAvg')), s.load('expInf')))),
    ],
  }),
});
