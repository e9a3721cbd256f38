import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adaptiveClip,
  centralize,
  clipGradNorm,
  clipGradValue,
  createReference,
  createSpec,
  definitions,
  softClip,
  tensor,
  transformDefinitions,
  withTransforms,
  type GroupConfig,
  type Optimizer,
  type OptimizerSpec,
  type PortableState,
  type Tensor,
} from '@descent/core';
import { createTfjs, kernels, transformKernels } from '../src/index.js';
import { jacobiEigen } from '@descent/core';

/**
 * Every TF.js kernel against the Float64 reference, on the cpu backend (`DESCENT_TFJS_BACKEND=wasm` runs the
 * same checks on wasm; both pass).
 *
 * Inputs are float32 (parameters and gradients drawn from a seeded generator and rounded with Math.fround), and
 * the reference is fed exactly the same values, so the only differences are float32 rounding inside the kernels.
 * Both run 10 steps from the same start without resynchronising, and after every step the parameters and every
 * state slot are compared.
 *
 * Tolerance (elementwise and per-tensor optimizers). For a tensor X (a parameter or one state slot) let
 * S_X = max|X₀| + Σ_{s≤t} max_i |X_s,i − X_{s−1},i|, taken from the reference trajectory: it bounds every value
 * X has held and every change it received, hence every term that entered its updates (a parameter update
 * θ − η·d has terms |θ| ≤ S and |η·d| ≤ S; a moment update β·m + (1 − β)·g has terms ≤ |m_{t−1}| + |Δm_t|, both
 * ≤ S). The check is
 *
 *     |x_i − ref_i| ≤ K·u·(|ref_i| + S_X),   u = 2⁻²⁴, K = 64.
 *
 * Why 64: each step of these updates is a chain of at most ~6 float32 roundings (each ≤ u relative to a term
 * bounded by |ref| + S: products with host scalars, a sum, a square root, a division, the final subtraction),
 * and errors from earlier steps are carried with factors ≤ 1 (decays β < 1; relative errors of the adaptive
 * denominators pass into the step at most unchanged, halved through square roots), so after T = 10 steps the
 * error is ≤ ~6·(T + 1)·u·(|ref| + S) ≈ 64u·(|ref| + S). The norms of LAMB/LARS/Adafactor add a relative error
 * ≤ (n/2 + 1)u for n ≤ 12 elements, inside the same budget. Sign decisions (Lion, signSGD, Rprop) could only
 * differ where the pre-sign value is within rounding of 0, which the seeded data do not produce; a flip would
 * show as an error of 2η and fail. (Measured: the worst error is ≤ 7% of this bound, ≈ 4u·(|ref| + S), on cpu
 * and wasm; `DESCENT_SHOW_TOLERANCE=1` prints the worst ratio of every case. Deliberate slips in the kernels —
 * a dropped ε, a wrong mean divisor, η₊ for η₋, a host scalar not carried over, a missing shape scale — fail.)
 *
 * Matrix optimizers get their own K, derived in the cases below (Newton–Schulz amplifies rounding; Shampoo's
 * inverse roots amplify it by the condition number of the preconditioner).
 */

const U = 2 ** -24;
const SHAPES: number[][] = [[1], [7], [3, 4], [2, 3, 2]];

/** mulberry32: a small seeded generator, so that every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values uniform in (−scale, scale). */
function uniform32(next: () => number, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround((2 * next() - 1) * scale));
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const num = (x: number | string): number => (typeof x === 'number' ? x : Number(x));

interface Case {
  readonly label: string;
  readonly name: string;
  readonly options?: Record<string, unknown>;
  readonly shapes?: number[][];
  readonly groups?: Array<GroupConfig<Record<string, unknown>>>;
  readonly gradScale?: number;
  /** K of the tolerance for a tensor key (`p2` or `p2.expAvg`); 64 unless given. */
  readonly k?: (key: string, ref: Optimizer<Tensor>) => number;
}

/**
 * Muon: Newton–Schulz in float32. |φ′| ≤ a ≈ 3.44 on [0, 1.2], so rounding already in X grows by at most 3.44
 * per step; with 3 products of ≤ 12-term sums per step (≤ 3·12·u relative each) the output after 5 steps is
 * off by ≲ Σ_{j<5} 3.44^j · 36u ≈ 200·36u ≈ 7200u relative to max|O| ≈ 1 (our shapes have ≤ 12 columns). The
 * parameter's S includes η·s·max|O| from every step, so K = 8192 on a Muon parameter covers that worst case; the
 * momentum buffer is a lerp (K = 64), and Adam-routed parameters are elementwise (K = 64). The measured errors
 * are ~10u (see the normwise Newton–Schulz test below), so in practice these parameters also pass with K = 64.
 */
const muonK = (key: string, ref: Optimizer<Tensor>): number =>
  !key.includes('.') && 'momentumBuffer' in ref.exportState().params[key]!.slots ? 8192 : 64;

/**
 * Shampoo: the inverse roots amplify the float32 rounding of the preconditioners by their condition number
 * κ = λ_max/λ_min. H accumulates in float32 with an error ~u·λ_max, which moves λ_min by ~κu relative and
 * λ_min^{−1/p} by ~κu/p; everything downstream (the stored roots, the update, the parameter, the next mode's
 * statistics) inherits a relative error of that size, and each of the k ≤ 3 mode products can add one more.
 * So K = 64 + 8κ: the elementwise budget plus a few κu. κ is the largest condition number over the parameter's
 * reference preconditioners, and the Checker keeps the largest K seen so far, because an error made at an
 * ill-conditioned step (the first one: H = εI + g·gᵀ has κ ≈ |g|²/ε ≈ 10⁴ with ε = 1e-4) stays in the
 * trajectory. That bound is loose early on (measured errors are ≲ κu) and is the honest price of running a
 * κ-sensitive method in float32; well-conditioned cases (larger ε) get a tight bound.
 */
