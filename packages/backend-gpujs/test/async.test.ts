import { describe, expect, it } from 'vitest';
import { UnsupportedError, adafactor, clipGradNorm, lamb, lookahead, muon, nag, prodigy, shampoo, softClip, withTransforms, type OptimizerSpec } from '@descent/core';
import { createGpujs, createGpujsAsync, type Float32Tensor, type GpujsActualMode } from '../src/index.js';
import { headlessglProblem, randomData, rng } from './helpers.js';

/**
 * The asynchronous API (`createGpujsAsync`, `stepAsync`, `exportStateAsync`, `readAsync`, `syncAsync`,
 * `disposeAsync`) on the modes Node has. Kernels that read values back (norms, Shampoo's preconditioners, Muon's
 * Newton–Schulz, the clipping transforms) are generators: `step` answers their readbacks synchronously and
 * `stepAsync` with awaits, so the two must agree bit for bit. (webgpu itself runs in Chromium:
 * packages/browser-test/test/gpujs-browser.test.ts.)
 */

const gl = headlessglProblem();
const MODES: GpujsActualMode[] = gl ? ['webasm', 'cpu'] : ['webasm', 'cpu', 'headlessgl'];

const specs: Array<[string, OptimizerSpec, Record<string, number[]>]> = [
  ['lamb + clipGradNorm + lookahead', lookahead(withTransforms(lamb({ lr: 0.01, weightDecay: 0.01 }), clipGradNorm({ maxNorm: 0.05 })), { k: 2 }) as OptimizerSpec, { w: [9, 7], b: [5] }],
  ['shampoo + softClip', withTransforms(shampoo({ lr: 0.05, updateFreq: 2 }), softClip()) as OptimizerSpec, { w: [4, 3], b: [3] }],
  ['muon', muon({ lr: 0.02 }) as OptimizerSpec, { w: [6, 8] }],
  ['adafactor', adafactor({ lr: 0.01 }) as OptimizerSpec, { w: [5, 6], b: [4] }],
  // Two phases with a readback of the partial sums of every parameter between them (the exported state holds d).
  ['prodigy', prodigy({ d0: 1e-3, weightDecay: 0.01 }) as OptimizerSpec, { w: [5, 6], b: [4] }],
];

function problem(shapes: Record<string, number[]>, seed: number) {
  const r = rng(seed);
  const init = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, randomData(s.reduce((a, b) => a * b, 1), r)]));
  const grads = Array.from({ length: 5 }, () =>
    Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, { shape: s, data: randomData(s.reduce((a, b) => a * b, 1), r) }])),
  );
  const params = () => Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, { shape: s, data: Float32Array.from(init[n] as Float32Array) }]));
  return { params, grads };
}

const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe.each(MODES)('%s: stepAsync is step', (mode) => {
  for (const [label, spec, shapes] of specs) {
    it(`${label}: 5 steps, parameters and state bitwise equal`, async () => {
      const { params, grads } = problem(shapes, 3);
      const pa = params();
      const pb = params();
      const a = createGpujs(spec, pa, { mode });
      const b = await createGpujsAsync(spec, pb, { mode });
      expect(b.mode).toBe(mode);
      for (const g of grads) {
        a.step(g);
        expect(await b.stepAsync(g)).toBe('applied');
      }
      a.sync();
      await b.syncAsync();
      for (const n of Object.keys(shapes)) {
        expect(hex(pb[n]!.data)).toBe(hex(pa[n]!.data));
        expect(hex(pa[n]!.data)).not.toBe(hex(params()[n]!.data));
      }
      expect(await b.exportStateAsync()).toEqual(a.exportState());
      a.dispose();
      await b.disposeAsync();
      expect(() => b.step(grads[0]!)).toThrow(/disposed/);
    });
  }

  it('nag: an async closure is called at the look-ahead point', async () => {
    const { params, grads } = problem({ w: [6] }, 5);
    const pa = params();
    const pb = params();
    const a = createGpujs(nag({ lr: 0.1, momentum: 0.9 }), pa, { mode });
    const b = await createGpujsAsync(nag({ lr: 0.1, momentum: 0.9 }), pb, { mode });
    for (const g of grads) {
      let seen = '';
      a.step((point) => {
        seen = hex((point.get('w') as Float32Tensor).data);
        return g;
      });
      await b.stepAsync(async (point) => {
        expect(hex((point.get('w') as Float32Tensor).data)).toBe(seen);
        return g;
      });
    }
    expect(hex(await b.readAsync('w'))).toBe(hex(a.read('w')));
    await expect(b.readAsync('v')).rejects.toThrow('nag: unknown parameter "v"');
    a.dispose();
    await b.disposeAsync();
  });
});

describe('webgpu in Node', () => {
  it('is refused with the reason (no navigator.gpu), synchronously and asynchronously', async () => {
    const w = { shape: [2], data: new Float32Array(2) };
    await expect(createGpujsAsync(lamb(), { w }, { mode: 'webgpu' })).rejects.toThrow(/gpu.js mode "webgpu" is not available here: webgpu needs navigator.gpu with an adapter/);
    await expect(createGpujsAsync(lamb(), { w }, { mode: 'webgpu' })).rejects.toBeInstanceOf(UnsupportedError);
    expect(() => createGpujs(lamb(), { w }, { mode: 'webgpu' })).toThrow(/createGpujsAsync/);
  });
});
