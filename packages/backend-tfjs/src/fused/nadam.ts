import type { NadamOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s, type SimdStmt } from './simd.js';

/**
 * NAdam (core `optimizers/nadam.ts`): θ ← θ(1 − ηλ) (decoupled) or g ← g + λθ; m, v as Adam;
 * d ← √(v/(1 − β₂ᵗ)) + ε; θ ← θ − c_g·g/d − c_m·m/d, with c_g, c_m from the μ-schedule (host scalars, the
 * μ-product advanced per parameter as the reference does).
 */
export const nadamFused = programKernel<NadamOptions>()({
  coefficients(o, t, scalars) {
    const [beta1, beta2] = o.betas;
    const psi = o.momentumDecay;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
    const muProduct = (scalars.muProduct as number) * mu;
    scalars.muProduct = muProduct;
    const muProductNext = muProduct * muNext;
    return {
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      lambda: o.weightDecay,
      decay: 1 - o.lr * o.weightDecay,
      biasCorrection2: 1 - beta2 ** t,
      gradCoef: (o.lr * (1 - mu)) / (1 - muProduct),
      momentumCoef: (o.lr * muNext) / (1 - muProductNext),
    };
  },
  key: (o) => `nadam:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.decoupledWeightDecay)}`,
  program(o) {
    const body: SimdStmt[] = [loadGrad(o.maximize), s.store('out', s.load('theta'))];
    if (o.weightDecay !== 0) {
      if (o.decoupledWeightDecay) body.push(s.store('out', s.mul(s.load('out'), s.scalar('decay'))));
      else body.push(...coupledDecay(o.weightDecay, 'out'));
    }
    body.push(
      s.store('expAvg', s.add(s.mul(s.scalar('beta1'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta1'), s.ref('g')))),
      s.store('expAvgSq', s.add(s.mul(s.scalar('beta2'), s.load('expAvgSq')), s.mul(s.mul(s.scalar('oneMinusBeta2'), s.ref('g')), s.ref('g')))),
      s.let('denom', s.add(s.sqrt(s.div(s.load('expAvgSq'), s.scalar('biasCorrection2'))), s.scalar('eps'))),
      s.store('out', s.sub(s.load('out'), s.div(s.mul(s.scalar('gradCoef'), s.ref('g')), s.ref('denom')))),
      s.store('out', s.sub(s.load('out'), s.div(s.mul(s.scalar('momentumCoef'), s.load('expAvg')), s.ref('denom')))),
    );
    return {
      arrays: ['theta', 'out', 'grad', 'expAvg', 'expAvgSq'],
      scalars: ['beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'eps', 'lambda', 'decay', 'biasCorrection2', 'gradCoef', 'momentumCoef'],
      body,
    };
  },
});
