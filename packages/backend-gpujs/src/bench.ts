/**
 * The gpu.js step-throughput benchmark behind `descent bench --backend gpujs`.
 *
 * @module @descent/backend-gpujs/bench
 */
import { adam, adamw, createReference, lion, sgd, tensor, type OptimizerSpec } from '@descent/core';
import { createGpujs, createGpujsAsync, isShaderMode, type Float32Tensor, type GpujsActualMode, type GpujsMode } from './index.js';

/**
 * Step throughput of the gpu.js backend in parameters per second, next to the Float64 reference, a plain
 * JavaScript float32 loop and a memory roof measured in the same run (a STREAM-like triad a = b + s·c over
 * Float32Arrays of the same size). Exported as {@link measureThroughput} for the CLI; run it directly with
 *
 *     npx tsx --conditions=@descent/source packages/backend-gpujs/src/bench.ts [sizes] [seconds]
 *
 * (under `xvfb-run -a` to include headlessgl). Figures are median step times, timed round-robin across the
 * implementations (see {@link measureThroughput}). The same module runs in a browser page for webgl2 and webgpu
 * (packages/browser-test: `pnpm --filter @descent/browser-test bench`).
 *
 * A resident step on GL or WebGPU only queues work on the device, so each timed step of those ends with a readback of
 * a one-element parameter stepped with it (`z`), which returns once the device has finished everything queued
 * before: the figure is a completed step, not a submission.
 *
 * @packageDocumentation
 */

/** The optimizers measured, and the float32 values each step reads and writes per parameter (θ, g and state). */
const any = <O extends object>(spec: OptimizerSpec<O>): OptimizerSpec => spec as unknown as OptimizerSpec;
/**
 * The optimizers the benchmark knows: a spec factory and the float32 numbers each step reads and writes per
 * parameter (`traffic`, for GB/s and the roof).
 */
export const BENCH_OPTIMIZERS = {
  /** Adam: reads θ, g, m, v, writes θ, m, v. */
  adam: {
    /** Builds the spec measured. */
    spec: () => any(adam({ lr: 1e-3 })),
    traffic: 7,
  },
  /** AdamW: the same traffic as Adam. */
  adamw: {
    /** Builds the spec measured. */
    spec: () => any(adamw({ lr: 1e-3 })),
    traffic: 7,
  },
  /** Lion: reads θ, g, m, writes θ, m. */
  lion: {
    /** Builds the spec measured. */
    spec: () => any(lion({ lr: 1e-4 })),
    traffic: 5,
  },
  /** SGD with momentum 0.9: reads θ, g, b, writes θ, b. */
  sgdMomentum: {
    /** Builds the spec measured. */
    spec: () => any(sgd({ lr: 1e-3, momentum: 0.9 })),
    traffic: 5,
  },
} as const satisfies Record<string, { spec: () => OptimizerSpec; traffic: number }>;

/** Name of a benchmarked optimizer (a key of {@link BENCH_OPTIMIZERS}). */
export type BenchOptimizer = keyof typeof BENCH_OPTIMIZERS;

/**
 * An implementation measured: the reference, the plain loop, or gpu.js in a mode, with parameters resident on the
 * device (`device`: read back only when asked) or read and written back every step (`host`: the round trip), and
 * for webasm through this package's direct driving of the wasm module or through gpu.js's public call path.
 */
export type BenchImplementation =
  | { readonly kind: 'reference' }
  | { readonly kind: 'js-f32' }
  | { readonly kind: 'gpujs'; readonly mode: GpujsActualMode; readonly residency: 'host' | 'device'; readonly publicPath?: boolean };

/** One measurement: an implementation stepping one optimizer on one parameter count. */
export interface BenchRow {
  readonly implementation: string;
  readonly optimizer: BenchOptimizer | 'triad';
  readonly size: number;
  /** Median milliseconds per step (per triad pass). */
  readonly msPerStep: number;
  /** Parameters per second (elements per second for the triad). */
  readonly paramsPerSecond: number;
  /** Bytes per second the step moves at least (traffic × 4 bytes × params/s); the triad's measured bandwidth. */
  readonly bytesPerSecond: number;
  /** Steps timed (the median is over them). */
  readonly steps: number;
  /** Bandwidth of the triad timed in the same round-robin as this row (the memory roof under the same load). */
  readonly roofBytesPerSecond: number;
  readonly note?: string;
}

