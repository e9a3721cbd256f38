/**
 * The TF.js step-throughput benchmark behind `descent bench --backend tfjs`.
 *
 * @module @descent/backend-tfjs/bench
 */
/**
 * Step throughput of descent's TF.js optimizers (fused loops and composed ops) against `tf.train`'s, on the same
 * TF.js backend, for one large tensor and for many small ones.
 *
 * ```sh
 * pnpm exec tsx --conditions=@descent/source packages/backend-tfjs/src/bench.ts --backend wasm
 * pnpm exec tsx --conditions=@descent/source packages/backend-tfjs/src/bench.ts --backend cpu --size 1048576 --count 500 --reps 3
 * ```
 *
 * Options: `--backend cpu|wasm` (default cpu), `--size N` (the large tensor, default 4194304), `--count N` and
 * `--small N` (the many small tensors, default 2000 × 1000), `--reps N` (timed steps, default 5), `--warmup N`
 * (default 2), `--optimizers adam,lion,…` (default adam,adamw,lion,rmsprop,sgd,momentum), `--layouts large,small`,
 * `--json` (print the result as JSON).
 *
 * Method: every implementation updates the same variables with the same (fixed, random) gradients; steps are timed
 * one at a time, in rounds that run every implementation once, in an order shuffled each round, so that machine
 * noise and periodic costs such as garbage collection fall on all of them alike (in a fixed order, a collection
 * triggered by the round's allocations lands on the same implementation every round); the figure is the median
 * step time. The cpu and wasm backends run synchronously, so a step's time is its compute. The live tensor count
 * is read before and after every step: any growth is a leak and is reported.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { adam, adamw, lion, rmsprop, sgd, type OptimizerSpec } from '@descent/core';
import { createTfjs } from './index.js';

/** The TF.js backend the benchmark runs on. */
export type BenchBackend = 'cpu' | 'wasm';
/** `large`: one tensor of `size` elements; `small`: `count` tensors of `small` elements. */
export type BenchLayout = 'large' | 'small';

/** Options of the TF.js benchmark (the command-line flags of this module and of `descent bench`). */
export interface BenchOptions {
  readonly backend?: BenchBackend;
  /** Elements of the single large tensor. Default 4 194 304 (4M). */
  readonly size?: number;
  /** Number of small tensors. Default 2000. */
  readonly count?: number;
  /** Elements of each small tensor. Default 1000. */
  readonly small?: number;
  /** Timed steps per implementation (the median is reported). Default 5. */
  readonly reps?: number;
  /** Untimed steps first. Default 2. */
  readonly warmup?: number;
  /** Descent optimizers to measure: adam, adamw, lion, rmsprop, sgd, momentum (SGD with momentum 0.9). */
  readonly optimizers?: readonly string[];
  readonly layouts?: readonly BenchLayout[];
  /** Progress lines. Default: none. */
  readonly log?: (line: string) => void;
}

/** One implementation on one layout. */
export interface BenchRow {
  readonly layout: BenchLayout;
  readonly tensors: number;
  readonly params: number;
  /** `descent adam`, `tf.train.adam`, … */
  readonly name: string;
  /** Descent: the path the steps took (`fused-cpu`, `fused-wasm`, `ops`, `mixed`); `tf.train` for TF.js's own. */
  readonly path: string;
  readonly msPerStep: number;
  readonly mparamsPerSec: number;
  /** The `tf.train` optimizer this row is compared with, and the speed ratio (this / that); 1 for baselines. */
  readonly baseline: string;
  readonly ratio: number;
  /** Largest growth of the live tensor count across one step after the first (0: no leak). */
  readonly tensorGrowth: number;
  /** Tensors the implementation created (at creation and in its steps) that its `dispose()` did not free. */
  readonly leakedAtDispose: number;
}

/**
 * What a benchmark run measured: one row per layout, optimizer and implementation, and the live tensor counts.
 */
export interface BenchResult {
  readonly backend: string;
  readonly rows: readonly BenchRow[];
  /** Live tensors after the run, every optimizer and benchmark tensor disposed (leaks show as a difference). */
  readonly liveTensorsAfter: number;
  readonly liveTensorsBefore: number;
}

interface Impl {
  /** Live tensors it added at creation, then in its steps. */
  created: number;
  readonly name: string;
  readonly baseline: string;
  step(): void;
  path(): string;
  dispose(): void;
}

