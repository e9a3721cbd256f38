/**
 * Browser entry: descent's gpu.js backend in gpu.js's `webgl2` mode, inside Chromium. It reuses backend-gpujs's own
 * test code rather than copying it: the option cases and shapes (test/cases.ts), the stepwise comparison against
 * core's Float64 reference with its bounds (test/helpers.ts: `compareStepwise`, `kFor`), and the conformance
 * adapter with its GL known gaps and tolerance (test/conformance.ts: `gpujsBackend`). Those modules import vitest
 * for their suites, which never run here: the harness bundles `vitest` and `@descent/conformance/vitest` as empty
 * modules (see test/gpujs-browser.test.ts), and `node:module`, which backend-gpujs uses only to look for headless-gl.
 * They are imported through this package's node_modules link: TypeScript then treats them as a dependency's files,
 * outside this package's `rootDir` check (a plain `../../../backend-gpujs/test/…` path fails typecheck with TS6059).
 */
import { GPU } from 'gpu.js';
import { UnsupportedError, clipGradNorm, withTransforms } from '@descent/core';
import { createGpujs, createGpujsAsync, supportedOptimizers, type GpujsActualMode, type GpujsMode } from '@descent/backend-gpujs';
import { checkConformance, type ConformanceOptions } from '@descent/conformance';
import { DEFAULT_SHAPES, cases, specOf } from '../../node_modules/@descent/backend-gpujs/test/cases.js';
import { compareStepwise, kFor, type Mismatch } from '../../node_modules/@descent/backend-gpujs/test/helpers.js';
import { gpujsBackend } from '../../node_modules/@descent/backend-gpujs/test/conformance.js';

/** The browser modes of gpu.js this entry runs; `webgl2` unless a call names `webgpu`. */
type BrowserMode = Extract<GpujsActualMode, 'webgl2' | 'webgpu'>;
const MODE: BrowserMode = 'webgl2';

export interface OptimizerRun {
  /** `opt.mode` of every option set run: the gpu.js backend its kernels actually ran on. */
  modes: string[];
  optionSets: number;
  mismatches: Mismatch[];
  /** Largest error / bound ratio over every compared tensor (≤ 1 when within the bounds). */
  worst: number;
  compared: number;
  skippedElements: number;
  /** The bound's k (kFor(kind, mode)). */
  k: number;
  ms: number;
}

export function supported(): string[] {
  return supportedOptimizers();
}

/** The optimizer's first `optionSets` option sets from backend-gpujs's cases, `steps` resynchronised steps each. */
export async function runOptimizer({ name, optionSets, steps, mode = MODE }: { name: string; optionSets: number; steps: number; mode?: BrowserMode }): Promise<OptimizerRun> {
  const started = performance.now();
  const c = cases.find((x) => x.name === name);
  if (!c) throw new Error(`backend-gpujs/test/cases.ts has no case for ${JSON.stringify(name)}`);
  const out: OptimizerRun = { modes: [], optionSets: 0, mismatches: [], worst: 0, compared: 0, skippedElements: 0, k: kFor(c.kind, mode), ms: 0 };
  const sets = c.options.slice(0, optionSets);
  for (const [i, options] of sets.entries()) {
    const r = await compareStepwise(specOf(c.name, options), {
      mode,
      kind: c.kind,
      shapes: c.shapes ?? DEFAULT_SHAPES,
      seed: 17 + i,
      steps,
      ...(c.ambiguous ? { ambiguous: c.ambiguous } : {}),
      ...(c.groups ? { groups: c.groups } : {}),
    });
    out.modes.push(r.opt.mode);
    out.optionSets++;
    out.mismatches.push(...r.mismatches.map((m) => ({ ...m, what: `${JSON.stringify(options)} ${m.what}` })));
    out.worst = Math.max(out.worst, r.worst);
    out.compared += r.compared;
    out.skippedElements += r.skippedElements;
    await r.opt.disposeAsync();
  }
  out.ms = performance.now() - started;
  return out;
}

/** Asks for a mode and reports how creating the optimizer went. */
export function ask({ mode }: { mode: GpujsMode }): { ok: true; mode: string } | { ok: false; error: string; unsupported: boolean; message: string } {
  try {
    const opt = createGpujs(specOf('sgd', { lr: 0.1 }), { w: { shape: [2], data: new Float32Array([1, 2]) } }, { mode });
    const ran = opt.mode;
    opt.dispose();
    return { ok: true, mode: ran };
  } catch (e) {
    const err = e as Error;
    return { ok: false, error: err.name, unsupported: e instanceof UnsupportedError, message: err.message };
  }
}