function shampooK(key: string, ref: Optimizer<Tensor>): number {
  const param = key.split('.')[0] as string;
  const state = ref.exportState().params[param]!;
  let kappa = 1;
  for (const [slot, s] of Object.entries(state.slots)) {
    const n = s.shape[0] as number;
    if (!slot.startsWith('precond') || n === 0) continue;
    const { values } = jacobiEigen(Float64Array.from(s.data, num), n);
    kappa = Math.max(kappa, (values[n - 1] as number) / (values[0] as number));
  }
  return 64 + 8 * kappa;
}

/**
 * SOAP: the eigenbases amplify the float32 rounding of the preconditioners GG by λ_max over the smallest eigenvalue
 * gap (the first eigendecomposition, Davis–Kahan) and by λ_max/λ_min (the QR of a refresh, Sun 1991); the
 * projections pass that on to every slot and the parameter unamplified (Q is orthogonal). K = 64 + 16κ with κ the
 * larger of both over the parameter's GG slots (the Checker keeps the largest K seen). The shapes are those whose
 * statistics have distinct eigenvalues from the first step on (see tools/golden/soap.py).
 */
function soapK(key: string, ref: Optimizer<Tensor>): number {
  const param = key.split('.')[0] as string;
  const state = ref.exportState().params[param]!;
  let kappa = 1;
  for (const [slot, s] of Object.entries(state.slots)) {
    const n = s.shape[0] as number;
    if (!slot.startsWith('GG') || n === 0) continue;
    const { values } = jacobiEigen(Float64Array.from(s.data, num), n);
    const top = values[n - 1] as number;
    if (!(top > 0)) continue; // a zero statistic (an empty parameter): nothing to amplify
    // A singular GG (rank one after the first step of a vector) has no QR refresh until it has more gradients.
    if ((values[0] as number) > 0) kappa = Math.max(kappa, top / (values[0] as number));
    for (let k = 1; k < n; k++) kappa = Math.max(kappa, top / ((values[k] as number) - (values[k - 1] as number)));
  }
  return 64 + 16 * kappa;
}

const SOAP_SHAPES = [[1], [7], [3, 3], [2, 3, 3], [2, 2, 2, 2]];