const descentSpecs: Record<string, { spec: () => OptimizerSpec<object>; baseline: string }> = {
  adam: { spec: () => adam({ lr: 1e-3 }), baseline: 'tf.train.adam' },
  adamw: { spec: () => adamw({ lr: 1e-3 }), baseline: 'tf.train.adam' },
  lion: { spec: () => lion({ lr: 1e-4 }), baseline: 'tf.train.adam' },
  rmsprop: { spec: () => rmsprop({ lr: 1e-3 }), baseline: 'tf.train.rmsprop' },
  sgd: { spec: () => sgd({ lr: 1e-3 }), baseline: 'tf.train.sgd' },
  momentum: { spec: () => sgd({ lr: 1e-3, momentum: 0.9 }), baseline: 'tf.train.momentum' },
};

const baselines: Record<string, () => tf.Optimizer> = {
  'tf.train.adam': () => tf.train.adam(1e-3),
  'tf.train.rmsprop': () => tf.train.rmsprop(1e-3),
  'tf.train.sgd': () => tf.train.sgd(1e-3),
  'tf.train.momentum': () => tf.train.momentum(1e-3, 0.9),
};

/** Makes the wasm backend loadable in Node (its .wasm files sit in the package's dist directory). */
async function registerWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const dist = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
  try {
    wasm.setWasmPaths(dist);
  } catch {
    // Already initialised (setWasmPaths refuses after initialisation): the paths were set before.
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Measures step throughput (parameters per second) of descent's optimizers — fused and composed — and of
 * `tf.train`'s on the chosen TF.js backend. Switches the active backend.
 */
export async function measureThroughput(options: BenchOptions = {}): Promise<BenchResult> {
  const backend = options.backend ?? 'cpu';
  const reps = options.reps ?? 5;
  const warmup = options.warmup ?? 2;
  const names = options.optimizers ?? Object.keys(descentSpecs);
  const layouts = options.layouts ?? ['large', 'small'];
  const log = options.log ?? (() => {});
  for (const n of names) if (!descentSpecs[n]) throw new Error(`bench: unknown optimizer ${JSON.stringify(n)}; known: ${Object.keys(descentSpecs).join(', ')}`);
  if (backend === 'wasm') await registerWasm();
  if (!(await tf.setBackend(backend))) throw new Error(`bench: TF.js backend ${backend} did not initialise`);
  await tf.ready();
  const liveTensorsBefore = tf.memory().numTensors;
  const rows: BenchRow[] = [];
  for (const layout of layouts) {
    const [count, each] = layout === 'large' ? [1, options.size ?? 4 * 1024 * 1024] : [options.count ?? 2000, options.small ?? 1000];
    const params = count * each;
    log(`${backend} ${layout}: ${count} × ${each} = ${params} parameters`);
    const variables = Array.from({ length: count }, () => tf.tidy(() => tf.variable(tf.randomNormal([each]), true)));
    const grads = variables.map((v) => tf.tidy(() => tf.mul(tf.randomNormal(v.shape), 0.01)));
    const byVariable: tf.NamedTensorMap = Object.fromEntries(variables.map((v, i) => [v.name, grads[i] as tf.Tensor]));
    const byName: Record<string, tf.Tensor> = Object.fromEntries(grads.map((g, i) => [`p${i}`, g]));
    const params_ = Object.fromEntries(variables.map((v, i) => [`p${i}`, v]));
    const impls: Impl[] = [];
    const wanted = new Set(names.map((n) => descentSpecs[n]!.baseline));
    for (const b of Object.keys(baselines)) {
      if (!wanted.has(b)) continue;
      const before = tf.memory().numTensors;
      const opt = baselines[b]!();
      impls.push({ created: tf.memory().numTensors - before, name: b, baseline: b, step: () => opt.applyGradients(byVariable), path: () => 'tf.train', dispose: () => opt.dispose() });
    }
    for (const n of names) {
      const { spec, baseline } = descentSpecs[n]!;
      for (const fused of ['auto', 'off'] as const) {
        const before = tf.memory().numTensors;
        const opt = createTfjs(spec(), params_, { fused });
        impls.push({ created: tf.memory().numTensors - before, name: `descent ${n}${fused === 'off' ? ' (fused off)' : ''}`, baseline, step: () => void opt.step(byName), path: () => opt.path, dispose: () => opt.dispose() });
      }
    }
    const times = impls.map(() => [] as number[]);
    const growth = impls.map(() => 0);
    const order = impls.map((_, i) => i);
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let r = 0; r < warmup + reps; r++) {
      for (let j = order.length - 1; j > 0; j--) {
        const k = Math.floor(random() * (j + 1));
        [order[j], order[k]] = [order[k] as number, order[j] as number];
      }
      order.forEach((i) => {
        const impl = impls[i] as Impl;
        const before = tf.memory().numTensors;
        const t0 = performance.now();
        impl.step();
        const ms = performance.now() - t0;
        const after = tf.memory().numTensors;
        impl.created += after - before;
        // The first step creates optimizer state (slots); later steps must not add tensors.
        if (r > 0) growth[i] = Math.max(growth[i] as number, after - before);
        if (r >= warmup) (times[i] as number[]).push(ms);
      });
      log(`  round ${r + 1}/${warmup + reps}${r < warmup ? ' (warm-up)' : ''}`);
    }
    const speed = new Map<string, number>();
    const layoutRows = impls.map((impl, i) => {
      const ms = median(times[i] as number[]);
      const mps = params / ms / 1e3;
      speed.set(impl.name, mps);
      return { impl, ms, mps, i };
    });
    const leaked = impls.map((impl) => {
      const before = tf.memory().numTensors;
      impl.dispose();
      return impl.created - (before - tf.memory().numTensors);
    });
    for (const { impl, ms, mps, i } of layoutRows) {
      const base = speed.get(impl.baseline);
      rows.push({
        layout,
        tensors: count,
        params,
        name: impl.name,
        path: impl.path(),
        msPerStep: ms,
        mparamsPerSec: mps,
        baseline: impl.baseline,
        ratio: base ? mps / base : NaN,
        tensorGrowth: growth[i] as number,
        leakedAtDispose: leaked[i] as number,
      });
    }
    tf.dispose([...variables, ...grads]);
  }
  return { backend, rows, liveTensorsBefore, liveTensorsAfter: tf.memory().numTensors };
}

