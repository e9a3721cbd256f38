import type {
  AdabeliefOptions,
  AdadeltaOptions,
  AdagradOptions,
  AdamAtan2Options,
  AdamOptions,
  AdamaxOptions,
  AdamwOptions,
  LionOptions,
  MuonWithAuxAdamOptions,
  NadamOptions,
  RadamOptions,
  RmspropOptions,
  SgdOptions,
  SignsgdOptions,
} from '@descent/core';
import { simd as s, type SimdProgram, type SimdStmt } from './simd.js';

/**
 * Fused kernels: one loop per optimizer over float32 storage, for the TF.js `cpu` and `wasm` backends.
 *
 * Each loop is the Float64 reference loop of `core/src/optimizers/<name>.ts`, statement for statement, run on
 * `Float32Array`s: JavaScript arithmetic is float64, every store into a `Float32Array` rounds to float32 (what
 * `Math.fround` does), and a later read of the same element sees the rounded value. So a fused step is exactly
 * "the reference on float32 storage"; the tests check bit-for-bit equality with the reference `update` run on
 * `Float32Array`s. Host scalars (bias corrections, schedules) are computed in Float64 once per parameter and step,
 * by the same expressions as the reference.
 *
 * The parameter is read from `theta` and written to `out` (the same array when the backend updates in place); a
 * loop that writes θ twice (decoupled decay, then the step) reads its first write back from `out`.
 *
 * Some kernels also carry a {@link SimdProgram}: the same statements for the wasm backend's SIMD path, which must
 * produce the same bits as the loop (tested).
 *
 * @packageDocumentation
 */

/** The arrays and range of one fused loop. */
export interface FusedLoop<K = Readonly<Record<string, number>>> {
  /** Host scalars from {@link FusedKernel.coefficients}. */
  readonly k: K;
  /** The parameter before the step (read). */
  readonly theta: Float32Array;
  /** Where the parameter after the step goes; may be `theta` itself. */
  readonly out: Float32Array;
  readonly grad: Float32Array;
  /** State slots, updated in place. */
  readonly slots: Readonly<Record<string, Float32Array>>;
  /** Elements [start, end) are updated. */
  readonly start: number;
  readonly end: number;
}

/** The fused implementation of one optimizer. */
export interface FusedKernel<O, K extends Readonly<Record<string, number>> = Readonly<Record<string, number>>> {
  /** Whether this parameter can take the fused loop (Muon with auxiliary Adam: only its Adam half). Default yes. */
  accepts?(options: O, shape: readonly number[]): boolean;
  /**
   * Host scalars of one step for one parameter, in Float64. Called once per parameter and step, before the loops;
   * it may advance per-parameter scalars (NAdam's μ-product) exactly as the reference does.
   */
  coefficients(options: O, step: number, scalars: Record<string, number>): K;
  /** The elementwise loop over [start, end). */
  run(options: O, loop: FusedLoop<K>): void;
  /**
   * The same loop as a SIMD program (arrays `theta`, `out`, `grad` and the slots; scalars from `coefficients`),
   * with a key naming its shape under these options.
   */
  simd?: {
    /** Names the program's shape under these options (programs are cached by key). */
    key(options: O, k: K): string;
    /** The SIMD program. */
    program(options: O, k: K): SimdProgram;
  };
}

/** Declares a kernel, inferring its coefficient record from `coefficients`. */
const fused =
  <O>() =>
  <K extends Readonly<Record<string, number>>>(kernel: FusedKernel<O, K>): FusedKernel<O, K> =>
    kernel;

const flag = (b: boolean) => (b ? '1' : '0');

/** g ← ±grad (the first statement of every SIMD program: the gradient is read before anything is written). */
const loadGrad = (maximize: boolean): SimdStmt => s.let('g', maximize ? s.neg(s.load('grad')) : s.load('grad'));

// ---------------------------------------------------------------------------------------------------------------

