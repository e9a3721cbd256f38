/**
 * The matrix-optimizer benchmark: float32 matmul GFLOP/s (wasm-linalg on 1 and 2 threads, a plain-JS blocked
 * matmul and `tf.matMul` on tfjs-wasm, same run), Muon steps at n × n (Newton–Schulz, 5 quintic iterations =
 * 30·n³ flops, dominates) on each CPU path before and after wasm-linalg, and Shampoo steps on an n × n parameter
 * (`inverseRoot: "newtonSchulz"`, statistics every step, roots every `updateFreq` steps: the refresh step alone
 * and the amortized step). Rows have the shape of `MatrixBenchRow` (`@descent/wasm-linalg`) for `descent bench`
 * to join with its elementwise rows; run alone with
 *
 * ```sh
 * pnpm exec tsx --conditions=@descent/source apps/cli/src/bench-matrix.ts [--quick] [--json]
 * ```
 *
 * `--quick` leaves out the slow baselines (the Float64 reference, gpu.js kernels and tfjs-wasm `tf.matMul` Muon
 * steps, Shampoo with eigh: seconds to a minute per run each).
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { matrix, muon, newtonSchulz, shampoo, type OptimizerSpec } from '@descent/core';
import { createTfjs } from '@descent/backend-tfjs';
import { createGpujs } from '@descent/backend-gpujs';
import { defaultLinalg, matrixMarkdown, measureMatmul, medianMs, type MatrixBenchRow } from '@descent/wasm-linalg';

/** Options of {@link measureMatrix}. */
export interface MeasureMatrixOptions {
  /** Matmul dimensions. Default [256, 512, 1024]. */
  readonly matmulSizes?: readonly number[];
  /** Muon parameter n × n. Default 1024. */
  readonly muonSize?: number;
  /** Shampoo parameter n × n. Default 512. */
  readonly shampooSize?: number;
  /** Shampoo's `updateFreq` (roots every f steps). Default 10. */
  readonly updateFreq?: number;
  /** Timed runs per fast row (medians). Default 5. */
  readonly runs?: number;
  /** Runs of the slow baselines (seconds to a minute each); 0 leaves them out. Default 1. */
  readonly slowRuns?: number;
  readonly log?: (line: string) => void;
}

const MUON_TARGET_GFLOPS = 30;
const SHAMPOO_TARGET_MS = 500;

async function useWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  try {
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
  } catch {
    // Already initialised.
  }
  await tf.setBackend('wasm');
}

function random(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.random() - 0.5);
}

/** A Muon or Shampoo stepper on one n × n parameter of a path, and its disposal. */
interface Stepper {
  step(): void;
  dispose(): void;
}

function tfjsStepper(spec: OptimizerSpec<object>, n: number, linalg: 'auto' | 'off'): Stepper {
  const w = tf.variable(tf.tensor2d(random(n * n), [n, n]));
  const g = tf.tensor2d(random(n * n), [n, n]);
  const opt = createTfjs(spec, { w }, { linalg });
  return {
    step: () => {
      opt.step({ w: g });
      w.dataSync();
    },
    dispose: () => {
      opt.dispose();
      w.dispose();
      g.dispose();
    },
  };
}

function gpujsStepper(spec: OptimizerSpec<object>, n: number, linalg: 'auto' | 'off'): Stepper {
  const w = { shape: [n, n], data: random(n * n) };
  const g = { shape: [n, n], data: random(n * n) };
  const opt = createGpujs(spec, { w }, { mode: 'webasm', linalg });
  return { step: () => void opt.step({ w: g }), dispose: () => opt.dispose() };
}

/** Median of the refresh steps and of the others over `refreshes`·f steps (after one warm-up period). */
function shampooTimes(s: Stepper, f: number, refreshes: number): { refresh: number; other: number } {
  for (let t = 0; t < f; t++) s.step();
  const refresh: number[] = [];
  const other: number[] = [];
  for (let t = 0; t < refreshes * f; t++) {
    const t0 = performance.now();
    s.step();
    (t % f === 0 ? refresh : other).push(performance.now() - t0);
  }
  const median = (xs: number[]) => (xs.sort((a, b) => a - b), xs.length === 0 ? 0 : (xs[xs.length >> 1] as number));
  return { refresh: median(refresh), other: median(other) };
}