/** The result as a text table. */
export function formatTable(result: BenchResult): string {
  const header = ['layout', 'implementation', 'path', 'ms/step', 'Mparam/s', 'vs tf.train', 'growth/step', 'leak at dispose'];
  const lines = result.rows.map((r) => [
    `${r.layout} ${r.tensors}×${r.params / r.tensors}`,
    r.name,
    r.path,
    r.msPerStep.toFixed(1),
    r.mparamsPerSec.toFixed(1),
    r.name === r.baseline ? '1 (baseline)' : `${r.ratio.toFixed(1)}× ${r.baseline}`,
    String(r.tensorGrowth),
    String(r.leakedAtDispose),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => (l[c] as string).length)));
  const fmt = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c] as number)).join(' | ')} |`;
  return [
    `TF.js backend: ${result.backend}; live tensors before ${result.liveTensorsBefore}, after ${result.liveTensorsAfter}`,
    fmt(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(fmt),
  ].join('\n');
}

function parseArgs(argv: readonly string[]): BenchOptions & { json: boolean } {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string) => {
    const v = get(flag);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`bench: ${flag} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const backend = get('--backend') ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'wasm') throw new Error(`bench: --backend must be cpu or wasm, got ${JSON.stringify(backend)}`);
  const list = (flag: string) => get(flag)?.split(',').filter(Boolean);
  const layouts = list('--layouts');
  if (layouts?.some((l) => l !== 'large' && l !== 'small')) throw new Error(`bench: --layouts takes large and/or small, got ${JSON.stringify(get('--layouts'))}`);
  const out: Record<string, unknown> = { backend, json: argv.includes('--json'), log: (line: string) => process.stderr.write(`${line}\n`) };
  const set = (key: string, v: unknown) => v !== undefined && (out[key] = v);
  set('size', num('--size'));
  set('count', num('--count'));
  set('small', num('--small'));
  set('reps', num('--reps'));
  const warm = get('--warmup');
  set('warmup', warm === undefined ? undefined : Number(warm));
  set('optimizers', list('--optimizers'));
  set('layouts', layouts);
  return out as unknown as BenchOptions & { json: boolean };
}

const main = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (main) {
  const args = parseArgs(process.argv.slice(2));
  const result = await measureThroughput(args);
  process.stdout.write(`${args.json ? JSON.stringify(result, null, 2) : formatTable(result)}\n`);
}
