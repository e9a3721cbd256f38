import { modeSizes, soapEigenbasis, soapLayout, soapRefreshBasis, type SoapOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';
import { permuteProgram } from '../linalg.js';
import type { Program } from '../program.js';

/**
 * GG ← lerp(GG, G₍ᵢ₎G₍ᵢ₎ᵀ, w): a preconditioner moved towards the mode-i Gram matrix of the flat `x`, in torch.lerp's
 * form for the weight (core's lerpTorch): GG + w·(S − GG) for w < ½, S − (S − GG)·(1 − w) otherwise.
 */
function lerpGramProgram(gg: string, x: string, n: number, outer: number, d: number, inner: number, w: number): Program {
  return {
    output: [d, d],
    arrays: { h: { buffer: gg, dims: [d, d] }, x: { buffer: x, dims: [n] } },
    scalars: ['weight', 'oneMinusWeight'],
    body: `let s = 0.0;
for (let o = 0; o < ${outer}; o++) {
  for (let r = 0; r < ${inner}; r++) {
    s += x[(o * ${d} + this.thread.y) * ${inner} + r] * x[(o * ${d} + this.thread.x) * ${inner} + r];
  }
}
const old = h[this.thread.y][this.thread.x];
${w < 0.5 ? 'const v = old + weight * (s - old);' : 'const v = s - (s - old) * oneMinusWeight;'}`,
    writes: { [gg]: 'v' },
  };
}

/**
 * Y = X ×ᵢ Q (`transpose` false) or X ×ᵢ Qᵀ: Y[o, a, r] = Σ_b M[a, b]·X[o, b, r], as a three-dimensional output
 * (x = r, y = a, z = o), so that element (o, a, r) lands at (o·d + a)·inner + r, the row-major layout of X.
 */
function modeProductProgram(q: string, x: string, dest: string, n: number, outer: number, d: number, inner: number, transpose: boolean): Program {
  const m = transpose ? 'm[b][this.thread.y]' : 'm[this.thread.y][b]';
  return {
    output: [inner, d, outer],
    arrays: { m: { buffer: q, dims: [d, d] }, x: { buffer: x, dims: [n] } },
    scalars: [],
    body: `let s = 0.0;
for (let b = 0; b < ${d}; b++) {
  s += ${m} * x[(this.thread.z * ${d} + b) * ${inner} + this.thread.x];
}`,
    writes: { [dest]: 's' },
  };
}

/** x.index_select(i, order): Y[o, j, r] = X[o, order[j], r], the order held in the buffer `order` (d values). */
function selectProgram(x: string, order: string, dest: string, n: number, outer: number, d: number, inner: number): Program {
  return {
    output: [inner, d, outer],
    arrays: { x: { buffer: x, dims: [n] }, idx: { buffer: order, dims: [d] } },
    scalars: [],
    body: `const v = x[(this.thread.z * ${d} + idx[this.thread.y]) * ${inner} + this.thread.x];`,
    writes: { [dest]: 'v' },
  };
}

/**
 * SOAP on gpu.js, following `core/src/optimizers/soap.ts` (nikhilvyas/SOAP's soap.py @ f42d296). On the device:
 * the lerp of every preconditioner GG<i> towards its mode Gram matrix, both projections (mode products with Qᵢᵀ
 * and Qᵢ), Adam's moments in the eigenbasis, the step and the decoupled decay, the permutation of v on refresh
 * and the rotation of m into the new basis (and the NHWC axis permutation of `mergeDims` with `channelsLast`). On
 * the host, in Float64: the first eigenbasis (core's `soapEigenbasis`) and every refresh (`soapRefreshBasis`:
 * the sort by diag(QᵀGGQ), one power iteration, Householder QR), from readbacks of GGᵢ and Qᵢ on step 1 and every
 * `preconditionFrequency` steps after, as Shampoo's inverse roots; `normalizeGrads` reads back one sum of squares
 * per step.
 */
export const soapKernel: GpujsKernel<SoapOptions> = {
  *update(ctx) {
    const { options: o, shape, size: n, step: t } = ctx;
    const layout = soapLayout(o, shape);
    const work = layout.shape;
    const perm = layout.permutation;
    const [beta1, beta2] = o.betas;
    const shampooBeta = o.shampooBeta >= 0 ? o.shampooBeta : beta2;
    const toWork = (source: string, dest: string): string => {
      if (!perm) return source;
      ctx.run(permuteProgram(source, shape, perm, dest));
      return dest;
    };
    const fromWork = (source: string, dest: string): void => {
      if (perm) ctx.run(permuteProgram(source, shape, perm, dest, true));
      else ctx.run(elementwise(n, { reads: { x: source }, body: '', writes: { [dest]: 'x' } }));
    };
    const g = toWork('grad', 'soapG');

    const updateStatistics = (): void => {
      for (const i of layout.modes) {
        const { outer, d, inner } = modeSizes(work, i);
        const w = 1 - shampooBeta;
        ctx.run(lerpGramProgram(`GG${i}`, g, n, outer, d, inner, w), { weight: w, oneMinusWeight: 1 - w });
      }
    };
    // Ping-pong between two temporaries per projection; returns the buffer holding the result.
    const project = (x: string, back: boolean, tag: string): string => {
      let current = x;
      let k = 0;
      for (const i of layout.modes) {
        const { outer, d, inner } = modeSizes(work, i);
        const dest = `soap${tag}${k % 2}`;
        ctx.run(modeProductProgram(`Q${i}`, current, dest, n, outer, d, inner, !back));
        current = dest;
        k++;
      }
      return current;
    };

    if (t === 1) {
      updateStatistics();
      for (const i of layout.modes) {
        const d = work[i] as number;
        const gg = yield* ctx.read(`GG${i}`);
        ctx.write(`Q${i}`, soapEigenbasis(symmetrize(gg, d), d));
      }
      return;
    }

    const s = t - 1;
    const gp = project(g, false, 'P');
    const m0 = toWork('expAvg', 'soapM');
    const v0 = toWork('expAvgSq', 'soapV');
    ctx.run(
      elementwise(n, {
        reads: { x: gp, m: m0, v: v0 },
        scalars: ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'eps'],
        body: `m = m * beta1 + oneMinusBeta1 * x;
v = v * beta2 + oneMinusBeta2 * (x * x);
const ratio = m / (Math.sqrt(v) + eps);`,
        writes: { soapM1: 'm', soapV1: 'v', soapRatio: 'ratio' },
      }),
      { beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, eps: o.eps },
    );
    let update = project('soapRatio', true, 'B');
    if (perm) {
      ctx.run(permuteProgram(update, shape, perm, 'soapN', true));
      update = 'soapN';
    }
    let stepSize = o.correctBias ? (o.lr * Math.sqrt(1 - beta2 ** s)) / (1 - beta1 ** s) : o.lr;
    if (o.normalizeGrads) stepSize /= 1e-30 + Math.sqrt((yield* ctx.sumSquares(update)) / n);
    const decay = o.weightDecay > 0 ? -o.lr * o.weightDecay : 0;
    ctx.run(
      elementwise(n, {
        reads: { theta: 'param', u: update },
        scalars: ['stepSize', 'decay'],
        body: 'theta = theta - stepSize * u;\ntheta = theta + decay * theta;',
        writes: { param: 'theta' },
      }),
      { stepSize, decay },
    );

    updateStatistics();
    let m = 'soapM1';
    let v = 'soapV1';
    if (s % o.preconditionFrequency === 0) {
      const original = project(m, true, 'R');
      let k = 0;
      for (const i of layout.modes) {
        const { outer, d, inner } = modeSizes(work, i);
        const gg = yield* ctx.read(`GG${i}`);
        const q = yield* ctx.read(`Q${i}`);
        const refreshed = soapRefreshBasis(symmetrize(gg, d), q, d);
        ctx.write(`soapOrder${i}`, refreshed.order);
        const dest = `soapSorted${k % 2}`;
        ctx.run(selectProgram(v, `soapOrder${i}`, dest, n, outer, d, inner));
        v = dest;
        k++;
        ctx.write(`Q${i}`, refreshed.q);
      }
      m = project(original, false, 'F');
    }
    fromWork(m, 'expAvg');
    fromWork(v, 'expAvgSq');
  },
};

/** ½(A + Aᵀ) of a host copy (the device's Gram products round each triangle on its own). */
function symmetrize(a: Float64Array, d: number): Float64Array {
  const sym = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) sym[i * d + j] = 0.5 * ((a[i * d + j] as number) + (a[j * d + i] as number));
  return sym;
}
