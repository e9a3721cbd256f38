import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import './tfjs-adapter.js'; // points tfjs-backend-wasm at its .wasm files
import { registerConv2DBackpropFilter, registerWasmTrainingKernels } from '../src/index.js';
import { values } from './layouts.js';

/** dL/dW of L = Σ conv2d(x, w) ⊙ r on the current backend, as a Float32Array. */
function filterGrad(x: Float32Array, xShape: number[], w: Float32Array, wShape: number[], strides: number, pad: 'same' | 'valid'): { dw: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xShape as [number, number, number, number]);
    const wt = tf.tensor4d(w, wShape as [number, number, number, number]);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Scalar => {
      const y = tf.conv2d(a, b, strides, pad);
      return tf.sum(tf.mul(y, tf.tensor(values(y.size, 9), y.shape)));
    };
    // Both gradients, as model.fit asks for them (dx is the backend's own Conv2DBackpropInput).
    const [, dw] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([xt, wt]);
    return { dw: dw!.dataSync() as Float32Array };
  });
}

describe('Conv2DBackpropFilter on tfjs-backend-wasm (im2col + BatchMatMul)', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  it('is missing from tfjs-backend-wasm 4.22 until registered; registering twice is a no-op', () => {
    const before = tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined;
    const first = registerConv2DBackpropFilter('wasm');
    expect(before ? first : !first).toBe(true);
    expect(registerConv2DBackpropFilter('wasm')).toBe(false);
    expect(registerConv2DBackpropFilter('cpu')).toBe(false); // cpu has its own
  });

  const configs: Array<{ x: number[]; w: number[]; strides: number; pad: 'same' | 'valid' }> = [
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: 1, pad: 'valid' },
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [3, 9, 8, 2], w: [3, 2, 2, 5], strides: 2, pad: 'same' },
    { x: [1, 5, 5, 1], w: [5, 5, 1, 2], strides: 1, pad: 'valid' },
  ];
  for (const c of configs) {
    it(`equals tfjs-backend-cpu's filter gradient: x ${JSON.stringify(c.x)}, w ${JSON.stringify(c.w)}, stride ${c.strides}, ${c.pad}`, async () => {
      registerConv2DBackpropFilter('wasm');
      const x = values(c.x.reduce((a, b) => a * b, 1), 1);
      const w = values(c.w.reduce((a, b) => a * b, 1), 2);
      const got = filterGrad(x, c.x, w, c.w, c.strides, c.pad);
      expect(await tf.setBackend('cpu')).toBe(true);
      const want = filterGrad(x, c.x, w, c.w, c.strides, c.pad);
      expect(await tf.setBackend('wasm')).toBe(true);
      const scale = Math.max(...Array.from(want.dw, Math.abs));
      const sumTerms = c.x[0]! * c.x[1]! * c.x[2]!; // an upper bound on the number of products per entry
      let worst = 0;
      for (let i = 0; i < want.dw.length; i++) worst = Math.max(worst, Math.abs(got.dw[i]! - want.dw[i]!));
      expect(got.dw.length).toBe(c.w.reduce((a, b) => a * b, 1));
      expect(worst).toBeLessThanOrEqual(sumTerms * 2 ** -23 * scale);
    });
  }

  it('leaves no tensors behind', () => {
    registerConv2DBackpropFilter('wasm');
    const before = tf.memory().numTensors;
    const beforeData = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    filterGrad(values(2 * 5 * 5 * 2, 1), [2, 5, 5, 2], values(3 * 3 * 2 * 3, 2), [3, 3, 2, 3], 1, 'same');
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(beforeData);
  });
});

