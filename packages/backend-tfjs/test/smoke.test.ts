import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { adam, createReference, prodigy, sgd, tensor } from '@descent/core';
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
  it('prodigy (two passes, a readback of the partial sums between them): stepAsync is step, no tensor leaks, two groups and an empty parameter', async () => {
    await tf.setBackend('cpu');
    const make = () => ({ w: tf.variable(tf.tensor2d([0.5, -1, 2, 0.25, 1, -0.5], [2, 3])), b: tf.variable(tf.tensor1d([1, -2])), e: tf.variable(tf.zeros([0])) });
    const spec = prodigy({ d0: 1e-3, weightDecay: 0.01 });
    const groups = [{ params: ['b'], options: { sliceP: 2, eps: 1e-4 } }];
    const pa = make();
    const pb = make();
    const a = createTfjs(spec, pa, { groups });
    const b = createTfjs(spec, pb, { groups });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) {
      const g = () => ({ w: tf.tensor2d([Math.sin(i), 1, -1, 0.5, Math.cos(i), 2], [2, 3]), b: tf.tensor1d([0.3, -i]), e: tf.zeros([0]) });
      const ga = g();
      const gb = g();
      a.step(ga);
      expect(await b.stepAsync(gb)).toBe('applied');
      for (const t of [...Object.values(ga), ...Object.values(gb)]) t.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    expect([...pb.w.dataSync()]).toEqual([...pa.w.dataSync()]);
    expect(await b.exportStateAsync()).toEqual(a.exportState());
    const d = a.exportState().groups!.map((g) => g.scalars.d);
    expect(d[0]).toBe(d[1]);
    expect(d[0]).not.toBe(1e-3);
    a.dispose();
    b.dispose();
  });
  it('sgd with nesterov', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = createTfjs(sgd({ lr: 0.5, momentum: 0.5, nesterov: true }), { w });
    opt.step({ w: tf.tensor1d([1, 1]) });
    // b = g = 1; d = g + μb = 1.5; θ = θ − 0.5·1.5
    expect([...w.dataSync()]).toEqual([0.25, 1.25]);
  });
});
