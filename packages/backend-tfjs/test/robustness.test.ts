import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './tfjs-adapter.js';
import { describe, expect, it } from 'vitest';
import { adafactor, adamw, type OptimizerSpec } from '@descent/core';
import { createTfjs } from '../src/index.js';

/**
 * Issue 15 on TF.js beyond what the conformance kit's adapter can express: parameters and gradients given as plain
 * objects with names such as `__proto__`, closures returning the variables themselves, calls from a closure, and
 * the tensor count through all of it. Both TF.js backends of Node, fused and composed paths.
 */

const specs: Array<[string, OptimizerSpec]> = [
  ['adamw', adamw({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec],
  ['adafactor', adafactor({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec],
];

for (const backend of ['cpu', 'wasm'] as const) {
  for (const fused of ['auto', 'off'] as const) {
    describe(`tfjs ${backend}, fused ${fused}`, () => {
      for (const [label, spec] of specs) {
        it(`${label}: a closure returning the variables themselves (and crossed) acts as equal copies; the tensor count stays flat`, async () => {
          await tf.setBackend(backend);
          const start = () => ({ w: tf.variable(tf.tensor2d([0.5, -1.5, 2, 0.25], [2, 2])), b: tf.variable(tf.tensor2d([0.75, -0.5, 1, 2], [2, 2])) });
          const pa = start();
          const pc = start();
          const a = createTfjs(spec, pa, { fused });
          const c = createTfjs(spec, pc, { fused });
          const before = tf.memory().numTensors;
          for (let t = 0; t < 3; t++) {
            const w = pc.w.clone();
            const b = pc.b.clone();
            // Copies with their own data: w for w, w for b (crossed: b's gradient is w, which is updated first).
            const wc = tf.add(w, 0);
            const bc = tf.add(w, 0);
            c.step({ w: wc, b: bc });
            tf.dispose([w, b, wc, bc]);
            a.step((point) => ({ w: point.get('w')!, b: point.get('w')! }));
            expect(tf.memory().numTensors).toBe(before);
          }
          expect(Array.from(pa.w.dataSync())).toEqual(Array.from(pc.w.dataSync()));
          expect(Array.from(pa.b.dataSync())).toEqual(Array.from(pc.b.dataSync()));
          expect(JSON.stringify(a.exportState())).toBe(JSON.stringify(c.exportState()));
          a.dispose();
          c.dispose();
          tf.dispose([pa.w, pa.b, pc.w, pc.b]);
        });
      }

      it('names such as __proto__ as object keys: step, export, resume', async () => {
        await tf.setBackend(backend);
        for (const name of ['__proto__', 'constructor', 'toString']) {
          const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
          const opt = createTfjs(adamw({ lr: 0.1, weightDecay: 0.1 }), { [name]: v }, { fused });
          const g = tf.tensor1d([0.3, -0.2, 0.1]);
          opt.step({ [name]: g });
          const state = opt.exportState();
          expect(Object.keys(state.params)).toEqual([name]);
          const text = JSON.stringify(state);
          const v2 = tf.variable(v.clone());
          const resumed = createTfjs(adamw({ lr: 0.1, weightDecay: 0.1 }), new Map([[name, v2]]), { fused });
          resumed.importState(JSON.parse(text));
          opt.step({ [name]: g });
          resumed.step(new Map([[name, g]]));
          expect(Array.from(v2.dataSync())).toEqual(Array.from(v.dataSync()));
          expect(JSON.stringify(resumed.exportState())).toBe(JSON.stringify(opt.exportState()));
          opt.dispose();
          resumed.dispose();
          tf.dispose([v, v2, g]);
        }
      });

      it('dispose() and step() from a closure are refused; the variables and state survive', async () => {
        await tf.setBackend(backend);
        const w = tf.variable(tf.tensor1d([0.5, -1, 2]));
        const opt = createTfjs(adamw({ lr: 0.1 }), { w }, { fused });
        const g = tf.tensor1d([0.3, -0.2, 0.1]);
        const before = tf.memory().numTensors;
        const errors: string[] = [];
        opt.step(() => {
          for (const f of [() => opt.dispose(), () => opt.step({ w: g })]) {
            try {
              f();
            } catch (e) {
              errors.push((e as Error).message);
            }
          }
          return { w: g.clone() };
        });
        expect(errors.map((m) => m.split(' was called')[0])).toEqual(['adamw: dispose()', 'adamw: step()']);
        expect(opt.stepCount).toBe(1);
        expect(tf.memory().numTensors).toBe(before);
        expect(w.isDisposed).toBe(false);
        opt.dispose();
        tf.dispose([w, g]);
      });
    });
  }
}
