import type { RmspropOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s, type SimdStmt } from './simd.js';

/**
 * RMSprop (core `optimizers/rmsprop.ts`): g ← ±∇ + λθ; s ← αs + (1 − α)g²; centered: ḡ ← αḡ + (1 − α)g and
 * a ← √(s − ḡ²), else a ← √s; a ← a + ε; with momentum b ← μb + g/a, θ ← θ − ηb; else θ ← θ − ηg/a.
 */
export const rmspropFused = programKernel<RmspropOptions>()({
  coefficients: (o) => ({ lr: o.lr, alpha: o.alpha, oneMinusAlpha: 1 - o.alpha, eps: o.eps, lambda: o.weightDecay, mu: o.momentum }),
  key: (o) => `rmsprop:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.centered)}${flag(o.momentum > 0)}`,
  program(o) {
    const body: SimdStmt[] = [loadGrad(o.maximize), ...coupledDecay(o.weightDecay)];
    body.push(s.store('squareAvg', s.add(s.mul(s.scalar('alpha'), s.load('squareAvg')), s.mul(s.mul(s.scalar('oneMinusAlpha'), s.ref('g')), s.ref('g')))));
    if (o.centered) {
      body.push(
        s.store('gradAvg', s.add(s.mul(s.scalar('alpha'), s.load('gradAvg')), s.mul(s.scalar('oneMinusAlpha'), s.ref('g')))),
        s.let('avg', s.sqrt(s.sub(s.load('squareAvg'), s.mul(s.load('gradAvg'), s.load('gradAvg'))))),
      );
    } else {
      body.push(s.let('avg', s.sqrt(s.load('squareAvg'))));
    }
    body.push(s.let('avg', s.add(s.ref('avg'), s.scalar('eps'))));
    if (o.momentum > 0) {
      body.push(
        s.store('momentumBuffer', s.add(s.mul(s.scalar('mu'), s.load('momentumBuffer')), s.div(s.ref('g'), s.ref('avg')))),
        s.store('out', s.sub(s.load('theta'), s.mul(s.scalar('lr'), s.load('momentumBuffer')))),
      );
    } else {
      body.push(s.store('out', s.sub(s.load('theta'), s.div(s.mul(s.scalar('lr'), s.ref('g')), s.ref('avg')))));
    }
    const arrays = ['theta', 'out', 'grad', 'squareAvg', ...(o.momentum > 0 ? ['momentumBuffer'] : []), ...(o.centered ? ['gradAvg'] : [])];
    return { arrays, scalars: ['lr', 'alpha', 'oneMinusAlpha', 'eps', 'lambda', 'mu'], body };
  },
});