/** Both gradients of L = Σ conv2d(x, w) ⊙ r, and the four transposed products of two matrices, on the current backend. */
function gradients(x: Float32Array, xShape: number[], w: Float32Array, wShape: number[], strides: number, pad: 'same' | 'valid'): Float32Array[] {
  return tf.tidy(() => {
    const f = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Scalar => {
      const y = tf.conv2d(a, b, strides, pad);
      return tf.sum(tf.mul(y, tf.tensor(values(y.size, 9), y.shape)));
    };
    const [dx, dw] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([tf.tensor4d(x, xShape as [number, number, number, number]), tf.tensor4d(w, wShape as [number, number, number, number])]);
    const a = tf.tensor2d(values(7 * 5, 3), [7, 5]);
    const b = tf.tensor2d(values(7 * 5, 4), [7, 5]);
    const products = [tf.matMul(a, b, true, false), tf.matMul(a, b, false, true), tf.matMul(b, a, true, false), tf.matMul(tf.transpose(a), b, false, false)];
    const batched = tf.matMul(tf.tensor3d(values(2 * 3 * 4, 5), [2, 3, 4]), tf.tensor3d(values(2 * 5 * 4, 6), [2, 5, 4]), false, true);
    // Max-pooling gradients, with ties (a ReLU's zeros) and overlapping windows (3 × 3, stride 2), 'same' padding.
    const pooled = tf.relu(tf.tensor4d(x, xShape as [number, number, number, number]));
    const poolGrads = ([[2, 2, 'valid'], [3, 2, 'same'], [2, 1, 'valid']] as const).map(([size, stride, p]) =>
      tf.grad((v: tf.Tensor) => {
        const y = tf.maxPool(v as tf.Tensor4D, size, stride, p);
        return tf.sum(tf.mul(y, tf.tensor(values(y.size, 11), y.shape)));
      })(pooled),
    );
    return [dx!, dw!, ...products, batched, ...poolGrads].map((t) => t.dataSync() as Float32Array);
  });
}

describe('registerWasmTrainingKernels: the input gradient by col2im(dY·Wᵀ), BatchMatMul without transposed operands, MaxPoolGrad', () => {
  const configs: Array<{ x: number[]; w: number[]; strides: number; pad: 'same' | 'valid' }> = [
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: 1, pad: 'valid' },
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [3, 9, 8, 2], w: [3, 2, 2, 5], strides: 2, pad: 'same' },
    { x: [2, 13, 13, 32], w: [3, 3, 32, 64], strides: 1, pad: 'valid' },
  ];
  for (const c of configs) {
    it(`equals tfjs-backend-cpu (dx, dw, transposed products, max-pool gradients): x ${JSON.stringify(c.x)}, w ${JSON.stringify(c.w)}, stride ${c.strides}, ${c.pad}`, async () => {
      expect(await tf.setBackend('wasm')).toBe(true);
      registerWasmTrainingKernels('wasm');
      const x = values(c.x.reduce((a, b) => a * b, 1), 1);
      const w = values(c.w.reduce((a, b) => a * b, 1), 2);
      const got = gradients(x, c.x, w, c.w, c.strides, c.pad);
      expect(await tf.setBackend('cpu')).toBe(true);
      const want = gradients(x, c.x, w, c.w, c.strides, c.pad);
      expect(await tf.setBackend('wasm')).toBe(true);
      // Each entry is a sum of at most `terms` products of float32 values of magnitude ≤ 1: the two backends differ by
      // their summation orders, at most terms·u·Σ|products| ≤ terms²·u (u = 2⁻²⁴), doubled for both sides' rounding.
      const terms = Math.max(c.x[0]! * c.x[1]! * c.x[2]!, c.w[0]! * c.w[1]! * c.w[3]!, 7);
      got.forEach((g, k) => {
        const ref = want[k]!;
        expect(g.length, `output ${k}`).toBe(ref.length);
        const scale = Math.max(1, ...Array.from(ref, Math.abs));
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(g[i]! - ref[i]!));
        expect(worst, `output ${k}`).toBeLessThanOrEqual(2 * terms * 2 ** -24 * scale);
      });
    });
  }

  it('registers once and leaves no tensors behind', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    registerWasmTrainingKernels('wasm');
    expect(registerWasmTrainingKernels('wasm')).toBe(false);
    const before = tf.memory().numTensors;
    const beforeData = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    gradients(values(2 * 5 * 5 * 2, 1), [2, 5, 5, 2], values(3 * 3 * 2 * 3, 2), [3, 3, 2, 3], 1, 'same');
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(beforeData);
  });
});
