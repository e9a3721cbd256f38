import type { AdafactorOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';
import { lerpSource } from './muon.js';

/** Python's `max(a, b)`: `a` unless `b > a` (a NaN `b` gives `a`), as the reference. */
const pyMax = (a: number, b: number): number => (b > a ? b : a);

/**
 * Adafactor on gpu.js, following `core/src/optimizers/adafactor.ts` (PyTorch 2.5's `torch.optim.Adafactor`),
 * including its order for the factored estimate (the ratio R_i / mean R first, the square root once, last). On the
 * device: the row and column means of G² with the factors' moving averages (two-dimensional outputs over
 * (row, batch) and (column, batch), each thread looping over the other axis), U = G/√max(V̂, ε₁²) as a
 * three-dimensional output (column, row, batch), and the reductions RMS(θ) and RMS(U). On the host, in Float64: the
 * per-batch mean of R (n values per batch), α_t and the update's scale.
 */
export const adafactorKernel: GpujsKernel<AdafactorOptions> = {
  *update(ctx) {
    const { options: o, shape, size, step: t } = ctx;
    const [eps1, eps2] = o.eps;
    const w = t ** o.beta2Decay;
    const rho = Math.min(o.lr, 1 / Math.sqrt(t));
    const alpha = pyMax(eps2, Math.sqrt(yield* ctx.sumSquares('param')) / Math.sqrt(size)) * rho;
    const lerp = { w, wComplement: 1 - w };
    const sign = o.maximize ? '-' : '';
    const k = shape.length;
    if (k >= 2) {
      const n = shape[k - 2] as number;
      const m = shape[k - 1] as number;
      const batches = size / (n * m);
      ctx.run(
        {
          output: [n, batches],
          arrays: { g: { buffer: 'grad', dims: [size] }, r: { buffer: 'rowVar', dims: [batches * n] } },
          scalars: ['w', 'wComplement'],
          body: `let s = 0.0;
for (let j = 0; j < ${m}; j++) { const x = g[(this.thread.y * ${n} + this.thread.x) * ${m} + j]; s += x * x; }
const mean = s / ${m}.0;
const old = r[this.thread.y * ${n} + this.thread.x];
const v = ${lerpSource('old', 'mean', w, 'w', 'wComplement')};`,
          writes: { rowVar: 'v' },
        },
        lerp,
      );
      ctx.run(
        {
          output: [m, batches],
          arrays: { g: { buffer: 'grad', dims: [size] }, c: { buffer: 'colVar', dims: [batches * m] } },
          scalars: ['w', 'wComplement'],
          body: `let s = 0.0;
for (let i = 0; i < ${n}; i++) { const x = g[(this.thread.y * ${n} + i) * ${m} + this.thread.x]; s += x * x; }
const mean = s / ${n}.0;
const old = c[this.thread.y * ${m} + this.thread.x];
const v = ${lerpSource('old', 'mean', w, 'w', 'wComplement')};`,
          writes: { colVar: 'v' },
        },
        lerp,
      );
      const R = yield* ctx.read('rowVar');
      const rowMean = new Float64Array(batches);
      for (let b = 0; b < batches; b++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += R[b * n + i] as number;
        rowMean[b] = Math.max(sum / n, eps1); // NaN stays NaN, as in the reference
      }
      ctx.write('adafactorRowMean', rowMean);
      ctx.run(
        {
          output: [m, n, batches],
          arrays: {
            g: { buffer: 'grad', dims: [size] },
            r: { buffer: 'rowVar', dims: [batches * n] },
            c: { buffer: 'colVar', dims: [batches * m] },
            rm: { buffer: 'adafactorRowMean', dims: [batches] },
          },
          scalars: o.factoredRoot === 'separate' ? ['invEps1'] : ['eps1Sq'],
          body: `const x = ${sign}g[(this.thread.z * ${n} + this.thread.y) * ${m} + this.thread.x];
const ratio = r[this.thread.z * ${n} + this.thread.y] / rm[this.thread.z];
${
  o.factoredRoot === 'separate'
    ? // fairseq / Hugging Face: rsqrt(R_i / mean R)·rsqrt(C_j), capped at 1/ε₁ (PyTorch's clamp of V̂ at ε₁²).
      `const scale = Math.min((1.0 / Math.sqrt(ratio)) * (1.0 / Math.sqrt(c[this.thread.z * ${m} + this.thread.x])), invEps1);
const u = x * scale;`
    : `const vHat = ratio * c[this.thread.z * ${m} + this.thread.x];
const u = x / Math.sqrt(Math.max(vHat, eps1Sq));`
}`,
          writes: { adafactorU: 'u' },
        },
        o.factoredRoot === 'separate' ? { invEps1: 1 / eps1 } : { eps1Sq: eps1 * eps1 },
      );
    } else {
      ctx.run(
        elementwise(size, {
          reads: { g: 'grad', variance: 'variance' },
          scalars: ['w', 'wComplement', 'eps1Sq'],
          body: `${o.maximize ? 'g = -g;\n' : ''}const gg = g * g;
variance = ${lerpSource('variance', 'gg', w, 'w', 'wComplement')};
const u = g / Math.sqrt(Math.max(variance, eps1Sq));`,
          writes: { variance: 'variance', adafactorU: 'u' },
        }),
        { ...lerp, eps1Sq: eps1 * eps1 },
      );
    }
    const denom = pyMax(1, Math.sqrt(yield* ctx.sumSquares('adafactorU')) / (Math.sqrt(size) * o.d));
    const values: Record<string, number> = { stepSize: alpha / denom };
    if (o.weightDecay !== 0) values.decay = 1 - o.lr * o.weightDecay;
    ctx.run(
      elementwise(size, {
        reads: { theta: 'param', u: 'adafactorU' },
        scalars: Object.keys(values),
        body: `${o.weightDecay !== 0 ? 'theta = theta * decay;\n' : ''}theta = theta - stepSize * u;`,
        writes: { param: 'theta' },
      }),
      values,
    );
  },
};
