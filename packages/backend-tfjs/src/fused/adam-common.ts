import { simd as s, type SimdStmt } from './simd.js';

/** Adam's host scalars (shared by Adam and AdamW). */
export function adamCoefficients(lr: number, beta1: number, beta2: number, eps: number, t: number) {
  const biasCorrection1 = 1 - beta1 ** t;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
  return { beta1, beta2, oneMinusBeta1: 1 - beta1, oneMinusBeta2: 1 - beta2, eps, stepSize: lr / biasCorrection1, biasCorrection2Sqrt };
}

/** The moment updates and the Adam step shared by the Adam and AdamW programs (after g and any decay). */
export function adamProgramTail(amsgrad: boolean, thetaFrom: 'theta' | 'out'): SimdStmt[] {
  const body: SimdStmt[] = [
    s.store('expAvg', s.add(s.mul(s.scalar('beta1'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta1'), s.ref('g')))),
    s.store('expAvgSq', s.add(s.mul(s.scalar('beta2'), s.load('expAvgSq')), s.mul(s.mul(s.scalar('oneMinusBeta2'), s.ref('g')), s.ref('g')))),
    s.let('vHat', s.load('expAvgSq')),
  ];
  if (amsgrad) body.push(s.store('maxExpAvgSq', s.max(s.load('maxExpAvgSq'), s.ref('vHat'))), s.let('vHat', s.load('maxExpAvgSq')));
  body.push(
    s.let('denom', s.add(s.div(s.sqrt(s.ref('vHat')), s.scalar('biasCorrection2Sqrt')), s.scalar('eps'))),
    s.store('out', s.sub(s.load(thetaFrom), s.div(s.mul(s.scalar('stepSize'), s.load('expAvg')), s.ref('denom')))),
  );
  return body;
}

/** The scalars of {@link adamProgramTail}. */
export const adamScalars = ['beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'eps', 'stepSize', 'biasCorrection2Sqrt'];

/** Adam's arrays (with AMSGrad's running maximum). */
export const adamArrays = (amsgrad: boolean): string[] => ['theta', 'out', 'grad', 'expAvg', 'expAvgSq', ...(amsgrad ? ['maxExpAvgSq'] : [])];
