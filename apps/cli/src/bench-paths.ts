import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { adam, adamw, lion, sgd, type OptimizerSpec } from '@descent/core';
import { compileSimd, createTfjs, createWasmMemory, fusedKernels, type SimdProgram } from '@descent/backend-tfjs';
import { createGpujs } from '@descent/backend-gpujs';

/**
 * The paths `descent bench --backend cpu` measures, each as something that steps one optimizer over tensors it
 * allocated itself: plain JavaScript loops, descent's generated loops, the TF.js `cpu` and `wasm` backends (descent's
 * fused path and `tf.train`), gpu.js `webasm`, and the memory-roof triad. Shared by the timing run
 * (`bench-report.ts`) and the peak-memory child processes (`bench-rss.ts`).
 *
 * @packageDocumentation
 */

/** The optimizers of the CPU report, with the float32 bytes each step moves per parameter at least. */
export const REPORT_OPTIMIZERS = {
  /** Reads θ, g, m, v; writes θ, m, v. */
  adam: { spec: (): OptimizerSpec => adam({ lr: 1e-3 }) as unknown as OptimizerSpec, bytesPerParam: 28, tfTrain: 'tf.train.adam' },
  /** As Adam (tf.train has no AdamW: its baseline is tf.train.adam). */
  adamw: { spec: (): OptimizerSpec => adamw({ lr: 1e-3 }) as unknown as OptimizerSpec, bytesPerParam: 28, tfTrain: 'tf.train.adam' },
  /** Reads θ, g, m; writes θ, m (tf.train has no Lion: no tf.train ratio). */
  lion: { spec: (): OptimizerSpec => lion({ lr: 1e-4 }) as unknown as OptimizerSpec, bytesPerParam: 20, tfTrain: undefined },
  /** SGD with momentum 0.9: reads θ, g, b; writes θ, b. */
  sgdMomentum: { spec: (): OptimizerSpec => sgd({ lr: 1e-3, momentum: 0.9 }) as unknown as OptimizerSpec, bytesPerParam: 20, tfTrain: 'tf.train.momentum' },
} as const;

/** An optimizer of the CPU report. */
export type ReportOptimizer = keyof typeof REPORT_OPTIMIZERS;

/** Something to time: one step over `tensors` tensors of `size` elements, and how to free it. */
export interface Stepper {
  readonly path: string;
  readonly optimizer: ReportOptimizer | 'triad';
  readonly size: number;
  readonly tensors: number;
  step(): void;
  dispose(): Promise<void>;
}

/** Makes tfjs-backend-wasm loadable in Node (its .wasm files sit in the package's dist directory). */
export async function useTfjsBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    try {
      wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
    } catch {
      // Already initialised.
    }
  }
  if (!(await tf.setBackend(name))) throw new Error(`bench: TF.js backend ${name} did not initialise`);
  await tf.ready();
}

// ---------------------------------------------------------------------------------------------------------------
// Plain float32 loops: what a user would write by hand, one monomorphic function per update, in the reference's
// order of operations, arrays as arguments (a loop over captured arrays is specialised to the first closure V8
// optimises and slower for every later one).

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