export const sgdFused = fused<SgdOptions>()({
  coefficients: (o, step) => ({ lr: o.lr, mu: o.momentum, oneMinusTau: 1 - o.dampening, lambda: o.weightDecay, first: step === 1 ? 1 : 0 }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, mu, oneMinusTau, lambda, first } = k;
    const { nesterov, maximize } = o;
    const b = slots.momentumBuffer;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      let d = g;
      if (b) {
        b[i] = first ? g : mu * (b[i] as number) + oneMinusTau * g;
        d = nesterov ? g + mu * (b[i] as number) : (b[i] as number);
      }
      out[i] = (theta[i] as number) - lr * d;
    }
  },
  simd: {
    // The first step copies g into the momentum buffer: a program of its own, so no program branches per element.
    key: (o, k) => `sgd:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.momentum !== 0)}${flag(o.nesterov)}${flag(k.first === 1)}`,
    program(o, k) {
      const momentum = o.momentum !== 0;
      const body: SimdStmt[] = [loadGrad(o.maximize)];
      if (o.weightDecay !== 0) body.push(s.let('g', s.add(s.ref('g'), s.mul(s.scalar('lambda'), s.load('theta')))));
      let d = s.ref('g');
      if (momentum) {
        const b = s.load('momentumBuffer');
        body.push(s.store('momentumBuffer', k.first === 1 ? s.ref('g') : s.add(s.mul(s.scalar('mu'), b), s.mul(s.scalar('oneMinusTau'), s.ref('g')))));
        d = o.nesterov ? s.add(s.ref('g'), s.mul(s.scalar('mu'), b)) : b;
      }
      body.push(s.store('out', s.sub(s.load('theta'), s.mul(s.scalar('lr'), d))));
      return { arrays: ['theta', 'out', 'grad', ...(momentum ? ['momentumBuffer'] : [])], scalars: ['lr', 'mu', 'oneMinusTau', 'lambda'], body };
    },
  },
});

// ---------------------------------------------------------------------------------------------------------------

function adamCoefficients(lr: number, beta1: number, beta2: number, eps: number, t: number) {
  const biasCorrection1 = 1 - beta1 ** t;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
  return { beta1, beta2, oneMinusBeta1: 1 - beta1, oneMinusBeta2: 1 - beta2, eps, stepSize: lr / biasCorrection1, biasCorrection2Sqrt };
}

/** The moment updates and the Adam step shared by the Adam and AdamW programs (after g and any decay). */
function adamProgramTail(amsgrad: boolean, thetaFrom: 'theta' | 'out'): SimdStmt[] {
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

const adamScalars = ['beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'eps', 'stepSize', 'biasCorrection2Sqrt'];

export const adamFused = fused<AdamOptions>()({
  coefficients: (o, t) => ({ ...adamCoefficients(o.lr, o.betas[0], o.betas[1], o.eps, t), lambda: o.weightDecay }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, stepSize, biasCorrection2Sqrt, lambda } = k;
    const maximize = o.maximize;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    const vMax = slots.maxExpAvgSq;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      v[i] = beta2 * (v[i] as number) + oneMinusBeta2 * g * g;
      let vHat = v[i] as number;
      if (vMax) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
      const denom = Math.sqrt(vHat) / biasCorrection2Sqrt + eps;
      out[i] = (theta[i] as number) - (stepSize * (m[i] as number)) / denom;
    }
  },
  simd: {
    key: (o) => `adam:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.amsgrad)}`,
    program(o) {
      const body: SimdStmt[] = [loadGrad(o.maximize)];
      if (o.weightDecay !== 0) body.push(s.let('g', s.add(s.ref('g'), s.mul(s.scalar('lambda'), s.load('theta')))));
      body.push(...adamProgramTail(o.amsgrad, 'theta'));
      return { arrays: ['theta', 'out', 'grad', 'expAvg', 'expAvgSq', ...(o.amsgrad ? ['maxExpAvgSq'] : [])], scalars: [...adamScalars, 'lambda'], body };
    },
  },
});

