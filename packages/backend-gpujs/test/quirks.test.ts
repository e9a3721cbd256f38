import { GPU } from 'gpu.js';
import { describe, expect, it } from 'vitest';
import { adamAtan2, createReference, tensor } from '@descent/core';
import { createGpujs, signOf, type GpujsActualMode } from '../src/index.js';
import { headlessglProblem } from './helpers.js';

/**
 * Numerical quirks of gpu.js backends that matter to optimizer kernels, each checked on raw gpu.js kernels with
 * `precision: 'single'`. webasm and cpu follow IEEE (webasm in float32, cpu in Float64 with float32 storage);
 * headless-gl (Mesa through ANGLE here) loses NaN in `sign` and `max` and flushes denormal results to zero.
 */

const glProblem = headlessglProblem();
const modes: Array<{ mode: GpujsActualMode; skip?: string }> = [
  { mode: 'webasm' },
  { mode: 'cpu' },
  { mode: 'headlessgl', ...(glProblem ? { skip: glProblem } : {}) },
];
const isGl = (m: GpujsActualMode) => m === 'headlessgl';

/** Runs `expr` (of `x` and `y`) on a raw gpu.js kernel over the pairs given. */
function evaluate(mode: GpujsActualMode, expr: string, xs: number[], ys: number[] = xs.map(() => 0)): number[] {
  const gpu = new GPU({ mode });
  try {
    const k = gpu.createKernel(`function (a, b) { const x = a[this.thread.x]; const y = b[this.thread.x]; return ${expr}; }`, {
      output: [xs.length],
      precision: 'single',
    } as never) as unknown as (a: Float32Array, b: Float32Array) => Float32Array;
    return Array.from(k(Float32Array.from(xs), Float32Array.from(ys)));
  } finally {
    void gpu.destroy();
  }
}

for (const { mode, skip } of modes) {
  describe(`gpu.js quirks on ${mode}`, () => {
    if (skip) {
      it.skip(`${mode} is a known gap here: ${skip}`, () => {});
      return;
    }

    it('Math.sign: 0 → 0 everywhere; NaN and −0 survive except on GL', () => {
      const got = evaluate(mode, 'Math.sign(x)', [0, -0, NaN, 3, -2]);
      expect(got[0]).toBe(0);
      expect(got.slice(3)).toEqual([1, -1]);
      if (isGl(mode)) {
        expect(got[2]).toBe(0); // GLSL sign(NaN) is 0: a NaN gradient would silently stop moving Lion/signSGD
        expect(Object.is(got[1], 0)).toBe(true);
      } else {
        expect(got[2]).toBeNaN();
        expect(Object.is(got[1], -0)).toBe(true);
      }
    });

    it('the kernels’ sign (comparisons) keeps NaN on every backend and maps ±0 to a zero step', () => {
      const got = evaluate(mode, signOf('x'), [0, -0, NaN, 3, -2, 1e-30]);
      expect(Math.abs(got[0] as number)).toBe(0);
      expect(Math.abs(got[1] as number)).toBe(0);
      expect(got[2]).toBeNaN();
      expect(got.slice(3)).toEqual([1, -1, 1]);
    });

    it('Math.atan2 with a zero argument is the true angle, not the 0 of the old gpu.js polyfill', () => {
      const ys = [0, 0, 0, 2, -2, 1e-10];
      const xs = [0, 1, -1, 0, 0, -0];
      const got = evaluate(mode, 'Math.atan2(x, y)', ys, xs);
      const want = ys.map((y, i) => Math.atan2(y, xs[i] as number));
      // float32 result; GLSL's atan(y, x) may be off by a few float32 ulps of π.
      const tol = isGl(mode) ? 1e-6 : 2 ** -23 * Math.PI;
      got.forEach((g, i) => expect(Math.abs(g - (want[i] as number)), `atan2(${ys[i]}, ${xs[i]})`).toBeLessThanOrEqual(tol));
      expect(got[2]).toBeGreaterThan(3.14); // atan2(0, −1) = π
      expect(got[3]).toBeGreaterThan(1.57); // atan2(2, 0) = π/2
    });

    it('denormal results: kept on webasm and cpu, flushed to zero on GL (storage itself keeps them)', () => {
      const product = evaluate(mode, 'x * 1e-30', [1e-10, -1e-12]);
      const stored = evaluate(mode, 'x', [1e-40, -1e-45]);
      expect(stored).toEqual([Math.fround(1e-40), Math.fround(-1e-45)]);
      if (isGl(mode)) expect(product.map(Math.abs)).toEqual([0, 0]);
      else expect(product).toEqual([Math.fround(Math.fround(1e-10) * Math.fround(1e-30)), Math.fround(Math.fround(-1e-12) * Math.fround(1e-30))]);
    });

    it('NaN and Infinity propagate through arithmetic; GL drops NaN in max, min and atan2, and folds x − x', () => {
      expect(evaluate(mode, 'x * 2.0 + 1.0', [NaN, Infinity, -Infinity])).toEqual([NaN, Infinity, -Infinity]);
      expect(evaluate(mode, 'x / y', [1, -1, 0, 1], [0, 0, 0, -0])).toEqual([Infinity, -Infinity, NaN, -Infinity]);
      expect(evaluate(mode, 'Math.sqrt(x)', [-1, Infinity])).toEqual([NaN, Infinity]);
      // GLSL compilers may fold x − x to 0 (here: Infinity − Infinity gives 0 on GL), so no NaN test on the device.
      expect(evaluate(mode, 'x - x', [Infinity])).toEqual([isGl(mode) ? 0 : NaN]);
      const max = evaluate(mode, 'Math.max(x, y)', [NaN, 1], [1, NaN]);
      const min = evaluate(mode, 'Math.min(x, y)', [NaN, 1], [1, NaN]);
      const atan2 = evaluate(mode, 'Math.atan2(x, y)', [NaN, 1], [1, NaN]);
      if (isGl(mode)) {
        // GLSL's max, min and atan return a number when one argument is NaN.
        for (const r of [...max, ...min, ...atan2]) expect(Number.isNaN(r)).toBe(false);
      } else {
        for (const r of [...max, ...min, ...atan2]) expect(r).toBeNaN();
      }
    });

    it('Adam-atan2 at step 1 moves every coordinate by a·π/4·η·sign(g), and a zero gradient does not move', () => {
      const w = { shape: [4], data: Float32Array.of(1, 1, 1, 1) };
      const spec = adamAtan2({ lr: Math.fround(0.01), a: 1, b: 1 });
      const opt = createGpujs(spec, { w }, { mode });
      opt.step({ w: { shape: [4], data: Float32Array.of(0.5, -2, 0, 1e-3) } });
      const got = Array.from(opt.read('w'));
      const step = Math.fround(0.01) * (Math.PI / 4);
      const want = [1 - step, 1 + step, 1, 1 - step];
      got.forEach((g, i) => expect(Math.abs(g - (want[i] as number))).toBeLessThan(4e-7));
      expect(got[2]).toBe(1);
      // The reference agrees.
      const ref = tensor([1, 1, 1, 1]);
      createReference(spec, { w: ref }).step({ w: tensor([0.5, -2, 0, Math.fround(1e-3)]) });
      ref.data.forEach((r, i) => expect(Math.abs(r - (want[i] as number))).toBeLessThan(1e-12));
      opt.dispose();
    });
  });
}