/** Deterministic values in [−scale, scale) (an LCG), so every path steps the same numbers. */
export function fill(a: Float32Array, seed: number, scale: number): Float32Array {
  let x = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = ((x / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

const slotCount = (o: ReportOptimizer) => (o === 'adam' || o === 'adamw' ? 2 : 1);

/** The plain JavaScript loop over `tensors` arrays of `size`. */
export function plainJs(optimizer: ReportOptimizer, size: number, tensors: number): Stepper {
  const ps = Array.from({ length: tensors }, (_, i) => ({
    theta: fill(new Float32Array(size), 3 + i, 1),
    g: fill(new Float32Array(size), 4 + i, 1e-2),
    m: new Float32Array(size),
    v: slotCount(optimizer) === 2 ? new Float32Array(size) : new Float32Array(0),
  }));
  let t = 0;
  const step = () => {
    t++;
    for (const p of ps) {
      if (optimizer === 'lion') lionLoop(p.theta, p.g, p.m);
      else if (optimizer === 'sgdMomentum') sgdMomentumLoop(p.theta, p.g, p.m, t === 1);
      else adamLoop(p.theta, p.g, p.m, p.v, t, optimizer === 'adamw' ? 1e-2 : 0);
    }
  };
  return { path: 'js-plain', optimizer, size, tensors, step, dispose: async () => void ps.splice(0) };
}

const kernelName = (o: ReportOptimizer) => (o === 'sgdMomentum' ? 'sgd' : o);

/**
 * descent's fused kernel as a bare JavaScript loop, in place on plain Float32Arrays (no TF.js): the generated loop
 * alone, without the cpu backend's fresh output array.
 */
export function generatedJs(optimizer: ReportOptimizer, size: number): Stepper {
  const spec = REPORT_OPTIMIZERS[optimizer].spec();
  const kernel = fusedKernels[kernelName(optimizer)]!;
  const theta = fill(new Float32Array(size), 3, 1);
  const grad = fill(new Float32Array(size), 4, 1e-2);
  const slots: Record<string, Float32Array> = optimizer === 'adam' || optimizer === 'adamw' ? { expAvg: new Float32Array(size), expAvgSq: new Float32Array(size) } : optimizer === 'lion' ? { expAvg: new Float32Array(size) } : { momentumBuffer: new Float32Array(size) };
  let t = 0;
  return {
    path: 'js-generated',
    optimizer,
    size,
    tensors: 1,
    step: () => kernel.run(spec.options, { k: kernel.coefficients(spec.options, ++t, {}), theta, out: theta, grad, slots, start: 0, end: size }),
    dispose: async () => undefined,
  };
}

/** a ← b + s·c in float32, four lanes per instruction: the memory roof (12 bytes moved per element, one thread). */
export const TRIAD: SimdProgram = {
  arrays: ['a', 'b', 'c'],
  scalars: ['s'],
  precision: 'f32',
  body: [{ store: 'a', value: { op: 'add', a: { op: 'load', array: 'b' }, b: { op: 'mul', a: { op: 'scalar', name: 's' }, b: { op: 'load', array: 'c' } } } }],
};

/** Bytes the triad moves per element (read b and c, write a). */
export const TRIAD_BYTES = 12;

/** Lays out arrays of `size` float32 elements in a fresh WebAssembly memory, 64-byte aligned. */
function wasmArrays(names: readonly string[], size: number) {
  const bytes = 64 * Math.ceil((4 * size) / 64);
  const memory = createWasmMemory(Math.ceil((names.length * bytes + 64) / 65536));
  const at: Record<string, number> = {};
  names.forEach((n, i) => (at[n] = 64 + i * bytes));
  const view = (n: string) => new Float32Array(memory.buffer, at[n] as number, size);
  return { memory, at, view };
}

/** The triad as a wasm SIMD loop over `size` elements (size rounded down to a multiple of 8). */
export function triad(size: number): Stepper {
  const n = size - (size % 8);
  const { memory, at, view } = wasmArrays(['a', 'b', 'c'], n);
  fill(view('b'), 1, 1);
  fill(view('c'), 2, 1);
  const run = compileSimd(memory, 'bench:triad', () => TRIAD).run;
  return { path: 'triad (wasm f32x4, 1 thread)', optimizer: 'triad', size: n, tensors: 1, step: () => run(at.a as number, at.b as number, at.c as number, 4 * n, 3), dispose: async () => undefined };
}

/**
 * The optimizer's memory traffic with next to no arithmetic (θ ← θ + g, and each slot s ← s + g), as a wasm f32x4
 * loop in place: the same streams as the step (Adam: 4 read, 3 written back), so the roof for that access pattern.
 * A triad moves 12 bytes per element but its store stream also reads its line first (write-allocate), so
 * bandwidth/28 from a triad understates what a 7-stream in-place step can reach.
 */
export function streamRoof(optimizer: ReportOptimizer, size: number): Stepper {
  const n = size - (size % 8);
  const slotNames = optimizer === 'adam' || optimizer === 'adamw' ? ['m', 'v'] : ['m'];
  const { memory, at, view } = wasmArrays(['theta', 'grad', ...slotNames], n);
  fill(view('theta'), 3, 1);
  fill(view('grad'), 4, 1e-2);
  const add = (a: string) => ({ store: a, value: { op: 'add' as const, a: { op: 'load' as const, array: a }, b: { op: 'load' as const, array: 'grad' } } });
  const program: SimdProgram = { arrays: ['theta', 'grad', ...slotNames], scalars: [], precision: 'f32', body: ['theta', ...slotNames].map(add) };
  const run = compileSimd(memory, `bench:stream:${slotNames.length}`, () => program).run;
  const args = [...program.arrays.map((a) => at[a] as number), 4 * n];
  return { path: 'stream roof (wasm f32x4, same streams)', optimizer, size: n, tensors: 1, step: () => run(...args), dispose: async () => undefined };
}

/**
 * descent's fused program for an optimizer compiled to wasm SIMD in float32 arithmetic (f32x4) or float64 (f64x2,
 * what the tfjs wasm path runs), on a memory of its own (no TF.js).
 */
export function wasmProgram(optimizer: ReportOptimizer, size: number, precision: 'f32' | 'f64'): Stepper {
  const spec = REPORT_OPTIMIZERS[optimizer].spec();
  const kernel = fusedKernels[kernelName(optimizer)]!;
  const n = size - (size % 8);
  const slotNames = optimizer === 'adam' || optimizer === 'adamw' ? ['expAvg', 'expAvgSq'] : optimizer === 'lion' ? ['expAvg'] : ['momentumBuffer'];
  const { memory, at, view } = wasmArrays(['theta', 'grad', ...slotNames], n);
  at.out = at.theta as number;
  fill(view('theta'), 3, 1);
  fill(view('grad'), 4, 1e-2);
  let t = 0;
  return {
    path: `wasm-${precision === 'f32' ? 'f32x4' : 'f64x2'} (descent program, own memory)`,
    optimizer,
    size: n,
    tensors: 1,
    step() {
      const k = kernel.coefficients(spec.options, ++t, {});
      const key = `bench:${precision}:${kernel.simd!.key(spec.options, k)}`;
      const c = compileSimd(memory, key, () => ({ ...kernel.simd!.program(spec.options, k), precision }));
      c.run(...c.arrays.map((a) => at[a] as number), 4 * n, ...c.scalars.map((s) => k[s] as number));
    },
    dispose: async () => undefined,
  };
}

const tfTrainOf: Record<string, () => tf.Optimizer> = {
  'tf.train.adam': () => tf.train.adam(1e-3),
  'tf.train.momentum': () => tf.train.momentum(1e-3, 0.9),
};

/**
 * descent (fused path, `fused: 'auto'` or `'f32'`) or a `tf.train` optimizer on the active TF.js backend, over `tensors`
 * variables of `size` made by `tf.fill` (no JavaScript staging array on wasm).
 */
export function tfjsPath(backend: 'cpu' | 'wasm', impl: 'descent' | 'descent-f32' | 'tf.train', optimizer: ReportOptimizer, size: number, tensors: number): Stepper {
  const variables = Array.from({ length: tensors }, (_, i) => tf.tidy(() => tf.variable(tf.fill([size], 0.5 + i * 1e-6, 'float32'), true, `bench_${impl}_${optimizer}_${i}_${Math.random()}`)));
  const grads = variables.map(() => tf.fill([size], 1e-2, 'float32'));
  let step: () => void;
  let disposeOpt: () => void;
  if (impl !== 'tf.train') {
    const opt = createTfjs(REPORT_OPTIMIZERS[optimizer].spec(), Object.fromEntries(variables.map((v, i) => [`p${i}`, v])), { fused: impl === 'descent' ? 'auto' : 'f32' });
    const byName = Object.fromEntries(grads.map((g, i) => [`p${i}`, g]));
    step = () => void opt.step(byName);
    disposeOpt = () => opt.dispose();
  } else {
    const name = REPORT_OPTIMIZERS[optimizer].tfTrain;
    if (!name) throw new Error(`bench: tf.train has no ${optimizer}`);
    const opt = tfTrainOf[name]!();
    const byVariable: tf.NamedTensorMap = Object.fromEntries(variables.map((v, i) => [v.name, grads[i] as tf.Tensor]));
    step = () => opt.applyGradients(byVariable);
    disposeOpt = () => opt.dispose();
  }
  return {
    path: impl === 'tf.train' ? `tfjs-${backend} ${REPORT_OPTIMIZERS[optimizer].tfTrain}` : `tfjs-${backend}-fused${impl === 'descent-f32' ? '-f32' : ''}`,
    optimizer,
    size,
    tensors,
    step,
    dispose: async () => {
      disposeOpt();
      tf.dispose([...variables, ...grads]);
    },
  };
}

/** gpu.js `webasm`, parameters resident in its wasm memory (descent drives the module directly). */
export function gpujsWebasm(optimizer: ReportOptimizer, size: number): Stepper {
  const theta = fill(new Float32Array(size), 3, 1);
  const g = fill(new Float32Array(size), 4, 1e-2);
  const opt = createGpujs(REPORT_OPTIMIZERS[optimizer].spec(), { w: { shape: [size], data: theta } }, { mode: 'webasm', residency: 'device' });
  const grad = { w: { shape: [size], data: g } };
  return {
    path: 'gpujs-webasm',
    optimizer,
    size,
    tensors: 1,
    step: () => void opt.step(grad),
    dispose: async () => {
      opt.dispose();
      await opt.released;
    },
  };
}