export const adamwFused = fused<AdamwOptions>()({
  coefficients: (o, t) => ({ ...adamCoefficients(o.lr, o.betas[0], o.betas[1], o.eps, t), shrink: 1 - o.lr * o.weightDecay }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, stepSize, biasCorrection2Sqrt, shrink } = k;
    const maximize = o.maximize;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    const vMax = slots.maxExpAvgSq;
    for (let i = start; i < end; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = (theta[i] as number) * shrink;
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      v[i] = beta2 * (v[i] as number) + oneMinusBeta2 * g * g;
      let vHat = v[i] as number;
      if (vMax) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
      const denom = Math.sqrt(vHat) / biasCorrection2Sqrt + eps;
      out[i] = (out[i] as number) - (stepSize * (m[i] as number)) / denom;
    }
  },
  simd: {
    key: (o) => `adamw:${flag(o.maximize)}${flag(o.amsgrad)}`,
    program(o) {
      const body: SimdStmt[] = [loadGrad(o.maximize), s.store('out', s.mul(s.load('theta'), s.scalar('shrink'))), ...adamProgramTail(o.amsgrad, 'out')];
      return { arrays: ['theta', 'out', 'grad', 'expAvg', 'expAvgSq', ...(o.amsgrad ? ['maxExpAvgSq'] : [])], scalars: [...adamScalars, 'shrink'], body };
    },
  },
});

// ---------------------------------------------------------------------------------------------------------------

export const lionFused = fused<LionOptions>()({
  coefficients: (o) => ({ lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], oneMinusBeta1: 1 - o.betas[0], oneMinusBeta2: 1 - o.betas[1], decay: 1 - o.lr * o.weightDecay }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, decay } = k;
    const maximize = o.maximize;
    const m = slots.expAvg as Float32Array;
    for (let i = start; i < end; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = (theta[i] as number) * decay;
      const c = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      out[i] = (out[i] as number) - lr * Math.sign(c);
      m[i] = beta2 * (m[i] as number) + oneMinusBeta2 * g;
    }
  },
  simd: {
    key: (o) => `lion:${flag(o.maximize)}`,
    program: (o) => ({
      arrays: ['theta', 'out', 'grad', 'expAvg'],
      scalars: ['lr', 'beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'decay'],
      body: [
        loadGrad(o.maximize),
        s.store('out', s.mul(s.load('theta'), s.scalar('decay'))),
        s.let('c', s.add(s.mul(s.scalar('beta1'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta1'), s.ref('g')))),
        s.store('out', s.sub(s.load('out'), s.mul(s.scalar('lr'), s.sign(s.ref('c'))))),
        s.store('expAvg', s.add(s.mul(s.scalar('beta2'), s.load('expAvg')), s.mul(s.scalar('oneMinusBeta2'), s.ref('g')))),
      ],
    }),
  },
});

export const signsgdFused = fused<SignsgdOptions>()({
  coefficients: (o) => ({ lr: o.lr, beta: o.momentum, oneMinusBeta: 1 - o.momentum, decay: 1 - o.lr * o.weightDecay }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta, oneMinusBeta, decay } = k;
    const maximize = o.maximize;
    const m = slots.momentumBuffer;
    for (let i = start; i < end; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = (theta[i] as number) * decay;
      let d = g;
      if (m) d = m[i] = beta * (m[i] as number) + oneMinusBeta * g;
      out[i] = (out[i] as number) - lr * Math.sign(d);
    }
  },
});

// ---------------------------------------------------------------------------------------------------------------

export const rmspropFused = fused<RmspropOptions>()({
  coefficients: (o) => ({ lr: o.lr, alpha: o.alpha, oneMinusAlpha: 1 - o.alpha, eps: o.eps, lambda: o.weightDecay, mu: o.momentum }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, alpha, oneMinusAlpha, eps, lambda, mu } = k;
    const maximize = o.maximize;
    const sq = slots.squareAvg as Float32Array;
    const gBar = slots.gradAvg;
    const b = slots.momentumBuffer;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      sq[i] = alpha * (sq[i] as number) + oneMinusAlpha * g * g;
      let avg: number;
      if (gBar) {
        gBar[i] = alpha * (gBar[i] as number) + oneMinusAlpha * g;
        avg = Math.sqrt((sq[i] as number) - (gBar[i] as number) * (gBar[i] as number));
      } else {
        avg = Math.sqrt(sq[i] as number);
      }
      avg = avg + eps;
      if (b) {
        b[i] = mu * (b[i] as number) + g / avg;
        out[i] = (theta[i] as number) - lr * (b[i] as number);
      } else {
        out[i] = (theta[i] as number) - (lr * g) / avg;
      }
    }
  },
  simd: {
    key: (o) => `rmsprop:${flag(o.maximize)}${flag(o.weightDecay !== 0)}${flag(o.centered)}${flag(o.momentum > 0)}`,
    program(o) {
      const body: SimdStmt[] = [loadGrad(o.maximize)];
      if (o.weightDecay !== 0) body.push(s.let('g', s.add(s.ref('g'), s.mul(s.scalar('lambda'), s.load('theta')))));
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
  },
});

export const adagradFused = fused<AdagradOptions>()({
  coefficients: (o, t) => ({ clr: o.lr / (1 + (t - 1) * o.lrDecay), eps: o.eps, lambda: o.weightDecay }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { clr, eps, lambda } = k;
    const maximize = o.maximize;
    const sum = slots.sum as Float32Array;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      sum[i] = (sum[i] as number) + g * g;
      const std = Math.sqrt(sum[i] as number) + eps;
      out[i] = (theta[i] as number) - (clr * g) / std;
    }
  },
  simd: {
    key: (o) => `adagrad:${flag(o.maximize)}${flag(o.weightDecay !== 0)}`,
    program(o) {
      const body: SimdStmt[] = [loadGrad(o.maximize)];
      if (o.weightDecay !== 0) body.push(s.let('g', s.add(s.ref('g'), s.mul(s.scalar('lambda'), s.load('theta')))));
      body.push(
        s.store('sum', s.add(s.load('sum'), s.mul(s.ref('g'), s.ref('g')))),
        s.let('std', s.add(s.sqrt(s.load('sum')), s.scalar('eps'))),
        s.store('out', s.sub(s.load('theta'), s.div(s.mul(s.scalar('clr'), s.ref('g')), s.ref('std')))),
      );
      return { arrays: ['theta', 'out', 'grad', 'sum'], scalars: ['clr', 'eps', 'lambda'], body };
    },
  },
});