/** Options of {@link measureThroughput}. */
export interface BenchOptions {
  /** Parameter counts. Default [1e6, 32e6]. */
  readonly sizes?: readonly number[];
  readonly optimizers?: readonly BenchOptimizer[];
  readonly implementations?: readonly BenchImplementation[];
  /** Time to spend per implementation (and per optimizer and size), in milliseconds. Default 3000. */
  readonly timeCapMs?: number;
  /** Called after each row. */
  readonly onRow?: (row: BenchRow) => void;
}

/** The label of an implementation in the benchmark tables (`gpujs webasm resident`). */
export function implementationName(i: BenchImplementation): string {
  if (i.kind !== 'gpujs') return i.kind;
  return `gpujs ${i.mode} ${i.residency === 'device' ? 'resident' : 'round-trip'}${i.publicPath ? ' (public path)' : ''}`;
}

/**
 * Modes that can be created here, with the implementations worth measuring for each. Default modes: those of Node
 * (headlessgl, webasm, cpu); a page passes `['webgl2', 'webgpu']`.
 */
export async function availableImplementations(modes: readonly GpujsMode[] = ['headlessgl', 'webasm', 'cpu'], baselines = true): Promise<BenchImplementation[]> {
  const out: BenchImplementation[] = baselines ? [{ kind: 'reference' }, { kind: 'js-f32' }] : [{ kind: 'js-f32' }];
  for (const mode of modes) {
    try {
      const opt = await createGpujsAsync(sgd(), { w: { shape: [1], data: new Float32Array(1) } }, { mode });
      await opt.disposeAsync();
    } catch {
      continue;
    }
    const m = mode as GpujsActualMode;
    if (m === 'cpu') out.push({ kind: 'gpujs', mode: m, residency: 'host' });
    else {
      out.push({ kind: 'gpujs', mode: m, residency: 'device' }, { kind: 'gpujs', mode: m, residency: 'host' });
      if (m === 'webasm') out.push({ kind: 'gpujs', mode: m, residency: 'host', publicPath: true });
    }
  }
  return out;
}