const CASES: Case[] = [
  { label: 'soap', name: 'soap', options: { lr: 0.01, preconditionFrequency: 3 }, shapes: SOAP_SHAPES, k: soapK },
  {
    label: 'soap refresh every step, shampooBeta, decay, normalizeGrads, no bias correction',
    name: 'soap',
    options: { lr: 0.01, preconditionFrequency: 1, shampooBeta: 0.3, weightDecay: 0.1, normalizeGrads: true, correctBias: false, betas: [0.9, 0.99] },
    shapes: SOAP_SHAPES,
    k: soapK,
  },
  {
    label: 'soap mergeDims channelsLast, maxPrecondDim, precondition1d',
    name: 'soap',
    options: { lr: 0.01, preconditionFrequency: 2, mergeDims: true, maxPrecondDim: 4, dataFormat: 'channelsLast', precondition1d: true },
    shapes: [[2], [3, 3], [2, 2, 2, 2], [2, 1, 2, 4]],
    k: soapK,
  },
  { label: 'sgd plain', name: 'sgd', options: { lr: 0.1 } },
  { label: 'sgd momentum, dampening, decay, maximize', name: 'sgd', options: { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, maximize: true } },
  { label: 'sgd nesterov', name: 'sgd', options: { lr: 0.1, momentum: 0.9, nesterov: true } },
  { label: 'adam', name: 'adam', options: { lr: 0.05 } },
  { label: 'adam amsgrad, decay, maximize', name: 'adam', options: { lr: 0.05, amsgrad: true, weightDecay: 0.1, maximize: true } },
  { label: 'nag', name: 'nag', options: { lr: 0.1 } },
  { label: 'nag decay, maximize', name: 'nag', options: { lr: 0.1, momentum: 0.5, weightDecay: 0.1, maximize: true } },
  { label: 'adagrad', name: 'adagrad', options: { lr: 0.1 } },
  { label: 'adagrad lrDecay, decay, initial, maximize', name: 'adagrad', options: { lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2, maximize: true } },
  { label: 'adadelta', name: 'adadelta', options: {} },
  { label: 'adadelta decay, maximize', name: 'adadelta', options: { rho: 0.5, eps: 1e-4, weightDecay: 0.1, maximize: true } },
  { label: 'rmsprop', name: 'rmsprop', options: { lr: 0.01 } },
  { label: 'rmsprop centered, momentum, decay, maximize', name: 'rmsprop', options: { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.1, maximize: true } },
  { label: 'adamw', name: 'adamw', options: { lr: 0.05 } },
  { label: 'adamw amsgrad, maximize', name: 'adamw', options: { lr: 0.05, weightDecay: 0.5, amsgrad: true, maximize: true } },
  { label: 'adamax', name: 'adamax', options: { lr: 0.05 } },
  { label: 'adamax decay, maximize', name: 'adamax', options: { lr: 0.05, weightDecay: 0.1, maximize: true } },
  { label: 'nadam', name: 'nadam', options: { lr: 0.05 } },
  { label: 'nadam coupled decay', name: 'nadam', options: { lr: 0.05, weightDecay: 0.1 } },
  { label: 'nadam decoupled decay, maximize', name: 'nadam', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true } },
  { label: 'radam (un-rectified then rectified)', name: 'radam', options: { lr: 0.05 } },
  { label: 'radam coupled decay', name: 'radam', options: { lr: 0.05, weightDecay: 0.1, betas: [0.9, 0.9] } },
  { label: 'radam decoupled decay, maximize', name: 'radam', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true } },
  { label: 'rprop', name: 'rprop', options: { lr: 0.01 } },
  { label: 'rprop bounds, maximize', name: 'rprop', options: { lr: 0.01, etas: [0.3, 1.5], stepSizes: [0.005, 0.03], maximize: true } },
  { label: 'lamb', name: 'lamb', options: { lr: 0.05 } },
  { label: 'lamb decay, debias, clamp', name: 'lamb', options: { lr: 0.05, weightDecay: 0.1, debias: true, clampValue: 0.8 } },
  { label: 'lamb adam', name: 'lamb', options: { lr: 0.05, weightDecay: 0.1, adam: true } },
  { label: 'lars', name: 'lars', options: { lr: 1, trustCoefficient: 0.02 } },
  { label: 'lars nesterov, decay, trustClip', name: 'lars', options: { lr: 0.5, nesterov: true, weightDecay: 0.01, trustCoefficient: 0.02, trustClip: true } },
  { label: 'lars no adapt, no momentum', name: 'lars', options: { lr: 0.1, momentum: 0, alwaysAdapt: false } },
  { label: 'lars decay adapts, dampening', name: 'lars', options: { lr: 1, dampening: 0.2, weightDecay: 0.1, alwaysAdapt: false } },
  { label: 'lion', name: 'lion', options: { lr: 0.01 } },
  { label: 'lion decay, maximize', name: 'lion', options: { lr: 0.01, weightDecay: 0.5, maximize: true } },
  { label: 'signsgd', name: 'signsgd', options: { lr: 0.01 } },
  { label: 'signum decay, maximize', name: 'signsgd', options: { lr: 0.01, momentum: 0.9, weightDecay: 0.5, maximize: true } },
  { label: 'adamAtan2', name: 'adamAtan2', options: { lr: 0.05 } },
  { label: 'adamAtan2 decay, b, maximize', name: 'adamAtan2', options: { lr: 0.05, weightDecay: 0.5, b: 0.5, a: 1, maximize: true } },
  { label: 'adabelief (degenerate SGD, then rectified)', name: 'adabelief', options: { lr: 0.05, weightDecay: 0.1 } },
  // ε = 1e-16 is invisible in float32 (see the kernel's note); a large ε makes its two placements observable.
  { label: 'adabelief large eps, rectified', name: 'adabelief', options: { lr: 0.05, eps: 1e-3, betas: [0.9, 0.9] } },
  { label: 'adabelief large eps, not rectified', name: 'adabelief', options: { lr: 0.05, eps: 1e-3, rectify: false } },
  { label: 'adabelief no SGD while intractable', name: 'adabelief', options: { lr: 0.05, degeneratedToSgd: false } },
  { label: 'adabelief amsgrad, L2, maximize', name: 'adabelief', options: { lr: 0.05, rectify: false, amsgrad: true, decoupledWeightDecay: false, weightDecay: 0.1, maximize: true } },
  { label: 'muon', name: 'muon', options: { lr: 0.05 }, shapes: [[3, 4], [2, 3, 2], [5, 2]], k: muonK },
  { label: 'muon plain momentum, decay, matchRmsAdamw', name: 'muon', options: { lr: 0.05, nesterov: false, weightDecay: 0.1, adjustLr: 'matchRmsAdamw' }, shapes: [[3, 4], [5, 2]], k: muonK },
  { label: 'muon, TF.js kernels\' view', name: 'muon', options: { lr: 0.05, matrixView: { rows: [-1], cols: [-2] } }, shapes: [[3, 4], [2, 3, 2], [5, 2]], k: muonK },
  { label: 'muon, second axis as rows', name: 'muon', options: { lr: 0.05, matrixView: { rows: [1], cols: [] } }, shapes: [[3, 4], [2, 3, 2]], k: muonK },
  { label: 'muonWithAuxAdam auto', name: 'muonWithAuxAdam', options: { lr: 0.05, adamLr: 0.01 }, k: muonK },
  { label: 'muonWithAuxAdam auto, TF.js kernels\' view', name: 'muonWithAuxAdam', options: { lr: 0.05, adamLr: 0.01, matrixView: { rows: [-1], cols: [-2] } }, k: muonK },
  {
    label: 'muonWithAuxAdam groups, decays',
    name: 'muonWithAuxAdam',
    options: { lr: 0.05, adamLr: 0.01, weightDecay: 0.1, adamWeightDecay: 0.2, nesterov: false },
    groups: [{ params: ['p2'], options: { use: 'adam' } }],
    k: muonK,
  },
  { label: 'shampoo eigh', name: 'shampoo', options: { lr: 0.05 }, k: shampooK },
  {
    label: 'shampoo paper, momentum, decay, updateFreq',
    name: 'shampoo',
    options: { lr: 0.05, exponent: 'paper', statistics: 'paper', momentum: 0.5, weightDecay: 0.1, updateFreq: 3, epsilon: 1e-2 },
    k: shampooK,
  },
  { label: 'shampoo eigh, TF.js kernels\' view', name: 'shampoo', options: { lr: 0.05, matrixView: { rows: [-1], cols: [-2] } }, k: shampooK },
  { label: 'shampoo newtonSchulz', name: 'shampoo', options: { lr: 0.05, inverseRoot: 'newtonSchulz', epsilon: 0.1 }, k: shampooK },
  { label: 'shampoo newtonSchulz, default epsilon, paper', name: 'shampoo', options: { lr: 0.05, inverseRoot: 'newtonSchulz', exponent: 'paper' }, k: shampooK },
  { label: 'adafactor', name: 'adafactor', options: { lr: 0.05 } },
  { label: 'mars', name: 'mars', options: { lr: 0.01 } },
  { label: 'mars amsgrad, decay, gamma, optimize1d', name: 'mars', options: { lr: 0.01, gamma: 0.5, weightDecay: 0.1, amsgrad: true, optimize1d: true, eps: 1e-3 } },
  { label: 'scheduleFreeSgd', name: 'scheduleFreeSgd', options: { lr: 0.1 } },
  { label: 'scheduleFreeSgd decay, warmup, r', name: 'scheduleFreeSgd', options: { lr: 0.2, momentum: 0.5, weightDecay: 0.1, warmupSteps: 3, r: 1, weightLrPower: 1 } },
  { label: 'scheduleFreeAdamw', name: 'scheduleFreeAdamw', options: { lr: 0.05 } },
  { label: 'scheduleFreeAdamw decay at z, warmup', name: 'scheduleFreeAdamw', options: { lr: 0.05, weightDecay: 0.2, decayAtZ: true, warmupSteps: 2, r: 2, betas: [0.5, 0.9] } },
  { label: 'adafactor decay, d, maximize', name: 'adafactor', options: { lr: 0.05, weightDecay: 0.5, d: 1.5, maximize: true, beta2Decay: -0.5 } },
  { label: 'adafactor separate roots', name: 'adafactor', options: { lr: 0.05, factoredRoot: 'separate' } },
  { label: 'muonTorch', name: 'muonTorch', options: { lr: 0.05 }, shapes: [[3, 4], [5, 2]], k: muonK },
  { label: 'muonTorch plain momentum, decay, matchRmsAdamw', name: 'muonTorch', options: { lr: 0.05, nesterov: false, weightDecay: 0.2, adjustLrFn: 'matchRmsAdamw' }, shapes: [[3, 4], [5, 2]], k: muonK },
  { label: 'sm3', name: 'sm3', options: { lr: 0.05 } },
  { label: 'sm3 momentum, beta, eps', name: 'sm3', options: { lr: 0.05, momentum: 0.9, beta: 0.9, eps: 1e-3 } },
  { label: 'amos', name: 'amos', options: { lr: 0.05 } },
  { label: 'amos momentum, extraL2, maximize', name: 'amos', options: { lr: 0.1, beta: 0.9, momentum: 0.9, extraL2: 0.01, maximize: true } },
  { label: 'diffgrad', name: 'diffgrad', options: { lr: 0.05 } },
  { label: 'diffgrad L2, eps, maximize', name: 'diffgrad', options: { lr: 0.05, weightDecay: 0.1, eps: 1e-3, maximize: true } },
  { label: 'adanorm', name: 'adanorm', options: { lr: 0.05, r: 0.5 } },
  { label: 'adanorm fixed decay, amsBound, maximize', name: 'adanorm', options: { lr: 0.05, weightDecay: 0.1, fixedDecay: true, amsBound: true, maximize: true } },
  { label: 'adanorm L2', name: 'adanorm', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: false } },
  { label: 'pnm', name: 'pnm', options: { lr: 0.05 } },
  { label: 'pnm fixed decay, maximize', name: 'pnm', options: { lr: 0.05, betas: [0.8, 0.5], weightDecay: 0.1, fixedDecay: true, maximize: true } },
  { label: 'pnm L2', name: 'pnm', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: false } },
  { label: 'adopt', name: 'adopt', options: { lr: 0.05 } },
  { label: 'adopt no clip, decoupled, maximize', name: 'adopt', options: { lr: 0.05, clipLambda: 'none', weightDecay: 0.1, decoupledWeightDecay: true, maximize: true } },
  { label: 'adopt L2, lerp from the end side', name: 'adopt', options: { lr: 0.05, weightDecay: 0.1, betas: [0.3, 0.9], eps: 0.1 } },
  { label: 'ademamix', name: 'ademamix', options: { lr: 0.05 } },
  { label: 'ademamix warmups, decay, maximize', name: 'ademamix', options: { lr: 0.05, alpha: 5, alphaWarmup: 3, beta3Warmup: 4, weightDecay: 0.1, maximize: true } },
  { label: 'ademamix beta1 0', name: 'ademamix', options: { lr: 0.05, betas: [0, 0.999, 0.99] } },
  { label: 'adapnm', name: 'adapnm', options: { lr: 0.05 } },
  { label: 'adapnm no amsBound, fixed decay, maximize', name: 'adapnm', options: { lr: 0.05, betas: [0.8, 0.99, 0.5], amsBound: false, weightDecay: 0.1, fixedDecay: true, maximize: true } },
  { label: 'adapnm L2', name: 'adapnm', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: false } },
  { label: 'prodigy', name: 'prodigy', options: { d0: 1e-3 } },
  { label: 'prodigy L2, beta1 0, sliceP, bias correction', name: 'prodigy', options: { d0: 1e-3, weightDecay: 0.1, decouple: false, betas: [0, 0.99], sliceP: 2, useBiasCorrection: true } },
  { label: 'prodigy decoupled, safeguard, growth, beta3', name: 'prodigy', options: { d0: 1e-3, weightDecay: 0.1, safeguardWarmup: true, growthRate: 1.5, beta3: 0.9, eps: 1e-4 } },
];