export const adadeltaFused = fused<AdadeltaOptions>()({
  coefficients: (o) => ({ lr: o.lr, rho: o.rho, oneMinusRho: 1 - o.rho, eps: o.eps, lambda: o.weightDecay }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, rho, oneMinusRho, eps, lambda } = k;
    const maximize = o.maximize;
    const sq = slots.squareAvg as Float32Array;
    const acc = slots.accDelta as Float32Array;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      sq[i] = rho * (sq[i] as number) + oneMinusRho * g * g;
      const std = Math.sqrt((sq[i] as number) + eps);
      const delta = (Math.sqrt((acc[i] as number) + eps) / std) * g;
      acc[i] = rho * (acc[i] as number) + oneMinusRho * delta * delta;
      out[i] = (theta[i] as number) - lr * delta;
    }
  },
});

// ---------------------------------------------------------------------------------------------------------------

export const adamaxFused = fused<AdamaxOptions>()({
  coefficients: (o, t) => ({ beta1: o.betas[0], beta2: o.betas[1], oneMinusBeta1: 1 - o.betas[0], eps: o.eps, lambda: o.weightDecay, clr: o.lr / (1 - o.betas[0] ** t) }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { beta1, beta2, oneMinusBeta1, eps, lambda, clr } = k;
    const maximize = o.maximize;
    const m = slots.expAvg as Float32Array;
    const u = slots.expInf as Float32Array;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * (theta[i] as number);
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      u[i] = Math.max(beta2 * (u[i] as number), Math.abs(g) + eps);
      out[i] = (theta[i] as number) - (clr * (m[i] as number)) / (u[i] as number);
    }
  },
});

