import { describe, expect, it } from 'vitest';
import { muon, shampoo, type OptimizerSpec } from '@descent/core';
import { createGpujs } from '../src/index.js';
import { randomData, rng } from './helpers.js';

/** ‖x − y‖_F / ‖y‖_F. */
function relative(x: Float32Array, y: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    d += ((x[i] as number) - (y[i] as number)) ** 2;
    s += (y[i] as number) ** 2;
  }
  return Math.sqrt(d / s);
}

/** Three steps on one parameter, with wasm-linalg on the host (`auto`) or with gpu.js kernels (`off`). */
function run(spec: OptimizerSpec<object>, shape: number[], linalg: 'auto' | 'off'): Float32Array {
  const random = rng(7);
  const n = shape.reduce((a, b) => a * b, 1);
  const w = { shape, data: randomData(n, random, -1, 1) };
  const opt = createGpujs(spec, { w }, { mode: 'webasm', linalg });
  for (let t = 0; t < 3; t++) opt.step({ w: { shape, data: randomData(n, random, -1, 1) } });
  const out = Float32Array.from(opt.read('w'));
  opt.dispose();
  return out;
}

describe('gpu.js webasm: matrix kernels on wasm-linalg (linalg: auto) and on gpu.js kernels (off)', () => {
  // Both are float32 evaluations of the same products in different summation orders; Newton–Schulz and the
  // coupled root iteration are contractive, so they agree to ~10u·κ normwise (κ small here: ε = 0.1).
  for (const [label, spec, shape] of [
    ['muon', muon({ lr: 0.05 }), [24, 40]],
    ['shampoo newtonSchulz', shampoo({ lr: 0.05, inverseRoot: 'newtonSchulz', epsilon: 0.1 }), [12, 7, 3]],
    ['shampoo eigh', shampoo({ lr: 0.05, epsilon: 0.1 }), [20, 9]],
    ['shampoo newtonSchulz, maxPreconditionDim 8 (mode 0 skipped)', shampoo({ lr: 0.05, inverseRoot: 'newtonSchulz', epsilon: 0.1, maxPreconditionDim: 8 }), [20, 6, 3]],
  ] as const) {
    it(`${label} ${JSON.stringify(shape)}: the two paths agree normwise (1e-4)`, () => {
      const spec0 = spec as unknown as OptimizerSpec<object>;
      expect(relative(run(spec0, [...shape], 'auto'), run(spec0, [...shape], 'off'))).toBeLessThan(1e-4);
    });
  }

  it('rejects a bad linalg option, naming it', () => {
    expect(() => createGpujs(muon(), { w: { shape: [2, 2], data: new Float32Array(4) } }, { mode: 'webasm', linalg: 'gpu' as 'off' })).toThrow(/option "linalg" must be "auto" or "off", got "gpu"/);
  });
});
