import type { MuonWithAuxAdamOptions } from '@descent/core';
import { flag, programKernel } from './kernel.js';
import { simd as s, type SimdExpr } from './simd.js';

/**
 * torch.lerp as core's `lerpTorch` evaluates it: start + w(end − start) when |w| < 0.5, else
 * end − (end − start)(1 − w). `w` is a host scalar, so the branch is chosen per program (`small`), and 1 − w is a
 * host scalar too (`rest`, computed in float64 as the reference computes it in the loop: the same bits; in a
 * float32 program, rounding w first would turn 1 − w into 0 for w within 2⁻²⁴ of 1).
 */
function lerpTorch(start: SimdExpr, end: SimdExpr, w: string, rest: string, small: boolean): SimdExpr {
  const diff = s.sub(end, start);
  return small ? s.add(start, s.mul(s.scalar(w), diff)) : s.sub(end, s.mul(diff, s.scalar(rest)));
}

/**
 * Muon with auxiliary Adam (core `optimizers/muon-with-aux-adam.ts`): the fused loop covers the Adam half
 * (m ← lerp(m, g, 1 − β₁), v ← lerp(v, g², 1 − β₂), θ ← θ(1 − ηλ) − η·(m/(1 − β₁ᵗ))/(√(v/(1 − β₂ᵗ)) + ε));
 * Muon parameters take the composed kernel.
 */
export const muonWithAuxAdamFused = programKernel<MuonWithAuxAdamOptions>()({
  accepts: (o, shape) => (o.use === 'auto' ? shape.length < 2 : o.use === 'adam'),
  coefficients: (o, t) => ({
    lr: o.adamLr,
    oneMinusBeta1: 1 - o.adamBetas[0],
    oneMinusBeta2: 1 - o.adamBetas[1],
    eps: o.adamEps,
    biasCorrection1: 1 - o.adamBetas[0] ** t,
    biasCorrection2: 1 - o.adamBetas[1] ** t,
    decay: 1 - o.adamLr * o.adamWeightDecay,
    rest1: 1 - (1 - o.adamBetas[0]),
    rest2: 1 - (1 - o.adamBetas[1]),
  }),
  key: (_o, k) => `muonWithAuxAdam:${flag(Math.abs(k.oneMinusBeta1) < 0.5)}${flag(Math.abs(k.oneMinusBeta2) < 0.5)}`,
  program: (_o, k) => ({
    arrays: ['theta', 'out', 'grad', 'expAvg', 'expAvgSq'],
    scalars: ['lr', 'oneMinusBeta1', 'oneMinusBeta2', 'rest1', 'rest2', 'eps', 'biasCorrection1', 'biasCorrection2', 'decay'],
    body: [
      s.let('g', s.load('grad')),
      s.store('expAvg', lerpTorch(s.load('expAvg'), s.ref('g'), 'oneMinusBeta1', 'rest1', Math.abs(k.oneMinusBeta1) < 0.5)),
      s.store('expAvgSq', lerpTorch(s.load('expAvgSq'), s.mul(s.ref('g'), s.ref('g')), 'oneMinusBeta2', 'rest2', Math.abs(k.oneMinusBeta2) < 0.5)),
      s.let('update', s.div(s.div(s.load('expAvg'), s.scalar('biasCorrection1')), s.add(s.sqrt(s.div(s.load('expAvgSq'), s.scalar('biasCorrection2'))), s.scalar('eps')))),
      s.store('out', s.sub(s.mul(s.load('theta'), s.scalar('decay')), s.mul(s.scalar('lr'), s.ref('update')))),
    ],
  }),
});