export interface ConformanceSummary {
  ok: boolean;
  passed: number;
  failed: number;
  gaps: number;
  summary: string;
  knownGaps: Record<string, string>;
  tolerance: unknown;
  results: Array<{ id: string; status: string; reason?: string; message?: string; durationMs: number }>;
}

/** The conformance kit's plain API on webgl2 or webgpu, with backend-gpujs's adapter (known gaps and tolerance included). */
export async function conformance({ mode = MODE, ...options }: ConformanceOptions & { mode?: BrowserMode }): Promise<ConformanceSummary> {
  const backend = gpujsBackend(mode);
  const report = await checkConformance(backend, options);
  return {
    ok: report.ok,
    passed: report.passed,
    failed: report.failed,
    gaps: report.gaps,
    summary: report.summary,
    knownGaps: { ...backend.knownGaps },
    tolerance: backend.tolerance ?? null,
    results: report.results.map((r) => ({
      id: r.id,
      status: r.status,
      durationMs: r.durationMs,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.message ? { message: r.message } : {}),
    })),
  };
}

/**
 * Regression of the Shampoo [1, 1] crash on webgl2: a kernel first called with a host array (state just imported)
 * and later with a texture (state from the previous step) made gpu.js's webgl2 kernel switch fail in `flattenTo`.
 * The optimizer now compiles host and texture bindings as separate kernels. Runs Shampoo on a [1, 1] and a [2, 3]
 * parameter for 4 steps twice, once straight and once exporting and re-importing its state after step 2; the two
 * must end bit for bit equal (state is lossless).
 */
export function shampooResume(): { straight: number[]; resumed: number[]; mode: string } {
  const spec = specOf('shampoo', { lr: 0.1 });
  const init = { a: [0.5], b: [0.1, -0.2, 0.3, -0.4, 0.5, -0.6] };
  const shapes = { a: [1, 1], b: [2, 3] };
  const grads = (t: number) => ({
    a: { shape: shapes.a, data: Float32Array.of(0.3 - 0.1 * t) },
    b: { shape: shapes.b, data: Float32Array.from(init.b, (x, i) => Math.fround(x * (t + 1) - 0.05 * i)) },
  });
  const make = () => ({
    a: { shape: shapes.a, data: Float32Array.from(init.a) },
    b: { shape: shapes.b, data: Float32Array.from(init.b) },
  });
  const straightParams = make();
  const straight = createGpujs(spec, straightParams, { mode: MODE });
  for (let t = 0; t < 4; t++) straight.step(grads(t));
  straight.sync();
  const resumedParams = make();
  const first = createGpujs(spec, resumedParams, { mode: MODE });
  first.step(grads(0));
  first.step(grads(1));
  const state = JSON.parse(JSON.stringify(first.exportState())) as unknown;
  first.importState(state);
  for (let t = 2; t < 4; t++) first.step(grads(t));
  first.sync();
  const mode = first.mode;
  straight.dispose();
  first.dispose();
  return { straight: [...straightParams.a.data, ...straightParams.b.data], resumed: [...resumedParams.a.data, ...resumedParams.b.data], mode };
}

export interface WebgpuLifecycle {
  mode: string;
  syncStep: string;
  syncExport: string;
  syncDispose: string;
  readBeforeSync: string;
  /** Storage buffers alive after steps 3, 100 and 1000 (must not grow), and after disposeAsync (must be 0). */
  live: number[];
  liveAfterDispose: number;
  /** GPUBuffers alive at the WebGPU API (gpu.js's argument, output, uniform and staging buffers included) at the same points. */
  apiBuffers: number[];
  apiBuffersAfterDispose: number;
  kernelsAfter3: number;
  kernelsAfter1000: number;
  changed: boolean;
  finite: boolean;
  stepCount: number;
}

