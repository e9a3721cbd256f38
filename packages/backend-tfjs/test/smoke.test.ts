import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { adam, createReference, sgd, tensor } from '@descent/core';
import { createTfjs } from '../src/index.js';

describe('tfjs smoke', () => {
  it('adam matches the reference closely and keeps the tensor count flat', async () => {
    await tf.setBackend('cpu');
    const w0 = [0.5, -1.25, 2];
    const w = tf.variable(tf.tensor1d(w0));
    const opt = createTfjs(adam({ lr: 0.1, amsgrad: true }), { w });
    const ref = tensor(w0);
    const refOpt = createReference(adam({ lr: 0.1, amsgrad: true }), { w: ref });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const g = [Math.fround(Math.sin(i)), Math.fround(Math.cos(i)), 0.25];
      const gt = tf.tensor1d(g);
      opt.step({ w: gt });
      gt.dispose();
      refOpt.step({ w: tensor(g) });
      if (i > 0) expect(tf.memory().numTensors).toBe(before);
    }
    const got = w.dataSync();
    for (let i = 0; i < 3; i++) expect(Math.abs((got[i] as number) - (ref.data[i] as number))).toBeLessThan(1e-5);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - 3);
  });
  it('sgd with nesterov', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = createTfjs(sgd({ lr: 0.5, momentum: 0.5, nesterov: true }), { w });
    opt.step({ w: tf.tensor1d([1, 1]) });
    // b = g = 1; d = g + μb = 1.5; θ = θ − 0.5·1.5
    expect([...w.dataSync()]).toEqual([0.25, 1.25]);
  });
});