function shapesFor(c: Case, spec: OptimizerSpec): number[][] {
  const def = definitions.get(c.name)!;
  return (c.shapes ?? SHAPES).filter((s) => c.groups || !def.rejectShape?.(s, spec.options as never));
}

interface Pair {
  readonly ref: ReturnType<typeof createReference>;
  readonly tfo: ReturnType<typeof createTfjs>;
  readonly vars: Map<string, tf.Variable>;
  readonly shapes: Map<string, number[]>;
}

function makePair(spec: OptimizerSpec, shapes: number[][], next: () => number, groups?: Case['groups']): Pair {
  const refParams: Record<string, Tensor> = {};
  const vars = new Map<string, tf.Variable>();
  const shapeMap = new Map<string, number[]>();
  shapes.forEach((shape, i) => {
    const data = uniform32(next, sizeOf(shape));
    refParams[`p${i}`] = tensor(data, shape);
    vars.set(`p${i}`, tf.variable(tf.tensor(Float32Array.from(data), shape, 'float32')));
    shapeMap.set(`p${i}`, shape);
  });
  const create = groups ? { groups } : {};
  return { ref: createReference(spec, refParams, create as never), tfo: createTfjs(spec, vars, create as never), vars, shapes: shapeMap };
}

/** Every tensor of the pair's reference by key: parameters (`p0`) and slots (`p0.expAvg`). */
function refTensors(pair: Pair): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, t] of pair.ref.params) out.set(name, Float64Array.from(t.data));
  for (const [name, p] of Object.entries(pair.ref.exportState().params)) {
    for (const [slot, s] of Object.entries(p.slots)) out.set(`${name}.${slot}`, Float64Array.from(s.data, num));
  }
  return out;
}