/** Every row of the matrix benchmark; the tfjs backend is left on wasm. */
export async function measureMatrix(options: MeasureMatrixOptions = {}): Promise<MatrixBenchRow[]> {
  const { matmulSizes = [256, 512, 1024], muonSize = 1024, shampooSize = 512, updateFreq = 10, runs = 5, slowRuns = 1, log = () => {} } = options;
  await useWasm();
  const rows: MatrixBenchRow[] = [];

  // Matmul.
  log('matmul …');
  const cache = new Map<number, { a: tf.Tensor2D; b: tf.Tensor2D }>();
  const matmulRows = measureMatmul({
    sizes: matmulSizes,
    runs,
    baselines: {
      'tfjs-wasm tf.matMul': (n, a, b) => {
        let t = cache.get(n);
        if (!t) cache.set(n, (t = { a: tf.tensor2d(a, [n, n]), b: tf.tensor2d(b, [n, n]) }));
        const { a: ta, b: tb } = t;
        tf.tidy(() => tf.matMul(ta, tb).dataSync());
      },
    },
  });
  for (const t of cache.values()) tf.dispose([t.a, t.b]);
  rows.push(...matmulRows);

  // Muon at muonSize²: 30·n³ flops of Newton–Schulz per step (the elementwise rest is O(n²)).
  const n = muonSize;
  const nsFlops = 30 * n ** 3;
  const spec = muon({ lr: 0.02 }) as unknown as OptimizerSpec<object>;
  const muonRows: Array<{ path: string; ms: number }> = [];
  const time = (path: string, make: () => Stepper, r: number, warmup: number) => {
    log(`${path} …`);
    const s = make();
    try {
      muonRows.push({ path, ms: medianMs(() => s.step(), r, warmup) });
    } finally {
      s.dispose();
    }
  };
  time('tfjs-wasm wasm-linalg', () => tfjsStepper(spec, n, 'auto'), runs, 2);
  time('gpu.js webasm wasm-linalg', () => gpujsStepper(spec, n, 'auto'), runs, 2);
  if (slowRuns > 0) {
    time(`tfjs-wasm tf.matMul (before; ${slowRuns} run${slowRuns === 1 ? '' : 's'})`, () => tfjsStepper(spec, n, 'off'), slowRuns, 1);
    time(`gpu.js webasm kernels (before; ${slowRuns} run${slowRuns === 1 ? '' : 's'})`, () => gpujsStepper(spec, n, 'off'), slowRuns, 0);
    log('reference …');
    const g = matrix(Float64Array.from(random(n * n)), n, n);
    muonRows.push({ path: `reference Float64 newtonSchulz (${slowRuns} run${slowRuns === 1 ? '' : 's'})`, ms: medianMs(() => void newtonSchulz(g), slowRuns, 0) });
  }
  const ref = muonRows.find((r) => r.path.startsWith('reference'))?.ms;
  const tfBefore = muonRows.find((r) => r.path.startsWith('tfjs-wasm tf.matMul'))?.ms;
  const gpuBefore = muonRows.find((r) => r.path.startsWith('gpu.js webasm kernels'))?.ms;
  for (const { path, ms } of muonRows) {
    const gflops = nsFlops / ms / 1e6;
    const ratios: Record<string, number> = { ofTarget: gflops / MUON_TARGET_GFLOPS };
    const before = path.startsWith('tfjs-wasm') ? tfBefore : path.startsWith('gpu.js') ? gpuBefore : undefined;
    if (before !== undefined) ratios.vsBefore = before / ms;
    if (ref !== undefined) ratios.vsReference = ref / ms;
    rows.push({ path: `${path}, step`, optimizer: 'muon', size: n * n, tensors: 1, gflops, msPerStep: ms, ratios });
  }

  // Shampoo at shampooSize², newtonSchulz roots every updateFreq steps.
  const m = shampooSize;
  const f = updateFreq;
  const sspec = shampoo({ lr: 0.01, inverseRoot: 'newtonSchulz', updateFreq: f }) as unknown as OptimizerSpec<object>;
  const refreshes = Math.max(3, Math.min(runs, 5));
  for (const [path, make] of [
    ['tfjs-wasm wasm-linalg', () => tfjsStepper(sspec, m, 'auto')],
    ['gpu.js webasm wasm-linalg', () => gpujsStepper(sspec, m, 'auto')],
  ] as const) {
    log(`shampoo ${path} …`);
    const s = make();
    let times: { refresh: number; other: number };
    try {
      times = shampooTimes(s, f, refreshes);
    } finally {
      s.dispose();
    }
    const amortized = (times.refresh + (f - 1) * times.other) / f;
    rows.push({ path: `${path}, newtonSchulz roots every ${f} steps (amortized)`, optimizer: 'shampoo', size: m * m, tensors: 1, msPerStep: amortized, ratios: { ofTarget: SHAMPOO_TARGET_MS / amortized } });
    rows.push({ path: `${path}, refresh step alone`, optimizer: 'shampoo', size: m * m, tensors: 1, msPerStep: times.refresh, ratios: { ofTarget: SHAMPOO_TARGET_MS / times.refresh } });
    rows.push({ path: `${path}, statistics-only step`, optimizer: 'shampoo', size: m * m, tensors: 1, msPerStep: times.other, ratios: { ofTarget: SHAMPOO_TARGET_MS / times.other } });
  }
  if (slowRuns > 0) {
    log('shampoo before (tf.matMul, eigh) …');
    const s = tfjsStepper(shampoo({ lr: 0.01 }) as unknown as OptimizerSpec<object>, m, 'off');
    try {
      const ms = medianMs(() => s.step(), slowRuns, 0);
      rows.push({ path: `tfjs-wasm tf.matMul + eigh, roots every step (before; ${slowRuns} run${slowRuns === 1 ? '' : 's'})`, optimizer: 'shampoo', size: m * m, tensors: 1, msPerStep: ms, ratios: { ofTarget: SHAMPOO_TARGET_MS / ms } });
    } finally {
      s.dispose();
    }
  }
  return rows;
}

/** The table, the command and the load, as `descent bench` and docs/bench/ print them. */
export function matrixReport(rows: readonly MatrixBenchRow[], command: string, load: string): string {
  const la = defaultLinalg();
  return [
    `Command: \`${command}\``,
    '',
    `Load (/proc/loadavg) before: ${load}. Medians of the runs stated (5 unless a row says otherwise); wasm-linalg default engine: ${la?.threads ?? 0} threads.`,
    'GFLOP/s: 2n³ per product; Muon rows count Newton–Schulz only (30·n³ per step). Targets: 30 GFLOP/s, Shampoo 500 ms/step.',
    '',
    matrixMarkdown(rows),
  ].join('\n');
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const load = loadavg();
  const rows = await measureMatrix({ slowRuns: args.includes('--quick') ? 0 : 1, log: (l) => process.stderr.write(`${l}\n`) });
  const command = `pnpm exec tsx --conditions=@descent/source apps/cli/src/bench-matrix.ts ${args.join(' ')}`.trim();
  console.log(args.includes('--json') ? JSON.stringify(rows, null, 2) : matrixReport(rows, command, load));
  process.exit(0);
}
