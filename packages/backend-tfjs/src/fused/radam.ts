import type { RadamOptions } from '@descent/core';
import { coupledDecay, flag, loadGrad, programKernel } from './kernel.js';
import { simd as s, type SimdStmt } from './simd.js';

/**
 * RAdam (core `optimizers/radam.ts`): decay as NAdam; m, v as Adam; m̂ ← m/(1 − β₁ᵗ); once ρₜ > 5,
 * θ ← θ − m̂·η·(√(1 − β₂ᵗ)/(√v + ε))·r, before that θ ← θ − m̂·η. Whether the step is rectified is a host scalar,
 * so each case is a program of its own.
 */
export const radamFused = programKernel<RadamOptions>()({
  coefficients(o, t) {
    const [beta1, beta2] = o.betas;
    const biasCorrection2 = 1 - beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / biasCorrection2;
    const rectified = rhoT > 5;
    const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 1;
    return {
      lr: o.lr,
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      lambda: o.weightDecay,
      decay: 1 - o.lr * o.weightDecay,
      biasCorrection1: 1 - beta1 ** t,
      biasCorrection2Sqrt: Math.sqrt(biasCorrection2),
      rectified: rectified ? 1 : 0,
      rect,
    };
  },
  key: (o, k) => `radam:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.decoupledWeightDecay)}${flag(k.rectified === 1)}`,
  program(o, k) {
    const body: SimdStmt[] = [loadGrad(o.maximize), s.store('out', s.load('theta'))];
    if (o.weightDecay !== 0) {
      if (o.decoupledWeightDecay) body.push(s.store('out', s.mul(s.load('out'), s.scalar('decay'))));
      else body.push(...coupledDecay(o.weightDecay, 'out'));
    }
    body.push(
      s.store('expAvg', s.add(s.mul(s.scalar('beta1'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta1'), s.ref('g')))),
      s.store('expAvgSq', s.add(s.mul(s.scalar('beta2'), s.load('expAvgSq')), s.mul(s.mul(s.scalar('oneMinusBeta2'), s.ref('g')), s.ref('g')))),
      s.let('mHat', s.div(s.load('expAvg'), s.scalar('biasCorrection1'))),
    );
    if (k.rectified === 1) {
      body.push(
        s.let('adaptiveLr', s.div(s.scalar('biasCorrection2Sqrt'), s.add(s.sqrt(s.load('expAvgSq')), s.scalar('eps')))),
        s.store('out', s.sub(s.load('out'), s.mul(s.mul(s.mul(s.ref('mHat'), s.scalar('lr')), s.ref('adaptiveLr')), s.scalar('rect')))),
      );
    } else {
      body.push(s.store('out', s.sub(s.load('out'), s.mul(s.ref('mHat'), s.scalar('lr')))));
    }
    return {
      arrays: ['theta', 'out', 'grad', 'expAvg', 'expAvgSq'],
      scalars: ['lr', 'beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'eps', 'lambda', 'decay', 'biasCorrection1', 'biasCorrection2Sqrt', 'rect'],
      body,
    };
  },
});
