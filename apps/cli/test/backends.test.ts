import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeNumber, type JsonNumber } from '@descent/core';
import { bench } from '../src/bench.js';
import { reportMarkdown, type BenchReport } from '../src/bench-report.js';
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
    await expect(bench({ backend: 'onnx', tfjsBackend: 'cpu' }, () => {})).rejects.toThrow('bench: --backend must be tfjs, gpujs or cpu, got "onnx"');
  });
  it('--backend cpu: rows with exactly the report keys, same-run ratios, per-tensor overhead, peak memory, a Markdown table with the command', async () => {
    const lines: string[] = [];
    const producer = async () => [{ path: 'extra', optimizer: 'matmul', size: 64, tensors: 1, gflops: 1.5, msPerStep: 0.1, ratios: { vsPlainJs: 2 } }];
    const text = await bench({ backend: 'cpu', tfjsBackend: 'cpu', size: 4_000_000, count: 4, small: 64, reps: 1, optimizers: ['adam'], json: true, producers: [producer] }, (l) => lines.push(l));
    const report = JSON.parse(text) as BenchReport;
    const allowed = ['path', 'optimizer', 'size', 'tensors', 'mparamPerS', 'gflops', 'msPerStep', 'ratios'];
    for (const r of report.rows) for (const k of Object.keys(r)) expect(allowed).toContain(k);
    const paths = new Set(report.rows.map((r) => r.path));
    for (const p of ['js-plain', 'js-generated', 'tfjs-cpu-fused', 'tfjs-cpu-fused-f32', 'tfjs-cpu tf.train.adam', 'tfjs-wasm-fused', 'tfjs-wasm-fused-f32', 'tfjs-wasm tf.train.adam', 'gpujs-webasm', 'extra']) expect(paths).toContain(p);
    const fused = report.rows.find((r) => r.path === 'tfjs-wasm-fused' && r.tensors === 1)!;
    expect(fused.ratios.ofRoof).toBeGreaterThan(0);
    expect(fused.ratios.vsPlainJs).toBeGreaterThan(0);
    expect(fused.ratios.vsTfTrain).toBeGreaterThan(0);
    expect(report.overheads.map((o) => o.path).sort()).toEqual(['tfjs-cpu-fused', 'tfjs-wasm-fused']);
    // Peak memory from child processes: each measured child holds at least half of params + grads + Adam state
    // (64 MB here) above its idle twin, far more than the few MB by which two idle processes differ (at 1M
    // parameters, 16 MB, a start-up spike in the idle twin's high-water mark once left tfjs-wasm at 0.43×).
    expect(report.memory.map((m) => m.path)).toEqual(['js-plain', 'tfjs-cpu-fused', 'tfjs-wasm-fused', 'tfjs-wasm tf.train', 'gpujs-webasm']);
    for (const m of report.memory) expect(m.ratio, m.path).toBeGreaterThan(0.5);
    expect(report.machine.command).toBe('pnpm descent bench --backend cpu --size 4000000 --count 4 --small 64 --reps 1 --optimizers adam --json');
    expect(report.machine.cores).toBeGreaterThan(0);
    const md = reportMarkdown(report);
    expect(md).toContain('Command: `pnpm descent bench --backend cpu --size 4000000');
    expect(md).toContain('| extra | matmul | 1 × 64 | 0.10 | 1.5 GFLOP/s |');
    expect(fused.ratios.ofStreamRoof).toBeGreaterThan(0);
    expect(paths).toContain('stream roof (wasm f32x4, same streams)');
  }, 300_000);
});
