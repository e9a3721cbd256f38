import { describe, expect, it, type TestContext } from 'vitest';
import { supportedOptimizers } from '@descent/backend-gpujs';
import { gpujsPage } from './gpujs-session.js';
import type { ConformanceSummary, OptimizerRun, WebgpuLifecycle } from './entries/gpujs.js';

/**
 * descent's gpu.js backend inside headless Chromium in gpu.js's `webgpu` mode (WebGPU on SwiftShader's Vulkan here:
 * the WGSL really runs, on the CPU), through the asynchronous API (`createGpujsAsync`, `stepAsync`,
 * `exportStateAsync`, `readAsync`, `syncAsync`, `disposeAsync`). Same page entry as gpujs-browser.test.ts
 * (test/entries/gpujs.ts), with `mode: 'webgpu'`.
 *
 * Optimizers: every one `supportedOptimizers()` reports, its first option set from backend-gpujs/test/cases.ts,
 * STEPS resynchronised steps of `compareStepwise` against core's Float64 reference, parameters and every slot, with
 * the bound `kFor(kind, 'webgpu')`: the GL figure (k doubled over IEEE paths), since WGSL allows 2.5 ulp for
 * division and SwiftShader flushes denormals (measured below).
 *
 * Conformance: the kit's plain API with backend-gpujs's adapter `gpujsBackend('webgpu')` (async calls, k = 64, the
 * non-finite known gaps: WGSL's max drops NaN here, measured below), CONFORMANCE_RUNS runs per property (5 by default: about
 * 25 s here; 40 runs, 146 s, passed when this was written).
 */

const STEPS = 3;
/** Supported optimizers that backend-gpujs/test/cases.ts has no case for (see gpujs-browser.test.ts). */
const NO_CASE = ['shampoo'];
const CONFORMANCE_RUNS = Number(process.env.DESCENT_CONFORMANCE_RUNS) || 5;

describe('gpu.js backend in Chromium (webgpu)', () => {
  const session = gpujsPage('gpujs-webgpu-browser', true);
  if (!session) return;
  const p = session.page;

  it('runs in a page with a WebGPU adapter', () => {
    expect(session.environment()?.webgpuAdapter, session.environment()?.webgpuProblem ?? JSON.stringify(session.environment())).not.toBeNull();
  });

  it('quirks of WGSL on this adapter: max drops NaN, denormals flush, atan2(−0, 1) is π, sqrt correctly rounded', async () => {
    const q = await p().call<{ maxNaN: number[]; denormal: number[]; atan2: number[]; sqrt: number[] }>('webgpuQuirks');
    // NaN is dropped by max: the reason for the non-finite known gap of the adapter.
    expect(q.maxNaN).toEqual([1, 1, 2]);
    // Denormal results (2e-38 · 0.5) and denormal inputs (1e-39) flush to zero: the reason for the doubled k.
    expect(q.denormal).toEqual([0, 0, 0.5]);
    // atan2 with a signed zero y, for x = 1, −1, 0 (JavaScript: 0, −0, π, −π, 0, −0): −0 is taken for the other
    // side of the branch cut, atan2(−0, 1) = π and atan2(−0, −1) = 0. Adam-atan2, the only atan2 user, writes a zero
    // first moment out as a zero update (a flushed denormal moment is −0 too); the conformance kit found this.
    expect(q.atan2).toEqual([0, Math.fround(Math.PI), Math.fround(Math.PI), 0, 0, 0]);
    expect(q.sqrt).toEqual([2, 3, Math.fround(1e-3)].map((x) => Math.fround(Math.sqrt(x))));
  });

  it('the asynchronous API end to end: sync calls refused by name, buffers stable over 1000 steps, disposeAsync frees them', async () => {
    const r = await p().call<WebgpuLifecycle>('webgpuLifecycle');
    expect(r.mode).toBe('webgpu');
    expect(r.syncStep).toBe('UnsupportedError: adamw: step: gpu.js mode "webgpu" reads back asynchronously; use await opt.stepAsync(grads)');
    expect(r.syncExport).toBe('UnsupportedError: adamw: exportState: gpu.js mode "webgpu" reads back asynchronously; use await opt.exportStateAsync()');
    expect(r.readBeforeSync).toMatch(/^UnsupportedError: adamw: gpu.js mode "webgpu" reads device memory back asynchronously only: use stepAsync, exportStateAsync, readAsync, syncAsync or disposeAsync$/);
    expect(r.syncDispose).toBe(r.readBeforeSync);
    expect(r.stepCount).toBe(1000);
    expect(r.kernelsAfter1000).toBe(r.kernelsAfter3);
    expect(r.live[0]).toBeGreaterThan(0);
    expect(r.live).toEqual([r.live[0], r.live[0], r.live[0]]);
    expect(r.liveAfterDispose).toBe(0);
    console.info(`webgpu GPUBuffers alive after steps 3, 100, 1000: ${r.apiBuffers.join(', ')}; after disposeAsync: ${r.apiBuffersAfterDispose}`);
    expect(r.apiBuffers[0]).toBeGreaterThan(0);
    expect(r.apiBuffers).toEqual([r.apiBuffers[0], r.apiBuffers[0], r.apiBuffers[0]]);
    expect(r.apiBuffersAfterDispose).toBe(0);
    expect(r.changed).toBe(true);
    expect(r.finite).toBe(true);
  });

  for (const name of supportedOptimizers()) {
    if (NO_CASE.includes(name)) {
      it.skip(`${name}: no stepwise case in backend-gpujs/test/cases.ts; covered here by the conformance kit only`, () => {});
      continue;
    }
    it(`${name}: ${STEPS} steps on webgpu against the Float64 reference, params and every slot within kFor`, async (ctx: TestContext) => {
      const r = await p().call<OptimizerRun>('runOptimizer', { name, optionSets: 1, steps: STEPS, mode: 'webgpu' });
      ctx.annotate?.(`webgpu ${name}: worst ${r.worst.toPrecision(3)} of the bound (k = ${r.k}), ${r.compared} checks, ${Math.round(r.ms)} ms`);
      expect(r.modes).toEqual(['webgpu']);
      expect(r.mismatches).toEqual([]);
      expect(r.compared).toBeGreaterThan(10);
      expect(r.skippedElements).toBeLessThan(5);
      expect(r.worst).toBeLessThanOrEqual(1);
    });
  }

  it(`passes the conformance kit on webgpu (${CONFORMANCE_RUNS} run(s) per property, known gaps)`, async (ctx: TestContext) => {
    const r = await p().call<ConformanceSummary>('conformance', { numRuns: CONFORMANCE_RUNS, driftSteps: 5, mode: 'webgpu' }, { timeoutMs: 170_000 });
    ctx.annotate?.(r.summary);
    const failures = r.results.filter((x) => x.status === 'failed');
    expect(failures, r.summary).toEqual([]);
    expect(r.ok).toBe(true);
    for (const name of supportedOptimizers()) expect(r.results.some((x) => x.id.startsWith(`${name}/`) && x.status === 'passed'), name).toBe(true);
    expect(r.knownGaps['adam/non-finite']).toMatch(/drops NaN/);
    expect(r.results.filter((x) => x.status === 'gap').every((x) => x.id in r.knownGaps)).toBe(true);
    expect(r.tolerance).toEqual({ k: 64 });
  }, 180_000);
});
