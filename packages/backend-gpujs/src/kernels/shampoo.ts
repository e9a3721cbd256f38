import { inverseRootEigh, inverseRootNewtonSchulz, modeSizes, resolveMatrixView, shampooPreconditioned, type ShampooOptions } from '@descent/core';
import { addModeGramF32, inverseRootNewtonSchulzF32, modeProductF32 } from '@descent/wasm-linalg';
import { elementwise, type GpujsKernel } from '../kernel.js';
import type { Program } from '../program.js';

/** H ← H + X₍ᵢ₎X₍ᵢ₎ᵀ: the mode-i Gram matrix of the flat tensor `x` added to the d × d preconditioner, on the device. */
function modeGramProgram(h: string, x: string, n: number, outer: number, d: number, inner: number): Program {
  return {
    output: [d, d],
    arrays: { h: { buffer: h, dims: [d, d] }, x: { buffer: x, dims: [n] } },
    scalars: [],
    body: `let s = 0.0;
for (let o = 0; o < ${outer}; o++) {
  for (let r = 0; r < ${inner}; r++) {
    s += x[(o * ${d} + this.thread.y) * ${inner} + r] * x[(o * ${d} + this.thread.x) * ${inner} + r];
  }
}
const v = h[this.thread.y][this.thread.x] + s;`,
    writes: { [h]: 'v' },
  };
}

/**
 * Y = X ×ᵢ M: Y[o, a, r] = Σ_b M[a, b]·X[o, b, r], as a three-dimensional output (x = r, y = a, z = o), so that
 * element (o, a, r) lands at (o·d + a)·inner + r, the row-major layout of X, with no index division.
 */
function modeProductProgram(m: string, x: string, dest: string, n: number, outer: number, d: number, inner: number): Program {
  return {
    output: [inner, d, outer],
    arrays: { m: { buffer: m, dims: [d, d] }, x: { buffer: x, dims: [n] } },
    scalars: [],
    body: `let s = 0.0;
for (let b = 0; b < ${d}; b++) {
  s += m[this.thread.y][b] * x[(this.thread.z * ${d} + b) * ${inner} + this.thread.x];
}`,
    writes: { [dest]: 's' },
  };
}

/**
 * Shampoo on gpu.js, following `core/src/optimizers/shampoo.ts` (torch-optimizer's form, with the `exponent`,
 * `statistics` and `inverseRoot` options). On the device: the momentum mix and L2 term, every mode's Gram
 * update of its preconditioner, every mode product and the step. On the host, in Float64: the inverse p-th roots
 * of the preconditioners on refresh steps (read back, then uploaded as `invPrecond<i>`), with core's own
 * `inverseRootEigh` or `inverseRootNewtonSchulz`, as distributed Shampoo implementations do on the CPU. Their cost
 * is O(dᵢ³) on the host per refresh, plus a d × d readback and upload per mode. In the webasm and cpu modes
 * (`ctx.linalg`) the statistics and mode products run on the host too, as `@descent/wasm-linalg` float32 GEMMs,
 * and so does the `newtonSchulz` root (`inverseRootNewtonSchulzF32`, in float32 there; `eigh` stays Float64).
 */
export const shampooKernel: GpujsKernel<ShampooOptions> = {
  *update(ctx) {
    const { options: o, shape, size: n, step: t } = ctx;
    const k = shape.length;
    const momentum = o.momentum > 0;

    // X⁽⁰⁾ = (1 − μ)·g + μ·(g on the first step, else the previous update) + λθ.
    const reads: Record<string, string> = { g: 'grad' };
    const values: Record<string, number> = {};
    const body = ['let d = g;'];
    if (momentum) {
      Object.assign(values, { oneMinusMu: 1 - o.momentum, mu: o.momentum });
      if (t === 1) body.push('d = g * oneMinusMu + mu * g;');
      else {
        reads.u = 'momentumBuffer';
        body.push('d = g * oneMinusMu + mu * u;');
      }
    }
    if (o.weightDecay > 0) {
      reads.theta = 'param';
      values.weightDecay = o.weightDecay;
      body.push('d = d + weightDecay * theta;');
    }
    ctx.run(elementwise(n, { reads, scalars: Object.keys(values), body: body.join('\n'), writes: { shampooX: 'd' } }), values);

    const p = (o.exponent === 'paper' ? 2 : 1) * k;
    const refresh = (t - 1) % o.updateFreq === 0;
    let x = 'shampooX';
    const la = ctx.linalg;
    if (la && n > 0) {
      // Host memory (webasm, cpu): statistics, roots and mode products as float32 GEMMs of wasm-linalg.
      const x0 = Float32Array.from(yield* ctx.read('shampooX'));
      let xh: Float32Array = x0;
      for (const i of resolveMatrixView(o.matrixView, shape).order) {
        const { outer, d, inner } = modeSizes(shape, i);
        if (!shampooPreconditioned(o, d)) continue; // X ×ᵢ I = X
        const h = addModeGramF32(la, o.statistics === 'paper' ? x0 : xh, outer, d, inner, Float32Array.from(yield* ctx.read(`precond${i}`)));
        ctx.write(`precond${i}`, h);
        let r: Float32Array;
        if (refresh) {
          r = o.inverseRoot === 'eigh' ? Float32Array.from(inverseRootEigh(Float64Array.from(h), d, p)) : inverseRootNewtonSchulzF32(la, h, d, p, o.iterSteps, o.iterEps);
          ctx.write(`invPrecond${i}`, r);
        } else {
          r = Float32Array.from(yield* ctx.read(`invPrecond${i}`));
        }
        xh = modeProductF32(la, r, xh, outer, d, inner);
      }
      ctx.write('shampooY', xh);
      x = 'shampooY';
    } else for (const i of resolveMatrixView(o.matrixView, shape).order) {
      const { outer, d, inner } = modeSizes(shape, i);
      if (!shampooPreconditioned(o, d)) continue; // X ×ᵢ I = X
      ctx.run(modeGramProgram(`precond${i}`, o.statistics === 'paper' ? 'shampooX' : x, n, outer, d, inner));
      if (refresh) {
        const h = yield* ctx.read(`precond${i}`);
        const root = o.inverseRoot === 'eigh' ? inverseRootEigh(h, d, p) : inverseRootNewtonSchulz(h, d, p, { steps: o.iterSteps, eps: o.iterEps });
        ctx.write(`invPrecond${i}`, root);
      }
      const next = `shampooY${i}`;
      ctx.run(modeProductProgram(`invPrecond${i}`, x, next, n, outer, d, inner));
      x = next;
    }

    const writes: Record<string, string> = { param: 'theta' };
    if (momentum) writes.momentumBuffer = 'x';
    ctx.run(
      elementwise(n, { reads: { theta: 'param', x }, scalars: ['lr'], body: 'theta = theta - lr * x;', writes }),
      { lr: o.lr },
    );
  },
};
