import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeNumber, type JsonNumber } from '@descent/core';
import { bench } from '../src/bench.js';
import { replay } from '../src/replay.js';

const fixture = JSON.parse(readFileSync(new URL('../../../packages/core/test/fixtures/torch/adam/amsgrad.json', import.meta.url), 'utf8')) as {
  expected: { steps: Array<{ params: JsonNumber[][] }> };
};

/**
 * The float32 backends through `descent replay`: PyTorch's float64 trajectory is the target; float32 storage of
 * parameters of order 1 over a dozen Adam steps keeps them within ~1e-5 of it (a few ulps of 2⁻²⁴ per step, plus
 * the float32 rounding of the inputs). The backends' own suites and the conformance kit bound them tightly;
 * this checks the wiring.
 */
function maxError(steps: Array<{ params: JsonNumber[][] }>): number {
  let worst = 0;
  steps.forEach((s, t) =>
    s.params.forEach((values, i) =>
      values.forEach((v, k) => {
        const want = decodeNumber(fixture.expected.steps[t]!.params[i]![k]) as number;
        worst = Math.max(worst, Math.abs((decodeNumber(v) as number) - want) / Math.max(1, Math.abs(want)));
      }),
    ),
  );
  return worst;
}

describe('replay on the float32 backends', () => {
  it.each([
    ['tfjs', { tfjsBackend: 'cpu' }, 'tfjs:cpu'],
    ['tfjs', { tfjsBackend: 'wasm' }, 'tfjs:wasm'],
    ['gpujs', { gpujsMode: 'webasm' }, 'gpujs:webasm'],
    ['gpujs', { gpujsMode: 'cpu' }, 'gpujs:cpu'],
  ] as const)('%s %o follows PyTorch\'s Adam (AMSGrad) trajectory to float32 accuracy', async (backend, settings, name) => {
    const out = await replay(fixture, { backend, settings });
    expect(out.backend).toBe(name);
    expect(out.steps.length).toBe(fixture.expected.steps.length);
    expect(maxError(out.steps)).toBeLessThan(1e-5);
  });
  it('names the known TF.js backends and gpu.js modes', async () => {
    await expect(replay(fixture, { backend: 'tfjs', settings: { tfjsBackend: 'webgl' } })).rejects.toThrow(
      'unknown TF.js backend "webgl"; known: cpu, wasm',
    );
    await expect(replay(fixture, { backend: 'gpujs', settings: { gpujsMode: 'metal' } })).rejects.toThrow(
      'unknown gpu.js mode "metal"; known in Node: auto, webasm, cpu, headlessgl',
    );
    await expect(replay(fixture, { backend: 'gpujs', settings: { gpujsMode: 'webgpu' } })).rejects.toThrow(
      'gpu.js mode "webgpu" runs in a browser only (createGpujsAsync in a page); in Node use one of auto, webasm, cpu, headlessgl',
    );
  });
});

describe('bench', () => {
  it('measures descent against tf.train in one run and reports ratios and no leaks', async () => {
    const text = await bench({ backend: 'tfjs', tfjsBackend: 'cpu', size: 4096, count: 4, small: 64, reps: 2, optimizers: ['adam'], json: true }, () => {});
    const result = JSON.parse(text) as { rows: Array<{ name: string; ratio: number; tensorGrowth: number; leakedAtDispose: number }> };
    const names = result.rows.map((r) => r.name);
    expect(names).toContain('tf.train.adam');
    expect(names).toContain('descent adam');
    for (const r of result.rows) {
      expect(r.ratio).toBeGreaterThan(0);
      if (r.name.startsWith('descent')) expect([r.tensorGrowth, r.leakedAtDispose]).toEqual([0, 0]);
    }
  });
  it('refuses an unknown backend', async () => {
    await expect(bench({ backend: 'onnx', tfjsBackend: 'cpu' }, () => {})).rejects.toThrow('bench: --backend must be tfjs or gpujs, got "onnx"');
  });
});