export const nadamFused = fused<NadamOptions>()({
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
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, lambda, decay, biasCorrection2, gradCoef, momentumCoef } = k;
    const { decoupledWeightDecay, maximize } = o;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = theta[i] as number;
      if (lambda !== 0) {
        if (decoupledWeightDecay) out[i] = (out[i] as number) * decay;
        else g = g + lambda * (out[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      v[i] = beta2 * (v[i] as number) + oneMinusBeta2 * g * g;
      const denom = Math.sqrt((v[i] as number) / biasCorrection2) + eps;
      out[i] = (out[i] as number) - (gradCoef * g) / denom;
      out[i] = (out[i] as number) - (momentumCoef * (m[i] as number)) / denom;
    }
  },
});

export const radamFused = fused<RadamOptions>()({
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
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, lambda, decay, biasCorrection1, biasCorrection2Sqrt, rectified, rect } = k;
    const { decoupledWeightDecay, maximize } = o;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = theta[i] as number;
      if (lambda !== 0) {
        if (decoupledWeightDecay) out[i] = (out[i] as number) * decay;
        else g = g + lambda * (out[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      v[i] = beta2 * (v[i] as number) + oneMinusBeta2 * g * g;
      const mHat = (m[i] as number) / biasCorrection1;
      if (rectified) {
        const adaptiveLr = biasCorrection2Sqrt / (Math.sqrt(v[i] as number) + eps);
        out[i] = (out[i] as number) - mHat * lr * adaptiveLr * rect;
      } else {
        out[i] = (out[i] as number) - mHat * lr;
      }
    }
  },
});

export const adamAtan2Fused = fused<AdamAtan2Options>()({
  coefficients: (o, t) => ({
    lr: o.lr,
    beta1: o.betas[0],
    beta2: o.betas[1],
    oneMinusBeta1: 1 - o.betas[0],
    oneMinusBeta2: 1 - o.betas[1],
    lambda: o.weightDecay,
    shrink: 1 - o.lr * o.weightDecay,
    a: o.a,
    b: o.b,
    biasCorrection1: 1 - o.betas[0] ** t,
    biasCorrection2: 1 - o.betas[1] ** t,
  }),
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, lambda, shrink, a, b, biasCorrection1, biasCorrection2 } = k;
    const maximize = o.maximize;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    for (let i = start; i < end; i++) {
      const g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = theta[i] as number;
      if (lambda > 0) out[i] = (out[i] as number) * shrink;
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      v[i] = beta2 * (v[i] as number) + oneMinusBeta2 * g * g;
      const mHat = (m[i] as number) / biasCorrection1;
      const vHat = (v[i] as number) / biasCorrection2;
      out[i] = (out[i] as number) - lr * a * Math.atan2(mHat, b * Math.sqrt(vHat));
    }
  },
});