function fill(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = ((x / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

// Plain float32 loops, one monomorphic function per update, in the reference's order of operations.
function adamLoop(theta: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, decoupled: number): void {
  const b1 = 0.9, b2 = 0.999, lr = 1e-3, eps = 1e-8;
  const bc2 = Math.sqrt(1 - b2 ** t);
  const stepSize = lr / (1 - b1 ** t);
  const shrink = 1 - lr * decoupled;
  for (let i = 0; i < theta.length; i++) {
    const gi = g[i] as number;
    const mi = (m[i] = b1 * (m[i] as number) + (1 - b1) * gi);
    const vi = (v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi);
    theta[i] = (theta[i] as number) * shrink - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
  }
}
function lionLoop(theta: Float32Array, g: Float32Array, m: Float32Array): void {
  const b1 = 0.9, b2 = 0.99, lr = 1e-4;
  for (let i = 0; i < theta.length; i++) {
    const gi = g[i] as number;
    const c = b1 * (m[i] as number) + (1 - b1) * gi;
    theta[i] = (theta[i] as number) - lr * (c > 0 ? 1 : c < 0 ? -1 : 0);
    m[i] = b2 * (m[i] as number) + (1 - b2) * gi;
  }
}
function sgdMomentumLoop(theta: Float32Array, g: Float32Array, b: Float32Array, first: boolean): void {
  const mu = 0.9, lr = 1e-3;
  for (let i = 0; i < theta.length; i++) {
    const gi = g[i] as number;
    const bi = (b[i] = first ? gi : mu * (b[i] as number) + gi);
    theta[i] = (theta[i] as number) - lr * bi;
  }
}

/** Something to time: one step (or one triad pass), and how to free it. */
interface Stepper {
  readonly implementation: string;
  readonly optimizer: BenchOptimizer | 'triad';
  /** Float32 values moved per element per step (12 bytes per element for the triad). */
  readonly bytesPerElement: number;
  /** One step, completed (device work included). */
  step(): void | Promise<void>;
  dispose(): Promise<string | undefined>;
}

/**
 * One triad pass. The arrays are arguments, as in the optimizer loops above: a loop over arrays captured by a closure
 * runs about 5× faster for the first closure V8 optimizes (it specializes the code to that closure's arrays) and
 * about 1.6× slower than this for every later one (measured: 0.62 ms, then 3.07 ms, against 1.84 ms as a function of
 * its arguments, per 1M-element pass), which made the roof depend on the order of the rows.
 */
function triadPass(a: Float32Array, b: Float32Array, c: Float32Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i] = (b[i] as number) + s * (c[i] as number);
}

/** The STREAM triad a = b + s·c over Float32Arrays of `n` elements (12 bytes moved per element). */
function triad(n: number): Stepper {
  const a = new Float32Array(n);
  const b = fill(n, 1, 1);
  const c = fill(n, 2, 1);
  return {
    implementation: 'triad (memory roof)',
    optimizer: 'triad',
    bytesPerElement: 12,
    step: () => triadPass(a, b, c, 3),
    dispose: async () => undefined,
  };
}

async function stepper(impl: BenchImplementation, name: BenchOptimizer, n: number): Promise<Stepper> {
  const { spec, traffic } = BENCH_OPTIMIZERS[name];
  const theta = fill(n, 3, 1);
  const g = fill(n, 4, 1e-2);
  const base = { implementation: implementationName(impl), optimizer: name, bytesPerElement: traffic * 4 };
  if (impl.kind === 'js-f32') {
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    let t = 0;
    const step =
      name === 'lion'
        ? () => lionLoop(theta, g, m)
        : name === 'sgdMomentum'
          ? () => sgdMomentumLoop(theta, g, m, ++t === 1)
          : () => adamLoop(theta, g, m, v, ++t, name === 'adamw' ? 1e-2 : 0);
    return { ...base, step, dispose: async () => undefined };
  }
  if (impl.kind === 'reference') {
    const w = tensor(Float64Array.from(theta));
    const grad = { w: tensor(Float64Array.from(g)) };
    const opt = createReference(spec(), { w });
    return { ...base, step: () => void opt.step(grad), dispose: async () => void opt.dispose() };
  }
  const w: Float32Tensor = { shape: [n], data: theta };
  const create = { mode: impl.mode, residency: impl.residency, ...(impl.publicPath ? { publicPath: true } : {}) };
  if (isShaderMode(impl.mode)) {
    // `z`: a one-element parameter whose readback after the step waits for the device to finish (see above).
    const z: Float32Tensor = { shape: [1], data: new Float32Array(1) };
    const both = { w: { shape: [n], data: g }, z: { shape: [1], data: Float32Array.of(1e-3) } };
    const opt = await createGpujsAsync(spec(), { w, z }, create);
    const step =
      impl.mode === 'webgpu'
        ? async () => {
            await opt.stepAsync(both);
            await opt.readAsync('z');
          }
        : () => {
            opt.step(both);
            opt.read('z');
          };
    return {
      ...base,
      step,
      async dispose() {
        const note = `${opt.stats().kernels} kernel(s); each step completed by a 1-element readback`;
        await opt.disposeAsync();
        return note;
      },
    };
  }
  const grad = { w: { shape: [n], data: g } };
  const opt = createGpujs(spec(), { w }, create);
  return {
    ...base,
    step: () => void opt.step(grad),
    async dispose() {
      const note = `path ${opt.path}, ${opt.stats().kernels} kernel(s)`;
      opt.dispose();
      // gpu.js releases kernels (wasm memories, textures) asynchronously: wait, so measurements do not pile up.
      await opt.released;
      return note;
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/** Times a group of steppers round-robin (after two warm-up steps each) and returns their rows, the triad's first. */
async function timeGroup(steppers: readonly Stepper[], n: number, cap: number): Promise<BenchRow[]> {
  for (const s of steppers) {
    await s.step();
    await s.step();
  }
  const times: number[][] = steppers.map(() => []);
  const start = performance.now();
  for (let round = 0; round < 200; round++) {
    for (const [k, s] of steppers.entries()) {
      const t0 = performance.now();
      await s.step();
      (times[k] as number[]).push(performance.now() - t0);
    }
    if (round >= 2 && performance.now() - start > cap * steppers.length) break;
  }
  const perSecond = times.map((t) => (n / median(t)) * 1000);
  const roof = (perSecond[0] as number) * (steppers[0] as Stepper).bytesPerElement;
  const rows: BenchRow[] = [];
  for (const [k, s] of steppers.entries()) {
    const note = await s.dispose();
    rows.push({
      implementation: s.implementation,
      optimizer: s.optimizer,
      size: n,
      msPerStep: median(times[k] as number[]),
      paramsPerSecond: perSecond[k] as number,
      bytesPerSecond: (perSecond[k] as number) * s.bytesPerElement,
      steps: (times[k] as number[]).length,
      roofBytesPerSecond: roof,
      ...(note ? { note } : {}),
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  return rows;
}

/**
 * Measures every implementation × optimizer × size. Steps are timed one at a time, round-robin with a triad pass
 * over arrays of the same size, so that machine noise hits them alike; the figure is the median step time, after
 * two warm-up steps (which compile the kernels). Rounds continue until `timeCapMs` per stepper is spent (at least
 * 3 rounds, at most 200). Up to 4M parameters every implementation of an optimizer joins one round-robin; above,
 * each is timed alone with the triad, so that only one implementation's memory is alive at a time.
 */
export async function measureThroughput(options: BenchOptions = {}): Promise<BenchRow[]> {
  const sizes = options.sizes ?? [1e6, 32e6];
  const optimizers = options.optimizers ?? (Object.keys(BENCH_OPTIMIZERS) as BenchOptimizer[]);
  const implementations = options.implementations ?? (await availableImplementations());
  const cap = options.timeCapMs ?? 3000;
  const rows: BenchRow[] = [];
  const emit = (r: BenchRow) => {
    rows.push(r);
    options.onRow?.(r);
  };
  for (const n of sizes) {
    for (const name of optimizers) {
      if (n <= 4e6) {
        const steppers = [triad(n)];
        for (const impl of implementations) steppers.push(await stepper(impl, name, n));
        for (const r of await timeGroup(steppers, n, cap)) emit(r);
        continue;
      }
      for (const [j, impl] of implementations.entries()) {
        const [roof, row] = await timeGroup([triad(n), await stepper(impl, name, n)], n, cap);
        if (j === 0) emit(roof as BenchRow);
        emit(row as BenchRow);
      }
    }
  }
  return rows;
}

/** A Markdown table of the rows, with each step's traffic as a fraction of the bandwidth of the triad timed with it. */
export function formatTable(rows: readonly BenchRow[]): string {
  const lines = ['| size | optimizer | implementation | ms/step | Mparam/s | GB/s moved | % of triad | steps |', '|---:|---|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const pct = (100 * r.bytesPerSecond) / r.roofBytesPerSecond;
    lines.push(
      `| ${r.size / 1e6}M | ${r.optimizer} | ${r.implementation} | ${r.msPerStep.toFixed(2)} | ${(r.paramsPerSecond / 1e6).toFixed(1)} | ${(r.bytesPerSecond / 1e9).toFixed(2)} | ${pct.toFixed(0)}% | ${r.steps} |`,
    );
  }
  return lines.join('\n');
}

// Run as a script in Node only (the module is also bundled into a page, where `process` does not exist).
if (typeof process !== 'undefined' && process.argv?.[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv[2] ? process.argv[2].split(',').map(Number) : undefined;
  const seconds = process.argv[3] ? Number(process.argv[3]) : undefined;
  const rows = await measureThroughput({
    ...(sizes ? { sizes } : {}),
    ...(seconds ? { timeCapMs: seconds * 1000 } : {}),
    onRow: (r) => console.error(`${r.size} ${r.optimizer} ${r.implementation}: ${(r.paramsPerSecond / 1e6).toFixed(1)} Mparam/s (${r.steps} steps)`),
  });
  console.log(formatTable(rows));
}