function tfjsTensors(pair: Pair): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, v] of pair.vars) out.set(name, Float64Array.from(v.dataSync()));
  for (const [name, p] of Object.entries(pair.tfo.exportState().params)) {
    for (const [slot, s] of Object.entries(p.slots)) out.set(`${name}.${slot}`, Float64Array.from(s.data, num));
  }
  return out;
}

const maxAbs = (a: Float64Array): number => a.reduce((m, x) => (Number.isNaN(x) ? m : Math.max(m, Math.abs(x))), 0);

/** Tracks S_X (see the header) along the reference trajectory and checks the tfjs tensors against it. */
class Checker {
  private readonly prev: Map<string, Float64Array>;
  private readonly scale = new Map<string, number>();
  private readonly kSoFar = new Map<string, number>();
  worst = 0;
  where = '';
  constructor(
    private readonly pair: Pair,
    private readonly label: string,
    private readonly k: NonNullable<Case['k']> = () => 64,
  ) {
    this.prev = refTensors(pair);
    for (const [key, x] of this.prev) this.scale.set(key, maxAbs(x));
  }

  check(step: number): void {
    const ref = refTensors(this.pair);
    const got = tfjsTensors(this.pair);
    expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
    for (const [key, r] of ref) {
      const before = this.prev.get(key)!;
      let change = 0;
      for (let i = 0; i < r.length; i++) change = Math.max(change, Math.abs((r[i] as number) - (before[i] as number)));
      const s = (this.scale.get(key) as number) + change;
      this.scale.set(key, s);
      this.prev.set(key, r);
      // Errors made at an earlier step stay in the trajectory, so K is the largest so far.
      const k = Math.max(this.kSoFar.get(key) ?? 0, this.k(key, this.pair.ref));
      this.kSoFar.set(key, k);
      const x = got.get(key)!;
      for (let i = 0; i < r.length; i++) {
        const want = r[i] as number;
        const have = x[i] as number;
        const bound = k * U * (Math.abs(want) + s);
        const err = Math.abs(have - want);
        const ratio = err / (U * (Math.abs(want) + s) * k) || 0;
        if (ratio > this.worst) {
          this.worst = ratio;
          this.where = `${key}[${i}] step ${step} K ${k.toFixed(0)}`;
        }
        if (!(err <= bound) && !(Number.isNaN(want) && Number.isNaN(have))) {
          throw new Error(`${this.label}: step ${step}, ${key}[${i}]: tfjs ${have}, reference ${want}, |diff| ${err} > ${bound} (K = ${k}, S = ${s})`);
        }
      }
    }
    // Step counts and host scalars are computed identically on both sides.
    const a = this.pair.ref.exportState();
    const b = this.pair.tfo.exportState();
    expect(b.stepCount).toBe(a.stepCount);
    for (const [name, p] of Object.entries(a.params)) {
      expect(b.params[name]!.step).toBe(p.step);
      expect(b.params[name]!.scalars).toEqual(p.scalars);
    }
  }
}

function gradsFor(pair: Pair, next: () => number, scale = 1): { ref: Record<string, Tensor>; tfjs: Record<string, tf.Tensor> } {
  const ref: Record<string, Tensor> = {};
  const tfjs: Record<string, tf.Tensor> = {};
  for (const [name, shape] of pair.shapes) {
    const g = uniform32(next, sizeOf(shape), scale);
    ref[name] = tensor(g, shape);
    tfjs[name] = tf.tensor(Float32Array.from(g), shape, 'float32');
  }
  return { ref, tfjs };
}

function stepBoth(pair: Pair, grads: { ref: Record<string, Tensor>; tfjs: Record<string, tf.Tensor> }): void {
  pair.ref.step(grads.ref);
  pair.tfo.step(grads.tfjs);
  for (const g of Object.values(grads.tfjs)) g.dispose();
}

function dispose(pair: Pair): void {
  pair.tfo.dispose();
  for (const v of pair.vars.values()) v.dispose();
}

/** The cpu backend by default; `DESCENT_TFJS_BACKEND=wasm` runs the same checks on the wasm backend. */
beforeAll(async () => {
  expect(await tf.setBackend(process.env.DESCENT_TFJS_BACKEND ?? 'cpu')).toBe(true);
});