function message(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/**
 * WebGPU's asynchronous API end to end: the synchronous calls refused before anything changes, 1000 steps of AdamW
 * (AMSGrad) with clipGradNorm on a [33, 31] and a [7] parameter, storage buffers counted after steps 3, 100 and 1000, and
 * everything freed by disposeAsync, which first brings the final values into the parameters' `data`.
 */
export async function webgpuLifecycle(): Promise<WebgpuLifecycle> {
  // Count buffers at the WebGPU API itself, under gpu.js: every createBuffer against every destroy.
  const api = globalThis as unknown as { GPUDevice: { prototype: { createBuffer: (...a: unknown[]) => unknown } }; GPUBuffer: { prototype: { destroy: () => void } } };
  const create = api.GPUDevice.prototype.createBuffer;
  const destroy = api.GPUBuffer.prototype.destroy;
  const alive = new Set<unknown>();
  api.GPUDevice.prototype.createBuffer = function (this: unknown, ...a: unknown[]) {
    const b = create.apply(this, a);
    alive.add(b);
    return b;
  };
  api.GPUBuffer.prototype.destroy = function (this: unknown) {
    alive.delete(this);
    destroy.call(this);
  };
  try {
    return await lifecycle(() => alive.size);
  } finally {
    api.GPUDevice.prototype.createBuffer = create;
    api.GPUBuffer.prototype.destroy = destroy;
  }
}

async function lifecycle(deviceBuffers: () => number): Promise<WebgpuLifecycle> {
  const w = { shape: [33, 31], data: Float32Array.from({ length: 33 * 31 }, (_, i) => Math.sin(i)) };
  const b = { shape: [7], data: Float32Array.from({ length: 7 }, (_, i) => i / 7) };
  const before = [...w.data];
  const spec = specOf('adamw', { lr: 0.01, amsgrad: true });
  const opt = await createGpujsAsync(withTransforms(spec, clipGradNorm({ maxNorm: 1 })), { w, b }, { mode: 'webgpu' });
  const grads = (t: number) => ({
    w: { shape: w.shape, data: Float32Array.from(w.data, (_, i) => Math.cos(i + t)) },
    b: { shape: b.shape, data: Float32Array.from(b.data, (_, i) => (i - t) / 10) },
  });
  const syncStep = message(() => opt.step(grads(0)));
  const syncExport = message(() => opt.exportState());
  const live: number[] = [];
  const apiBuffers: number[] = [];
  let kernelsAfter3 = 0;
  for (let t = 0; t < 1000; t++) {
    await opt.stepAsync(grads(t));
    if (t === 2) kernelsAfter3 = opt.stats().kernels;
    if (t === 2 || t === 99 || t === 999) {
      live.push(opt.stats().liveTextures);
      apiBuffers.push(deviceBuffers());
    }
  }
  const readBeforeSync = message(() => opt.read('w'));
  const syncDispose = message(() => opt.dispose());
  const kernelsAfter1000 = opt.stats().kernels;
  const stepCount = opt.stepCount;
  const mode = opt.mode;
  await opt.disposeAsync();
  return {
    mode,
    syncStep,
    syncExport,
    syncDispose,
    readBeforeSync,
    live,
    liveAfterDispose: opt.stats().liveTextures,
    apiBuffers,
    apiBuffersAfterDispose: deviceBuffers(),
    kernelsAfter3,
    kernelsAfter1000,
    changed: w.data.some((x, i) => x !== before[i]),
    finite: w.data.every(Number.isFinite),
    stepCount,
  };
}

/**
 * gpu.js WebGPU quirks on this adapter, measured on single kernels: whether `Math.max` drops NaN, whether denormal
 * results flush to zero, and `Math.atan2` on the axes.
 */
export async function webgpuQuirks(): Promise<{ maxNaN: number[]; denormal: number[]; atan2: number[]; sqrt: number[] }> {
  const gpu = new GPU({ mode: 'webgpu' });
  const run = async (source: string, input: number[]): Promise<number[]> => {
    const k = gpu.createKernel(source, { output: [input.length], precision: 'single' } as never) as unknown as (a: Float32Array) => Promise<Float32Array>;
    return [...(await k(Float32Array.from(input)))];
  };
  try {
    return {
      maxNaN: await run('function (a) { return Math.max(a[this.thread.x], 1.0); }', [NaN, 0, 2]),
      denormal: await run('function (a) { return a[this.thread.x] * 0.5; }', [2e-38, 1e-39, 1]),
      // (y, x) pairs (±0, 1), (±0, −1), (±0, 0): JavaScript gives 0, −0, π, −π, 0, −0.
      atan2: await run('function (a) { return Math.atan2(a[this.thread.x * 2], a[this.thread.x * 2 + 1]); }', [0, 1, -0, 1, 0, -1, -0, -1, 0, 0, -0, 0]).then((r) =>
        r.slice(0, 6),
      ),
      sqrt: await run('function (a) { return Math.sqrt(a[this.thread.x]); }', [2, 3, 1e-3]),
    };
  } finally {
    await gpu.destroy();
  }
}
