import { createLinalg } from './gemm.js';
import { matmulPlain } from './plain.js';

/**
 * Same-run benchmarks of the matrix paths. Rows have the shape the CLI's bench joins with its elementwise rows.
 *
 * @packageDocumentation
 */

/** One benchmark row. */
export interface MatrixBenchRow {
  /** The implementation measured (`wasm-linalg 2 threads`, `plain JS`, `tfjs-wasm tf.matMul`, …). */
  readonly path: string;
  /** `matmul`, or the optimizer (`muon` for Newton–Schulz, `shampoo`). */
  readonly optimizer: string;
  /** Elements of the matrix: n² for an n × n product or parameter. */
  readonly size: number;
  /** Tensors per step (1 here). */
  readonly tensors: number;
  /** Floating-point operations per second, in 10⁹, where the operation count is defined (2n³ per product). */
  readonly gflops?: number;
  /** Median milliseconds per product or step. */
  readonly msPerStep: number;
  /** Same-run ratios: `vsPlainJs`, `vsTfMatMul`, `ofTarget`, `vsBefore`, … (greater is faster). */
  readonly ratios: Record<string, number>;
}

/** Median wall time of `fn` over `runs` runs after `warmup` unmeasured ones, in milliseconds. */
export function medianMs(fn: () => void, runs = 5, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const mid = t.length >> 1;
  return t.length % 2 === 1 ? (t[mid] as number) : 0.5 * ((t[mid - 1] as number) + (t[mid] as number));
}

/** Options of {@link measureMatmul}. */
export interface MeasureMatmulOptions {
  /** Matrix dimensions n (n × n · n × n). Default [256, 512, 1024]. */
  readonly sizes?: readonly number[];
  /** Timed runs per row (the median is reported). Default 5. */
  readonly runs?: number;
  /** Thread counts of wasm-linalg rows. Default [1, 2]. */
  readonly threads?: readonly number[];
  /** Other products to time in the same run, by path: each gets (n, a, b, c) and computes C = A·B. */
  readonly baselines?: Readonly<Record<string, (n: number, a: Float32Array, b: Float32Array, c: Float32Array) => void>>;
  /** The target, in GFLOP/s, of the `ofTarget` ratio. Default 30 (issue 11). */
  readonly targetGflops?: number;
}

/**
 * Times n × n float32 products: wasm-linalg at each thread count, the plain-JS blocked matmul, and the given
 * baselines, all in this run on the same random matrices; ratios against the plain-JS row (`vsPlainJs`), the
 * baseline `tfjs-wasm tf.matMul` when given (`vsTfMatMul`) and the target (`ofTarget`).
 */
export function measureMatmul(options: MeasureMatmulOptions = {}): MatrixBenchRow[] {
  const { sizes = [256, 512, 1024], runs = 5, threads = [1, 2], baselines = {}, targetGflops = 30 } = options;
  const rows: MatrixBenchRow[] = [];
  const engines = threads.map((t) => createLinalg({ threads: t, threadThreshold: 0 }));
  try {
    for (const n of sizes) {
      const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
      const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
      const c = new Float32Array(n * n);
      const flops = 2 * n ** 3;
      const timed: Array<{ path: string; ms: number }> = [];
      engines.forEach((la, i) => timed.push({ path: `wasm-linalg ${threads[i]} thread${threads[i] === 1 ? '' : 's'} (${la.threads} used)`, ms: medianMs(() => la.gemm(n, n, n, a, b, c), runs) }));
      const plainRuns = n > 512 ? Math.min(runs, 3) : runs;
      timed.push({ path: 'plain JS blocked', ms: medianMs(() => matmulPlain(n, n, n, a, b, c), plainRuns, 1) });
      for (const [path, f] of Object.entries(baselines)) timed.push({ path, ms: medianMs(() => f(n, a, b, c), runs) });
      const plain = timed.find((t) => t.path === 'plain JS blocked')!.ms;
      const tf = timed.find((t) => t.path === 'tfjs-wasm tf.matMul')?.ms;
      for (const { path, ms } of timed) {
        const gflops = flops / ms / 1e6;
        const ratios: Record<string, number> = { vsPlainJs: plain / ms, ofTarget: gflops / targetGflops };
        if (tf !== undefined) ratios.vsTfMatMul = tf / ms;
        rows.push({ path, optimizer: 'matmul', size: n * n, tensors: 1, gflops, msPerStep: ms, ratios });
      }
    }
  } finally {
    for (const la of engines) la.dispose();
  }
  return rows;
}

/** A Markdown table of rows (n shown as the square root of `size`), ratios in one column. */
export function matrixMarkdown(rows: readonly MatrixBenchRow[]): string {
  const lines = ['| path | optimizer | n | GFLOP/s | ms/step | ratios |', '|---|---|---:|---:|---:|---|'];
  for (const r of rows) {
    const ratios = Object.entries(r.ratios).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    lines.push(`| ${r.path} | ${r.optimizer} | ${Math.round(Math.sqrt(r.size))} | ${r.gflops === undefined ? '' : r.gflops.toFixed(1)} | ${r.msPerStep.toFixed(1)} | ${ratios} |`);
  }
  return lines.join('\n');
}