describe('tfjs kernels cover core', () => {
  it('has a kernel for every optimizer in the registry and for every gradient transform', () => {
    expect(Object.keys(kernels).sort()).toEqual([...definitions.keys()].sort());
    expect(Object.keys(transformKernels).sort()).toEqual([...transformDefinitions.keys()].sort());
  });

  it('the cases toggle every boolean option of every optimizer', () => {
    for (const [name, def] of definitions) {
      const cases = CASES.filter((c) => c.name === name);
      expect(cases.length, name).toBeGreaterThan(0);
      for (const [key, schema] of Object.entries(def.schema)) {
        if (schema.type !== 'boolean') continue;
        const values = new Set(cases.map((c) => createSpec(name, c.options).options[key as never]));
        expect([...values].sort(), `${name}.${key}`).toEqual([false, true]);
      }
    }
  });
});

describe('tfjs kernels match the Float64 reference step by step', () => {
  for (const [n, c] of CASES.entries()) {
    it(c.label, () => {
      const spec = createSpec(c.name, c.options);
      const next = rng(1000 + n);
      const pair = makePair(spec, shapesFor(c, spec), next, c.groups);
      const checker = new Checker(pair, c.label, c.k);
      for (let t = 1; t <= 10; t++) {
        stepBoth(pair, gradsFor(pair, next, c.gradScale));
        checker.check(t);
      }
      if (process.env.DESCENT_SHOW_TOLERANCE) console.log(`${c.label}: worst error / bound = ${checker.worst.toExponential(2)} at ${checker.where}`);
      dispose(pair);
    });
  }
});

/** The first case of an optimizer, used by the structural tests below. */
function defaultCase(name: string): Case {
  return CASES.find((c) => c.name === name)!;
}

describe('tfjs kernels: memory, missing gradients, portable state', () => {
  it('keeps the live tensor count flat over 200 steps and returns to the baseline after dispose', () => {
    for (const name of definitions.keys()) {
      const c = defaultCase(name);
      const spec = createSpec(name, c.options);
      const next = rng(7);
      const shapes = name.startsWith('muon') ? [[3, 4], [2, 2]] : [[3, 4], [5]];
      const vars = new Map(shapes.map((s, i) => [`p${i}`, tf.variable(tf.tensor(Float32Array.from(uniform32(next, sizeOf(s))), s, 'float32'))]));
      const baseline = tf.memory().numTensors;
      const opt = createTfjs(spec, vars);
      const grads = shapes.map((s) => tf.tensor(Float32Array.from(uniform32(next, sizeOf(s))), s, 'float32'));
      const withGrads = tf.memory().numTensors;
      const g = Object.fromEntries(grads.map((t, i) => [`p${i}`, t]));
      opt.step(g);
      const after = tf.memory().numTensors;
      expect(after, name).toBe(withGrads);
      for (let i = 0; i < 199; i++) {
        opt.step(g);
        if (tf.memory().numTensors !== after) throw new Error(`${name}: ${tf.memory().numTensors} live tensors after step ${i + 2}, ${after} after step 1`);
      }
      for (const t of grads) t.dispose();
      opt.dispose();
      expect(tf.memory().numTensors, name).toBe(baseline);
      for (const v of vars.values()) v.dispose();
    }
  });

  it('leaves a parameter without a gradient and its state bitwise unchanged', () => {
    for (const name of definitions.keys()) {
      const c = defaultCase(name);
      const spec = createSpec(name, c.options);
      const next = rng(11);
      const shapes = name.startsWith('muon') ? [[3, 4], [2, 3]] : [[3, 4], [5]];
      const pair = makePair(spec, shapes, next);
      stepBoth(pair, gradsFor(pair, next));
      stepBoth(pair, gradsFor(pair, next));
      const p1Before = Float32Array.from(pair.vars.get('p1')!.dataSync());
      const stateBefore = JSON.stringify(pair.tfo.exportState().params.p1);
      const gs = gradsFor(pair, next);
      pair.tfo.step({ p0: gs.tfjs.p0 });
      pair.tfo.step({ p0: gs.tfjs.p0, p1: null });
      pair.tfo.step(new Map([['p0', gs.tfjs.p0!], ['p1', undefined]]));
      for (const t of Object.values(gs.tfjs)) t.dispose();
      expect(pair.vars.get('p1')!.dataSync(), name).toEqual(p1Before);
      expect(JSON.stringify(pair.tfo.exportState().params.p1), name).toBe(stateBefore);
      expect(pair.tfo.exportState().params.p0!.step, name).toBe(5);
      dispose(pair);
    }
  });

  it('state exported by tfjs imports into the reference and vice versa, and both continue alike', () => {
    for (const name of definitions.keys()) {
      const c = defaultCase(name);
      const spec = createSpec(name, c.options);
      const next = rng(13);
      const shapes = shapesFor(c, spec);
      const source = makePair(spec, shapes, next, c.groups);
      for (let t = 0; t < 3; t++) stepBoth(source, gradsFor(source, next));

      // tfjs → reference: a fresh reference at tfjs's parameters takes tfjs's state, exactly (float32 ⊂ Float64).
      const fromTfjs = source.tfo.exportState();
      const pair1 = makePair(spec, shapes, rng(1), c.groups);
      for (const [n, v] of source.vars) {
        pair1.ref.params.get(n)!.data.set(v.dataSync());
        pair1.vars.get(n)!.assign(v);
      }
      pair1.ref.importState(JSON.parse(JSON.stringify(fromTfjs)));
      pair1.tfo.importState(fromTfjs);
      expect(pair1.ref.exportState(), name).toEqual(fromTfjs);

      // reference → tfjs: tfjs holds the reference's state rounded to float32, its step counts and host scalars.
      const fromRef = source.ref.exportState();
      const pair2 = makePair(spec, shapes, rng(1), c.groups);
      for (const [n, t] of source.ref.params) {
        const rounded = Float32Array.from(t.data);
        pair2.ref.params.get(n)!.data.set(rounded);
        pair2.vars.get(n)!.assign(tf.tensor(rounded, t.shape as number[], 'float32'));
      }
      pair2.ref.importState(fromRef);
      pair2.tfo.importState(JSON.parse(JSON.stringify(fromRef)) as PortableState);
      const imported = pair2.tfo.exportState();
      expect(imported.stepCount).toBe(fromRef.stepCount);
      for (const [pn, p] of Object.entries(fromRef.params)) {
        expect(imported.params[pn]!.step).toBe(p.step);
        expect(imported.params[pn]!.scalars).toEqual(p.scalars);
        for (const [sn, s] of Object.entries(p.slots)) {
          expect(imported.params[pn]!.slots[sn]!.data.map(num), `${name} ${pn}.${sn}`).toEqual(s.data.map((x) => Math.fround(num(x))));
        }
      }

      // Both continue for two steps and agree within the tolerance of the step-by-step test.
      for (const pair of [pair1, pair2]) {
        const checker = new Checker(pair, `${name} after import`, c.k);
        for (let t = 1; t <= 2; t++) {
          stepBoth(pair, gradsFor(pair, next));
          checker.check(t);
        }
        dispose(pair);
      }
      dispose(source);
    }
  });

  it('propagates a NaN gradient (nonFinite: "apply") to the same elements as the reference', () => {
    for (const c of CASES) {
      const name = c.label;
      const spec = createSpec(c.name, c.options);
      const next = rng(17);
      const pair = makePair(spec, shapesFor(c, spec), next, c.groups);
      stepBoth(pair, gradsFor(pair, next));
      const gs = gradsFor(pair, next);
      for (const [n, t] of Object.entries(gs.ref)) {
        t.data[1 % t.data.length] = NaN;
        gs.tfjs[n]!.dispose();
        gs.tfjs[n] = tf.tensor(Float32Array.from(t.data), t.shape as number[], 'float32');
      }
      stepBoth(pair, gs);
      const ref = refTensors(pair);
      const got = tfjsTensors(pair);
      for (const [key, r] of ref) {
        expect([...got.get(key)!].map(Number.isNaN), `${name} ${key}`).toEqual([...r].map(Number.isNaN));
      }
      dispose(pair);
    }
  });
});

