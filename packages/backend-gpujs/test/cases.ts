import { createSpec, type OptimizerSpec, type PortableState } from '@descent/core';
import { U, froundOptions, type CompareOptions } from './helpers.js';

/**
 * The optimizers this backend implements, each with several option combinations chosen to switch on every
 * branch of its kernel (momentum, Nesterov, L2 or decoupled decay, AMSGrad, maximize, rectification, …), with ε
 * large enough for its placement to matter. Every number is rounded to float32 before use.
 */
export interface Case {
  readonly name: string;
  readonly kind: 'elementwise' | 'tensor' | 'matrix';
  readonly options: ReadonlyArray<Record<string, unknown>>;
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  readonly ambiguous?: CompareOptions<Record<string, unknown>>['ambiguous'];
  readonly groups?: CompareOptions<Record<string, unknown>>['groups'];
}

const num = (v: unknown): number => Number(v);

/**
 * Indices where sign(βm + (1 − β)g) is within rounding of 0: |c| ≤ 4u(|βm| + |(1 − β)g|) (float32 forms c with
 * two products and a sum, each rounded). `slot` holds m, `betaOf` picks β.
 */
function signBand(slot: string, betaOf: (o: Record<string, unknown>) => number) {
  return (name: string, before: PortableState, grad: Float32Array, o: Record<string, unknown>): Set<number> => {
    const out = new Set<number>();
    const m = before.params[name]?.slots[slot]?.data;
    if (!m) return out;
    const beta = betaOf(o);
    const sign = o.maximize ? -1 : 1;
    for (let i = 0; i < grad.length; i++) {
      const a = beta * num(m[i]);
      const b = (1 - beta) * sign * (grad[i] as number);
      if (Math.abs(a + b) <= 4 * U * (Math.abs(a) + Math.abs(b))) out.add(i);
    }
    return out;
  };
}

