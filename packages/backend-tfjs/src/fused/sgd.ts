import type { SgdOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s, type SimdStmt } from './simd.js';

/**
 * SGD (core `optimizers/sgd.ts`): g ← ±∇ + λθ; with momentum b ← g on the first step, else μb + (1 − τ)g, and
 * d ← g + μb (Nesterov) or b; θ ← θ − ηd. The first step is a program of its own, so no loop branches per element.
 */
export const sgdFused = programKernel<SgdOptions>()({
  coefficients: (o, step) => ({ lr: o.lr, mu: o.momentum, oneMinusTau: 1 - o.dampening, lambda: o.weightDecay, first: step === 1 ? 1 : 0 }),
  key: (o, k) => `sgd:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.momentum !== 0)}${flag(o.nesterov)}${flag(k.first === 1)}`,
  program(o, k) {
    const momentum = o.momentum !== 0;
    const body: SimdStmt[] = [loadGrad(o.maximize), ...coupledDecay(o.weightDecay)];
    let d = s.ref('g');
    if (momentum) {
      const b = s.load('momentumBuffer');
      body.push(s.store('momentumBuffer', k.first === 1 ? s.ref('g') : s.add(s.mul(s.scalar('mu'), b), s.mul(s.scalar('oneMinusTau'), s.ref('g')))));
      d = o.nesterov ? s.add(s.ref('g'), s.mul(s.scalar('mu'), b)) : b;
    }
    body.push(s.store('out', s.sub(s.load('theta'), s.mul(s.scalar('lr'), d))));
    return { arrays: ['theta', 'out', 'grad', ...(momentum ? ['momentumBuffer'] : [])], scalars: ['lr', 'mu', 'oneMinusTau', 'lambda'], body };
  },
});