describe('tfjs kernels: scalar and empty parameters', () => {
  it('run like the reference on shapes [], [0] and [2, 0] (where the optimizer accepts them)', () => {
    for (const name of definitions.keys()) {
      const c = defaultCase(name);
      const spec = createSpec(name, c.options);
      const shapes = [[], [0], [2, 0], [0, 3]].filter((s) => !definitions.get(name)!.rejectShape?.(s, spec.options as never));
      if (shapes.length === 0) continue;
      const next = rng(19);
      const pair = makePair(spec, shapes, next);
      const checker = new Checker(pair, `${name} scalar/empty`, c.k);
      for (let t = 1; t <= 3; t++) {
        stepBoth(pair, gradsFor(pair, next));
        checker.check(t);
      }
      dispose(pair);
    }
  });
});

describe('nag evaluates the closure at the look-ahead point', () => {
  it('step(closure) matches the reference, and the point is θ − γv', () => {
    const spec = createSpec('nag', { lr: 0.1, momentum: 0.9, weightDecay: 0.05 });
    const next = rng(23);
    const pair = makePair(spec, [[7], [3, 4]], next);
    // f(x) = ½Σ a_i x_i² + Σ b_i x_i, ∇f = a ⊙ x + b.
    const coef = new Map([...pair.shapes].map(([n, s]) => [n, { a: uniform32(next, sizeOf(s)).map((x) => Math.fround(1 + x)), b: uniform32(next, sizeOf(s)), s }]));
    const checker = new Checker(pair, 'nag closure');
    const baseline = tf.memory().numTensors;
    for (let t = 1; t <= 10; t++) {
      const expected = new Map<string, Float64Array>();
      const v = pair.ref.exportState().params;
      for (const [n, p] of pair.ref.params) {
        const vel = v[n]!.slots.velocity!.data.map(num);
        expected.set(n, Float64Array.from(p.data, (x, i) => x - 0.9 * (vel[i] as number)));
      }
      pair.ref.step((point) => {
        const out: Record<string, Tensor> = {};
        for (const [n, x] of point) {
          const { a, b, s } = coef.get(n)!;
          expect([...x.data]).toEqual([...expected.get(n)!]);
          out[n] = tensor(Float64Array.from(x.data, (xi, i) => Math.fround((a[i] as number) * Math.fround(xi) + (b[i] as number))), s);
        }
        return out;
      });
      pair.tfo.step((point) => {
        const out: Record<string, tf.Tensor> = {};
        for (const [n, x] of point) {
          const { a, b, s } = coef.get(n)!;
          const want = expected.get(n)!;
          const have = x.dataSync();
          for (let i = 0; i < want.length; i++) expect(Math.abs((have[i] as number) - (want[i] as number))).toBeLessThanOrEqual(64 * U * (Math.abs(want[i] as number) + 1));
          out[n] = tf.tidy(() => tf.add(tf.mul(tf.tensor(Float32Array.from(a), s), x), tf.tensor(Float32Array.from(b), s)));
        }
        return out;
      });
      checker.check(t);
      expect(tf.memory().numTensors).toBe(baseline);
    }
    dispose(pair);
  });
});