export const cases: readonly Case[] = [
  {
    name: 'sgd',
    kind: 'elementwise',
    options: [
      { lr: 0.1 },
      { lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
      { lr: 0.05, momentum: 0.9, nesterov: true, maximize: true },
      { lr: 0.1, momentum: 0.5, dampening: 0.3 },
    ],
  },
  {
    name: 'adam',
    kind: 'elementwise',
    options: [{ lr: 0.01 }, { lr: 0.01, amsgrad: true, weightDecay: 0.1 }, { lr: 0.02, eps: 1e-3, betas: [0.8, 0.9], maximize: true }],
  },
  { name: 'scheduleFreeSgd', kind: 'elementwise', options: [{ lr: 0.1 }, { lr: 0.2, momentum: 0.5, weightDecay: 0.1, warmupSteps: 3, r: 1, weightLrPower: 1 }] },
  { name: 'scheduleFreeAdamw', kind: 'elementwise', options: [{ lr: 0.05 }, { lr: 0.05, weightDecay: 0.2, warmupSteps: 2, eps: 1e-3 }, { lr: 0.05, weightDecay: 0.2, decayAtZ: true, r: 2, weightLrPower: 0, betas: [0.5, 0.9] }] },
  { name: 'mars', kind: 'tensor', shapes: { w: [7, 9], b: [5], conv: [2, 3, 5] }, options: [{ lr: 0.01 }, { lr: 0.01, gamma: 0.5, weightDecay: 0.1, amsgrad: true, eps: 1e-3 }, { lr: 0.01, optimize1d: true, betas: [0.9, 0.999] }] },
  { name: 'nag', kind: 'elementwise', options: [{ lr: 0.05 }, { lr: 0.05, momentum: 0.5, weightDecay: 0.1, maximize: true }] },
  {
    name: 'adagrad',
    kind: 'elementwise',
    options: [{ lr: 0.05 }, { lr: 0.05, lrDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.1, eps: 1e-3, maximize: true }],
  },
  { name: 'adadelta', kind: 'elementwise', options: [{}, { lr: 0.5, rho: 0.8, eps: 1e-3, weightDecay: 0.1, maximize: true }] },
  {
    name: 'rmsprop',
    kind: 'elementwise',
    options: [{ lr: 0.01 }, { lr: 0.01, momentum: 0.9, eps: 1e-3 }, { lr: 0.01, centered: true, alpha: 0.9, weightDecay: 0.1, maximize: true }],
  },
  { name: 'adamw', kind: 'elementwise', options: [{ lr: 0.01 }, { lr: 0.01, amsgrad: true, weightDecay: 0.5, eps: 1e-3, maximize: true }] },
  { name: 'adamax', kind: 'elementwise', options: [{ lr: 0.02 }, { lr: 0.02, eps: 1e-2, weightDecay: 0.1, betas: [0.8, 0.9], maximize: true }] },
  {
    name: 'nadam',
    kind: 'elementwise',
    options: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.1, eps: 1e-3 }, { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, momentumDecay: 0.01, maximize: true }],
  },
  {
    name: 'radam',
    kind: 'elementwise',
    // β₂ = 0.6 never rectifies, β₂ = 0.9 rectifies from step 6 on (ρ₆ ≈ 5.4), so both branches run within 10 steps.
    options: [{ lr: 0.01, betas: [0.9, 0.6] }, { lr: 0.01, betas: [0.8, 0.9], weightDecay: 0.1, eps: 1e-3 }, { lr: 0.01, betas: [0.9, 0.9], weightDecay: 0.1, decoupledWeightDecay: true, maximize: true }],
  },
  {
    name: 'rprop',
    kind: 'elementwise',
    options: [{ lr: 0.01 }, { lr: 0.02, etas: [0.3, 1.5], stepSizes: [0.005, 0.03], maximize: true }],
  },
  {
    name: 'lion',
    kind: 'elementwise',
    options: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.5, betas: [0.8, 0.95], maximize: true }],
    ambiguous: signBand('expAvg', (o) => Math.fround((o.betas as number[])[0] as number)),
  },
  {
    name: 'signsgd',
    kind: 'elementwise',
    options: [{ lr: 0.01 }, { lr: 0.01, momentum: 0.9, weightDecay: 0.5, maximize: true }],
    ambiguous: signBand('momentumBuffer', (o) => Math.fround(o.momentum as number)),
  },
  { name: 'adamAtan2', kind: 'elementwise', options: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.5, a: 2, b: 0.5, betas: [0.8, 0.9], maximize: true }] },
  {
    name: 'adabelief',
    kind: 'elementwise',
    options: [
      // β₂ = 0.9: ρ_t ≥ 5 from step 6 on, so the rectified rule runs both of its branches within 10 steps.
      { lr: 0.01, betas: [0.9, 0.9], eps: 1e-6 },
      { lr: 0.01, betas: [0.9, 0.9], degeneratedToSgd: false, weightDecay: 0.1, decoupledWeightDecay: false },
      { lr: 0.01, rectify: false, amsgrad: true, weightDecay: 0.1, eps: 1e-4, maximize: true },
    ],
  },
  {
    name: 'lamb',
    kind: 'tensor',
    options: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.1, debias: true, eps: 1e-3 }, { lr: 0.01, clampValue: 0.5, adam: true }],
  },
  {
    name: 'lars',
    kind: 'tensor',
    options: [
      { lr: 0.5 },
      { lr: 0.5, weightDecay: 0.01, nesterov: true, trustCoefficient: 0.01 },
      { lr: 0.5, momentum: 0, trustClip: true, trustCoefficient: 0.5 },
      { lr: 0.5, alwaysAdapt: false, dampening: 0.2 },
    ],
  },
  {
    name: 'adafactor',
    kind: 'tensor',
    shapes: { w: [7, 9], b: [5], conv: [2, 3, 5], s: [] },
    options: [{}, { lr: 0.1, weightDecay: 0.1, d: 1.5, maximize: true }, { beta2Decay: -0.5, eps: [1e-3, 1e-2] }, { factoredRoot: 'separate' }],
  },
  { name: 'diffgrad', kind: 'elementwise', options: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.1, eps: 1e-4, betas: [0.8, 0.9], maximize: true }] },
  {
    name: 'adanorm',
    kind: 'tensor',
    options: [
      { lr: 0.01, r: 0.5 },
      { lr: 0.01, weightDecay: 0.1, fixedDecay: true, amsBound: true, maximize: true },
      { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: false },
    ],
  },
  {
    name: 'pnm',
    kind: 'elementwise',
    options: [
      { lr: 0.01 },
      { lr: 0.01, betas: [0.8, 0.5], weightDecay: 0.1, fixedDecay: true, maximize: true },
      { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: false },
    ],
  },
  {
    name: 'adopt',
    kind: 'elementwise',
    options: [
      { lr: 0.01 },
      { lr: 0.01, clipLambda: 'none', weightDecay: 0.1, decoupledWeightDecay: true, maximize: true },
      { lr: 0.01, weightDecay: 0.1, betas: [0.3, 0.9], eps: 0.1 },
    ],
  },
  {
    name: 'ademamix',
    kind: 'elementwise',
    options: [
      { lr: 0.01 },
      { lr: 0.01, alpha: 5, alphaWarmup: 3, beta3Warmup: 4, weightDecay: 0.1, maximize: true },
      { lr: 0.01, betas: [0, 0.999, 0.99] },
    ],
  },
  {
    name: 'prodigy',
    kind: 'tensor',
    options: [
      { d0: 1e-3 },
      { d0: 1e-3, weightDecay: 0.1, decouple: false, betas: [0, 0.99], sliceP: 2, useBiasCorrection: true },
      { d0: 1e-3, weightDecay: 0.1, safeguardWarmup: true, growthRate: 1.5, beta3: 0.9, eps: 1e-4 },
    ],
  },
  {
    name: 'adapnm',
    kind: 'elementwise',
    options: [
      { lr: 0.01 },
      { lr: 0.01, betas: [0.8, 0.99, 0.5], amsBound: false, weightDecay: 0.1, fixedDecay: true, maximize: true },
      { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: false },
    ],
  },
  {
    name: 'muon',
    kind: 'matrix',
    shapes: { w: [6, 10], tall: [10, 6], conv: [4, 2, 3] },
    options: [
      { lr: 0.02 },
      { lr: 0.02, nesterov: false, weightDecay: 0.1, momentum: 0.4 },
      { lr: 0.02, adjustLr: 'matchRmsAdamw', nsSteps: 3 },
      // Matrix views that move data (TF.js kernels' and the second axis as rows): gathered in and out on the device.
      { lr: 0.02, matrixView: { rows: [-1], cols: [-2] } },
      { lr: 0.02, matrixView: { rows: [1], cols: [] } },
    ],
  },
  {
    name: 'muonWithAuxAdam',
    kind: 'matrix',
    shapes: { w: [6, 10], bias: [10], head: [5, 6] },
    options: [
      { lr: 0.02, adamLr: 0.01 },
      { lr: 0.02, adamLr: 0.01, adamWeightDecay: 0.1, weightDecay: 0.1, adamBetas: [0.8, 0.9] },
      { lr: 0.02, adamLr: 0.01, matrixView: { rows: [-1], cols: [-2] } },
    ],
    groups: [{ params: ['head'], options: { use: 'adam' } }],
  },
  {
    name: 'muonTorch',
    kind: 'matrix',
    shapes: { w: [6, 10], tall: [10, 6] },
    options: [{ lr: 0.02 }, { lr: 0.02, nesterov: false, weightDecay: 0.2, momentum: 0.4, adjustLrFn: 'matchRmsAdamw', nsSteps: 3 }],
  },
  {
    name: 'sm3',
    kind: 'tensor',
    shapes: { w: [7, 9], b: [5], conv: [2, 3, 5], s: [] },
    options: [{}, { lr: 0.05, momentum: 0.9 }, { lr: 0.05, beta: 0.9, momentum: 0.5, eps: 1e-3 }],
  },
  {
    name: 'amos',
    kind: 'tensor',
    shapes: { w: [7, 9], b: [5], conv: [2, 3, 5] },
    options: [{ lr: 0.05 }, { lr: 0.1, beta: 0.9, momentum: 0.9, extraL2: 0.01, maximize: true }, { lr: 0.05, cCoef: 1, dCoef: 0.5, eps: 1e-3 }],
  },
  {
    // Shapes whose mode statistics have distinct eigenvalues from the first step (tools/golden/soap.py says why).
    name: 'soap',
    kind: 'matrix',
    shapes: { w: [3, 3], b: [7], t: [2, 3, 3], k: [2, 2, 2, 2] },
    options: [
      { lr: 0.01, preconditionFrequency: 3 },
      { lr: 0.01, preconditionFrequency: 1, shampooBeta: 0.3, weightDecay: 0.1, normalizeGrads: true, correctBias: false, betas: [0.9, 0.99] },
      { lr: 0.01, preconditionFrequency: 2, mergeDims: true, maxPrecondDim: 4, dataFormat: 'channelsLast' },
    ],
  },
];

/** Default shapes: a matrix whose size is not a multiple of 4 (SIMD tails) and a vector. */
export const DEFAULT_SHAPES = { w: [7, 9], b: [5] } as const;

export function specOf(name: string, options: Record<string, unknown>): OptimizerSpec<Record<string, unknown>> {
  return createSpec(name, froundOptions(options)) as unknown as OptimizerSpec<Record<string, unknown>>;
}
