import { InputError } from './errors.js';

/**
 * `descent bench`: step throughput of the float32 backends, measured in one run against their baselines
 * (TF.js's own `tf.train` optimizers on the same TF.js backend; for gpu.js, the Float64 reference, a plain
 * float32 loop and a memory-roof triad). The measuring code lives next to each backend (`@descent/backend-tfjs/bench`,
 * `@descent/backend-gpujs/bench`) and is loaded only when asked for.
 *
 * @packageDocumentation
 */

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
}

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
  throw new InputError(`bench: --backend must be tfjs or gpujs, got ${JSON.stringify(o.backend)}`);
}