describe('tfjs gradient transforms match the reference', () => {
  const shapes = [[7], [3, 4], [2, 3, 2, 2]];
  const transformCases: Array<[string, OptimizerSpec]> = [
    ['clipGradNorm 2', withTransforms(createSpec('sgd', { lr: 0.1, momentum: 0.5 }), clipGradNorm({ maxNorm: 1 }))],
    ['clipGradNorm inf', withTransforms(createSpec('sgd', { lr: 0.1 }), clipGradNorm({ maxNorm: 0.5, normType: 'inf' }))],
    ['clipGradNorm 1.5', withTransforms(createSpec('adam', { lr: 0.05 }), clipGradNorm({ maxNorm: 2, normType: 1.5 }))],
    ['clipGradValue', withTransforms(createSpec('sgd', { lr: 0.1 }), clipGradValue({ clipValue: 0.3 }))],
    ['adaptiveClip', withTransforms(createSpec('sgd', { lr: 0.1 }), adaptiveClip({ clipping: 0.6, eps: 0.1 }))],
    ['softClip', withTransforms(createSpec('sgd', { lr: 0.1 }), softClip())],
    ['centralize', withTransforms(createSpec('sgd', { lr: 0.1 }), centralize())],
    ['centralize convOnly', withTransforms(createSpec('sgd', { lr: 0.1 }), centralize({ convOnly: true }))],
    ['chain', withTransforms(createSpec('adamw', { lr: 0.05 }), centralize(), adaptiveClip({ clipping: 0.5 }), clipGradValue({ clipValue: 0.8 }), clipGradNorm({ maxNorm: 1.5 }))],
  ];
  it('propagate NaN like the reference and keep the live tensor count flat', () => {
    for (const [label, spec] of transformCases) {
      const next = rng(37);
      const pair = makePair(spec, shapes, next);
      stepBoth(pair, gradsFor(pair, next));
      const gs = gradsFor(pair, next);
      gs.ref.p1!.data[5] = NaN;
      gs.tfjs.p1!.dispose();
      gs.tfjs.p1 = tf.tensor(Float32Array.from(gs.ref.p1!.data), [3, 4], 'float32');
      stepBoth(pair, gs);
      const ref = refTensors(pair);
      const got = tfjsTensors(pair);
      for (const [key, r] of ref) expect([...got.get(key)!].map(Number.isNaN), `${label} ${key}`).toEqual([...r].map(Number.isNaN));
      const before = tf.memory().numTensors;
      for (let t = 0; t < 50; t++) {
        const g = gradsFor(pair, next);
        pair.tfo.step(g.tfjs);
        for (const x of Object.values(g.tfjs)) x.dispose();
      }
      expect(tf.memory().numTensors, label).toBe(before);
      dispose(pair);
    }
  });

  for (const [label, spec] of transformCases) {
    it(label, () => {
      const next = rng(29);
      const pair = makePair(spec, shapes, next);
      const checker = new Checker(pair, label);
      for (let t = 1; t <= 5; t++) {
        // Gradients of different sizes per unit, so that unit-wise clipping clips some units and not others.
        const gs = gradsFor(pair, next, 1 + t);
        const copies = Object.fromEntries(Object.entries(gs.tfjs).map(([n, g]) => [n, Float32Array.from(g.dataSync())]));
        const live = Object.values(gs.tfjs);
        pair.ref.step(gs.ref);
        pair.tfo.step(gs.tfjs);
        for (const [n, g] of Object.entries(gs.tfjs)) {
          expect(g.isDisposed).toBe(false); // the caller's gradients are neither disposed nor changed
          expect(g.dataSync()).toEqual(copies[n]);
        }
        for (const g of live) g.dispose();
        checker.check(t);
      }
      dispose(pair);
    });
  }
});

describe('muon: the float32 Newton–Schulz update agrees normwise with the reference', () => {
  /**
   * From θ₀ = 0 with lr = 1, momentum 0 and no Nesterov blend, one step gives θ₁ = −s·NS(g): the orthogonalized
   * update itself, compared normwise (‖Δ‖_F / ‖ref‖_F, the measure for matrix updates). Bound: each of the 5
   * steps rounds three products whose sums have at most n = max(rows, cols) terms (≲ 3n·u relative), and later
   * steps amplify that by at most max|φ′| ≈ a = 3.4445 each, so the output is off by ≲ Σ_{j<5} aʲ · 3n·u ≈ 200·3n·u
   * relative. The normalisation X₀ = G/(‖G‖_F + ε) adds ~n·u, inside the same budget. (That is a worst case:
   * the iteration is self-correcting and the measured errors are ~10u, 5e-7; a wrong coefficient, shape scale,
   * transpose or normalisation shows as an error of order 1e-2 or more.)
   */
  for (const shape of [[3, 4], [5, 2], [2, 3, 2], [24, 16], [16, 40]]) {
    it(`shape [${shape.join(', ')}]`, () => {
      const spec = createSpec('muon', { lr: 1, momentum: 0, nesterov: false });
      const next = rng(31 + shape.length);
      const n = sizeOf(shape);
      for (let trial = 0; trial < 3; trial++) {
        const ref = createReference(spec, { w: tensor(new Float64Array(n), shape) });
        const w = tf.variable(tf.zeros(shape));
        const opt = createTfjs(spec, { w });
        const g = uniform32(next, n);
        ref.step({ w: tensor(g, shape) });
        const gt = tf.tensor(Float32Array.from(g), shape, 'float32');
        opt.step({ w: gt });
        const want = ref.params.get('w')!.data;
        const have = w.dataSync();
        let diff = 0;
        let size = 0;
        for (let i = 0; i < n; i++) {
          diff += ((have[i] as number) - (want[i] as number)) ** 2;
          size += (want[i] as number) ** 2;
        }
        const dims = [shape[0] as number, n / (shape[0] as number)];
        const bound = 200 * 3 * Math.max(...dims) * U;
        const rel = Math.sqrt(diff / size);
        if (process.env.DESCENT_SHOW_TOLERANCE) console.log(`muon NS [${shape.join(', ')}]: ${rel.toExponential(2)} (bound ${bound.toExponential(2)})`);
        expect(rel).toBeLessThanOrEqual(bound);
        gt.dispose();
        opt.dispose();
        w.dispose();
      }
    });
  }
});
