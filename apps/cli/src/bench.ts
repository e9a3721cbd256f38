import { InputError } from './errors.js';

/**
 * `descent bench`: step throughput of the float32 backends, measured in one run against their baselines
 * (TF.js's own `tf.train` optimizers on the same TF.js backend; for gpu.js, the Float64 reference, a plain
 * float32 loop and a memory-roof triad). The measuring code lives next to each backend (`@descent/backend-tfjs/bench`,
 * `@descent/backend-gpujs/bench`) and is loaded only when asked for. `--backend cpu` is the cross-path report
 * (`bench-report.ts`): every CPU path against the plain JS loop, tf.train, a C loop and a same-run roof, with
 * per-tensor overhead and peak memory; `--json` prints it as rows of {@link BenchReportRow}, `--write <dir>`
 * writes it as Markdown (and JSON) under `<dir>`.
 *
 * @packageDocumentation
 */
import type { BenchReportRow, RowProducer } from './bench-report.js';

export type { BenchReportRow, RowProducer };

export interface BenchCommandOptions {
  readonly backend: string;
  readonly tfjsBackend: string;
  readonly size?: number;
  readonly count?: number;
  readonly small?: number;
  readonly reps?: number;
  readonly sizes?: number[];
  readonly seconds?: number;
  readonly optimizers?: string[];
  readonly json?: boolean;
  /** `--backend cpu`: write the Markdown report into this directory (e.g. docs/bench). */
  readonly write?: string;
  /** `--backend cpu`: skip the peak-memory child processes. */
  readonly memory?: boolean;
  /** `--backend cpu`: more rows (e.g. matrix benchmarks), appended to the report. */
  readonly producers?: readonly RowProducer[];
  /** `--backend cpu`: append the matrix rows (matmul GFLOP/s, Muon and Shampoo steps; `bench-matrix.ts`). */
  readonly matrix?: boolean;
}

/** The command line that reproduces a cpu report with these options. */
function commandLine(o: BenchCommandOptions): string {
  const parts = ['pnpm descent bench --backend cpu'];
  if (o.size !== undefined) parts.push(`--size ${o.size}`);
  if (o.count !== undefined) parts.push(`--count ${o.count}`);
  if (o.small !== undefined) parts.push(`--small ${o.small}`);
  if (o.reps !== undefined) parts.push(`--reps ${o.reps}`);
  if (o.optimizers !== undefined) parts.push(`--optimizers ${o.optimizers.join(',')}`);
  if (o.memory === false) parts.push('--no-memory');
  if (o.matrix) parts.push('--matrix');
  if (o.json) parts.push('--json');
  if (o.write !== undefined) parts.push(`--write ${o.write}`);
  return parts.join(' ');
}

/** The matrix benchmark's rows (loaded only when asked for: it starts tfjs-wasm, gpu.js and worker threads). */
const matrixRows: RowProducer = async ({ log, reps }) => {
  const { measureMatrix } = await import('./bench-matrix.js');
  return measureMatrix({ runs: reps, log });
};

/** Runs the benchmark and returns the text to print; progress goes to `log`. */
export async function bench(o: BenchCommandOptions, log: (line: string) => void): Promise<string> {
  if (o.backend === 'tfjs') {
    if (o.tfjsBackend !== 'cpu' && o.tfjsBackend !== 'wasm') throw new InputError(`bench: --tfjs-backend must be cpu or wasm, got ${JSON.stringify(o.tfjsBackend)}`);
    const m = await import('@descent/backend-tfjs/bench');
    const result = await m.measureThroughput({
      backend: o.tfjsBackend,
      log,
      ...(o.size !== undefined && { size: o.size }),
      ...(o.count !== undefined && { count: o.count }),
      ...(o.small !== undefined && { small: o.small }),
      ...(o.reps !== undefined && { reps: o.reps }),
      ...(o.optimizers !== undefined && { optimizers: o.optimizers }),
    });
    return o.json ? `${JSON.stringify(result, null, 2)}\n` : `${m.formatTable(result)}\n`;
  }
  if (o.backend === 'cpu') {
    const m = await import('./bench-report.js');
    const { REPORT_OPTIMIZERS } = await import('./bench-paths.js');
    const known = Object.keys(REPORT_OPTIMIZERS);
    const bad = o.optimizers?.find((name) => !known.includes(name));
    if (bad !== undefined) throw new InputError(`bench: --backend cpu measures ${known.join(', ')}; got ${JSON.stringify(bad)}`);
    const report = await m.measureReport({
      command: commandLine(o),
      log,
      ...(o.size !== undefined && { size: o.size }),
      ...(o.count !== undefined && { count: o.count }),
      ...(o.small !== undefined && { small: o.small }),
      ...(o.reps !== undefined && { reps: o.reps }),
      ...(o.optimizers !== undefined && { optimizers: o.optimizers as Array<keyof typeof REPORT_OPTIMIZERS> }),
      ...(o.memory === false && { memory: false }),
      producers: [...(o.producers ?? []), ...(o.matrix ? [matrixRows] : [])],
    });
    if (o.write !== undefined) log(`wrote ${m.writeReportFiles(o.write, report)}`);
    return o.json ? `${JSON.stringify(report, null, 2)}\n` : m.reportMarkdown(report);
  }
  if (o.backend === 'gpujs') {
    const m = await import('@descent/backend-gpujs/bench');
    const known = Object.keys(m.BENCH_OPTIMIZERS);
    const bad = o.optimizers?.find((name) => !known.includes(name));
    if (bad !== undefined) throw new InputError(`bench: gpujs measures ${known.join(', ')}; got ${JSON.stringify(bad)}`);
    const rows = await m.measureThroughput({
      ...(o.sizes !== undefined && { sizes: o.sizes }),
      ...(o.seconds !== undefined && { timeCapMs: o.seconds * 1000 }),
      ...(o.optimizers !== undefined && { optimizers: o.optimizers as Array<keyof typeof m.BENCH_OPTIMIZERS> }),
      onRow: (row) => log(`  ${row.implementation}`),
    });
    return o.json ? `${JSON.stringify(rows, null, 2)}\n` : `${m.formatTable(rows)}\n`;
  }
  throw new InputError(`bench: --backend must be tfjs, gpujs or cpu, got ${JSON.stringify(o.backend)}`);
}
