import type { SignsgdOptions } from '@descent/core';
import { flag, loadGrad, programKernel } from './kernel.js';
import { simd as s, type SimdStmt } from './simd.js';

/**
 * signSGD / Signum (core `optimizers/signsgd.ts`): θ ← θ(1 − ηλ); d ← g, or m ← βm + (1 − β)g and d the float64
 * value stored (not its float32 rounding, as in the reference's `d = m[i] = …`); θ ← θ − η·sign(d).
 */
export const signsgdFused = programKernel<SignsgdOptions>()({
  coefficients: (o) => ({ lr: o.lr, beta: o.momentum, oneMinusBeta: 1 - o.momentum, decay: 1 - o.lr * o.weightDecay }),
  key: (o) => `signsgd:${flag(o.maximize)}${flag(o.momentum > 0)}`,
  program(o) {
    const momentum = o.momentum > 0;
    const body: SimdStmt[] = [loadGrad(o.maximize), s.store('out', s.mul(s.load('theta'), s.scalar('decay'))), s.let('d', s.ref('g'))];
    if (momentum) body.push(s.let('d', s.add(s.mul(s.scalar('beta'), s.load('momentumBuffer')), s.mul(s.scalar('oneMinusBeta'), s.ref('g')))), s.store('momentumBuffer', s.ref('d')));
    body.push(s.store('out', s.sub(s.load('out'), s.mul(s.scalar('lr'), s.sign(s.ref('d'))))));
    return { arrays: ['theta', 'out', 'grad', ...(momentum ? ['momentumBuffer'] : [])], scalars: ['lr', 'beta', 'oneMinusBeta', 'decay'], body };
  },
});
