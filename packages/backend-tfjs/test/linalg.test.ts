import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { muon, muonTorch, shampoo, type OptimizerSpec } from '@descent/core';
import { createTfjs } from '../src/index.js';

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

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Three steps on one parameter, with wasm-linalg on the host (`auto`) or with tf.matMul (`off`). */
function run(spec: OptimizerSpec<object>, shape: number[], linalg: 'auto' | 'off'): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const w = tf.variable(tf.tensor(random(n, 1), shape));
  const opt = createTfjs(spec, { w }, { linalg });
  for (let t = 0; t < 3; t++) tf.tidy(() => opt.step({ w: tf.tensor(random(n, 2 + t), shape) }));
  const out = Float32Array.from(w.dataSync() as Float32Array);
  opt.dispose();
  w.dispose();
  return out;
}

describe('tfjs-cpu: matrix kernels on wasm-linalg (linalg: auto) and on tf.matMul (off)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  // Both are float32 evaluations of the same products in different summation orders; Newton–Schulz and the
  // coupled root iteration are contractive, so they agree to ~10u·κ normwise (κ small here: ε = 0.1).
  for (const [label, spec, shape] of [
    ['muon', muon({ lr: 0.05 }), [24, 40]],
    ['muonTorch, tall', muonTorch({ lr: 0.05 }), [40, 24]],
    ['shampoo newtonSchulz', shampoo({ lr: 0.05, inverseRoot: 'newtonSchulz', epsilon: 0.1 }), [12, 7, 3]],
    ['shampoo eigh, momentum', shampoo({ lr: 0.05, epsilon: 0.1, momentum: 0.5 }), [20, 9]],
    ['shampoo newtonSchulz, maxPreconditionDim 8 (mode 0 skipped)', shampoo({ lr: 0.05, inverseRoot: 'newtonSchulz', epsilon: 0.1, maxPreconditionDim: 8 }), [20, 6, 3]],
  ] as const) {
    it(`${label} ${JSON.stringify(shape)}: the two paths agree normwise (1e-4)`, () => {
      const spec0 = spec as unknown as OptimizerSpec<object>;
      const auto = run(spec0, [...shape], 'auto');
      const off = run(spec0, [...shape], 'off');
      expect(relative(auto, off)).toBeLessThan(1e-4);
    });
  }

  it('rejects a bad linalg option, naming it', () => {
    const w = tf.variable(tf.zeros([2, 2]));
    expect(() => createTfjs(muon(), { w }, { linalg: 'gpu' as 'off' })).toThrow(/option "linalg" must be "auto" or "off", got "gpu"/);
    w.dispose();
  });
});