export const adabeliefFused = fused<AdabeliefOptions>()({
  coefficients(o, t) {
    const [beta1, beta2] = o.betas;
    const biasCorrection1 = 1 - beta1 ** t;
    const biasCorrection2 = 1 - beta2 ** t;
    const beta2t = beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rho = rhoInf - (2 * t * beta2t) / (1 - beta2t);
    let rectifiedStep = 0;
    if (o.rectify && rho >= 5) {
      const ratio = ((((1 - beta2t) * (rho - 4)) / (rhoInf - 4)) * (rho - 2)) / rho;
      rectifiedStep = Math.sqrt((ratio * rhoInf) / (rhoInf - 2)) / biasCorrection1;
    }
    return {
      lr: o.lr,
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      lambda: o.weightDecay,
      shrink: 1 - o.lr * o.weightDecay,
      biasCorrection1,
      biasCorrection2Sqrt: Math.sqrt(biasCorrection2),
      rho,
      rectifiedStep,
      sgdStep: o.rectify && rho < 5 && o.degeneratedToSgd ? 1 / biasCorrection1 : 0,
    };
  },
  run(o, { k, theta, out, grad, slots, start, end }) {
    const { lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, lambda, shrink, biasCorrection1, biasCorrection2Sqrt, rho, rectifiedStep, sgdStep } = k;
    const { decoupledWeightDecay, rectify, maximize } = o;
    const m = slots.expAvg as Float32Array;
    const sv = slots.expAvgVar as Float32Array;
    const sMax = slots.maxExpAvgVar;
    for (let i = start; i < end; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      out[i] = theta[i] as number;
      if (lambda !== 0) {
        if (decoupledWeightDecay) out[i] = (out[i] as number) * shrink;
        else g = g + lambda * (out[i] as number);
      }
      m[i] = beta1 * (m[i] as number) + oneMinusBeta1 * g;
      const residual = g - (m[i] as number);
      sv[i] = beta2 * (sv[i] as number) + oneMinusBeta2 * residual * residual;
      sv[i] = (sv[i] as number) + eps;
      if (!rectify) {
        let sHat = sv[i] as number;
        if (sMax) sHat = sMax[i] = Math.max(sMax[i] as number, sHat);
        const denom = Math.sqrt(sHat) / biasCorrection2Sqrt + eps;
        out[i] = (out[i] as number) - (lr / biasCorrection1) * ((m[i] as number) / denom);
      } else if (rho >= 5) {
        const denom = Math.sqrt(sv[i] as number) + eps;
        out[i] = (out[i] as number) - rectifiedStep * lr * ((m[i] as number) / denom);
      } else if (sgdStep > 0) {
        out[i] = (out[i] as number) - sgdStep * lr * (m[i] as number);
      }
    }
  },
});

/** torch.lerp as core's `lerpTorch` evaluates it (from the `end` side when |w| ≥ 0.5). */
function lerpTorch(start: number, end: number, w: number): number {
  return Math.abs(w) < 0.5 ? start + w * (end - start) : end - (end - start) * (1 - w);
}

/** Muon with auxiliary Adam: the fused loop covers the Adam half; Muon parameters take the composed kernel. */
export const muonWithAuxAdamFused = fused<MuonWithAuxAdamOptions>()({
  accepts: (o, shape) => (o.use === 'auto' ? shape.length < 2 : o.use === 'adam'),
  coefficients: (o, t) => ({
    lr: o.adamLr,
    oneMinusBeta1: 1 - o.adamBetas[0],
    oneMinusBeta2: 1 - o.adamBetas[1],
    eps: o.adamEps,
    biasCorrection1: 1 - o.adamBetas[0] ** t,
    biasCorrection2: 1 - o.adamBetas[1] ** t,
    decay: 1 - o.adamLr * o.adamWeightDecay,
  }),
  run(_o, { k, theta, out, grad, slots, start, end }) {
    const { lr, oneMinusBeta1, oneMinusBeta2, eps, biasCorrection1, biasCorrection2, decay } = k;
    const m = slots.expAvg as Float32Array;
    const v = slots.expAvgSq as Float32Array;
    for (let i = start; i < end; i++) {
      const g = grad[i] as number;
      m[i] = lerpTorch(m[i] as number, g, oneMinusBeta1);
      v[i] = lerpTorch(v[i] as number, g * g, oneMinusBeta2);
      const update = (m[i] as number) / biasCorrection1 / (Math.sqrt((v[i] as number) / biasCorrection2) + eps);
      out[i] = (theta[i] as number) * decay - lr * update;
    }
  },
});

/** Fused kernels by optimizer name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const fusedKernels: Readonly<Record<string, FusedKernel<any>>> = {
  sgd: sgdFused,
  adam: adamFused,
  adamw: adamwFused,
  lion: lionFused,
  signsgd: signsgdFused,
  rmsprop: rmspropFused,
  adagrad: adagradFused,
  adadelta: adadeltaFused,
  adamax: adamaxFused,
  nadam: nadamFused,
  radam: radamFused,
  adamAtan2: adamAtan2Fused,
  adabelief: adabeliefFused,
  muonWithAuxAdam: muonWithAuxAdamFused,
};
