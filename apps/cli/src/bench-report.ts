import * as tf from '@tensorflow/tfjs-core';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  REPORT_OPTIMIZERS,
  TRIAD_BYTES,
  generatedJs,
  gpujsWebasm,
  plainJs,
  tfjsPath,
  streamRoof,
  triad,
  useTfjsBackend,
  type ReportOptimizer,
  type Stepper,
} from './bench-paths.js';

/**
 * `descent bench --backend cpu`: every CPU path of descent for the elementwise optimizers, next to its baselines
 * (a plain JavaScript loop, `tf.train` on the same TF.js backend, a C loop when gcc is present) and a memory roof
 * measured in the same process (a wasm SIMD triad, one thread, as every measured path is), with same-run ratios,
 * the per-tensor overhead on many small tensors and the peak memory of each path (child processes).
 *
 * Rows have exactly the keys of {@link BenchReportRow}, so rows from other producers (e.g. matrix benchmarks with
 * `gflops`) can be appended: pass them as `producers`, or push onto {@link rowProducers}.
 *
 * @packageDocumentation
 */

/**
 * One measured row. `size` is the elements of each tensor, `tensors` how many; `mparamPerS` (elementwise) or
 * `gflops` (matrix work) the throughput; `ratios` same-run ratios by name: `ofRoof` (throughput over the roof for
 * this optimizer's traffic), `vsPlainJs`, `vsTfTrain`, and others a producer defines.
 */
export interface BenchReportRow {
  readonly path: string;
  readonly optimizer: string;
  readonly size: number;
  readonly tensors: number;
  readonly mparamPerS?: number;
  readonly gflops?: number;
  readonly msPerStep: number;
  readonly ratios: Readonly<Record<string, number>>;
}

/** Peak memory of one path in a child process of its own. */
export interface BenchMemoryRow {
  readonly path: string;
  readonly optimizer: string;
  readonly size: number;
  /** VmHWM of the measuring child (MB = 10⁶ bytes). */
  readonly peakMB: number;
  /** VmHWM of an idle child that loaded the same modules and initialised the same backend. */
  readonly idleMB: number;
  /** Params + grads + optimizer state at 4 bytes each (Adam: 16 bytes per parameter). */
  readonly theoryMB: number;
  /** (peak − idle) / theory. */
  readonly ratio: number;
}

/** Per-tensor cost of a step on many small tensors: (time on `tensors` × `size` − time on one tensor of the same total) / tensors. */
export interface BenchOverheadRow {
  readonly path: string;
  readonly optimizer: string;
  readonly tensors: number;
  readonly size: number;
  readonly usPerTensor: number;
}

/** What a report run measured. */
export interface BenchReport {
  readonly machine: {
    readonly cores: number;
    readonly cpu: string;
    readonly node: string;
    readonly platform: string;
    readonly date: string;
    /** 1-, 5- and 15-minute load averages at the start and at the end of the run. */
    readonly loadStart: readonly number[];
    readonly loadEnd: readonly number[];
    readonly threads: number;
    readonly gcc?: string;
    readonly command: string;
  };
  /** Triad bandwidth (bytes/s) measured with each group of rows, by group. */
  readonly roofs: Readonly<Record<string, number>>;
  readonly rows: readonly BenchReportRow[];
  readonly memory: readonly BenchMemoryRow[];
  readonly overheads: readonly BenchOverheadRow[];
  readonly notes: readonly string[];
}

/** Options of {@link measureReport}. */
export interface ReportOptions {
  /** Elements of the large tensor. Default 32 000 000. */
  readonly size?: number;
  /** Small-tensor layout: `count` tensors of `small` elements. Default 2000 × 1000. */
  readonly count?: number;
  readonly small?: number;
  /** Timed steps per path (median reported). Default 5. */
  readonly reps?: number;
  readonly optimizers?: readonly ReportOptimizer[];
  /** Skip the peak-memory children (they take a while). */
  readonly memory?: boolean;
  /** Skip gpu.js. */
  readonly gpujs?: boolean;
  /** The command line to record. */
  readonly command: string;
  readonly log?: (line: string) => void;
  /** More rows, appended after the elementwise ones (e.g. matrix benchmarks). */
  readonly producers?: readonly RowProducer[];
}

/** A source of extra rows for the report (run after the elementwise measurements). */
export type RowProducer = (o: { readonly log: (line: string) => void; readonly reps: number }) => Promise<readonly BenchReportRow[]>;

/** Producers every report runs (after `options.producers`); an integrator may push onto it. */
export const rowProducers: RowProducer[] = [];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/**
 * Times steppers round-robin (one untimed step each first), in an order shuffled each round so that noise and
 * garbage collection fall on all alike; returns each one's median ms per step.
 */
async function timeRoundRobin(steppers: readonly Stepper[], reps: number): Promise<number[]> {
  for (const s of steppers) s.step();
  const times = steppers.map(() => [] as number[]);
  const order = steppers.map((_, i) => i);
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let r = 0; r < reps; r++) {
    for (let j = order.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [order[j], order[k]] = [order[k] as number, order[j] as number];
    }
    for (const i of order) {
      const t0 = performance.now();
      (steppers[i] as Stepper).step();
      (times[i] as number[]).push(performance.now() - t0);
    }
  }
  for (const s of steppers) await s.dispose();
  return times.map(median);
}

/** The C baselines (tools/bench/elementwise.c), compiled now; undefined with a note when gcc or the file is missing. */
function cBaseline(size: number, reps: number, notes: string[]): { gcc: string; ms: Record<string, { msPerStep: number; triadMs: number }> } | undefined {
  const source = fileURLToPath(new URL('../../../tools/bench/elementwise.c', import.meta.url));
  if (!existsSync(source)) {
    notes.push(`C loop skipped: ${source} not found.`);
    return undefined;
  }
  let gcc: string;
  try {
    gcc = execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'gcc';
  } catch {
    notes.push('C loop skipped: gcc is not installed.');
    return undefined;
  }
  const bin = join(mkdtempSync(join(tmpdir(), 'descent-bench-')), 'elementwise');
  execFileSync('gcc', ['-O3', '-march=native', '-fno-math-errno', '-o', bin, source, '-lm']);
  const out = execFileSync(bin, [String(size), String(reps)], { encoding: 'utf8' });
  const ms: Record<string, { msPerStep: number; triadMs: number }> = {};
  for (const line of out.trim().split('\n')) {
    const r = JSON.parse(line) as { name: string; msPerStep: number; triadMs: number };
    ms[r.name] = r;
  }
  return { gcc, ms };
}

/** Peak memory of one path: a child process for it and an idle one, VmHWM of each. */
function childRss(path: string, optimizer: ReportOptimizer, size: number): { hwmKiB: number } {
  const self = fileURLToPath(import.meta.url);
  const script = self.replace(/bench-report\.(ts|js)$/, 'bench-rss.$1');
  const args = [...process.execArgv];
  // From source (tsx, or a test runner that transforms TypeScript itself): the child needs tsx's loader and the
  // source condition to run bench-rss.ts.
  if (script.endsWith('.ts')) {
    if (!args.some((a) => a.includes('tsx'))) args.push('--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href);
    if (!args.some((a) => a.includes('@descent/source'))) args.push('--conditions=@descent/source');
  }
  const r = spawnSync(process.execPath, [...args, script, path, optimizer, String(size), '3'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench: the memory child for ${path} failed: ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as { hwmKiB: number };
}

/** Runs every measurement of the CPU report. */
export async function measureReport(options: ReportOptions): Promise<BenchReport> {
  const size = options.size ?? 32_000_000;
  const count = options.count ?? 2000;
  const small = options.small ?? 1000;
  const reps = options.reps ?? 5;
  const optimizers = options.optimizers ?? (Object.keys(REPORT_OPTIMIZERS) as ReportOptimizer[]);
  const log = options.log ?? (() => {});
  const loadStart = loadavg();
  const notes: string[] = [];
  const roofs: Record<string, number> = {};
  const rows: BenchReportRow[] = [];
  const overheads: BenchOverheadRow[] = [];
  const speed = new Map<string, number>(); // `${layout}|${path}|${optimizer}` → Mparam/s
  const key = (layout: string, path: string, optimizer: string) => `${layout}|${path}|${optimizer}`;
  const tfTrainSpeed = new Map<string, number>(); // `${layout}|${backend}|${tf.train name}` → Mparam/s

  /** Times a group with its own triad; records the rows with `ofRoof` against that triad. */
  const group = async (name: string, optimizer: ReportOptimizer, make: () => Stepper[], withRoof: boolean) => {
    log(`  ${name}`);
    const steppers = withRoof ? [triad(size), streamRoof(optimizer, size), ...make()] : make();
    const ms = await timeRoundRobin(steppers, reps);
    let roofBytes: number | undefined;
    if (withRoof) {
      roofBytes = ((steppers[0] as Stepper).size / (ms[0] as number)) * 1e3 * TRIAD_BYTES;
      roofs[`${name} ${optimizer}`] = roofBytes;
    }
    const out: Array<{ s: Stepper; ms: number; mps: number; ofRoof?: number; ofStreamRoof?: number }> = [];
    const streamMps = withRoof ? ((steppers[1] as Stepper).size / (ms[1] as number)) * 1e-3 : undefined;
    steppers.forEach((s, i) => {
      if (withRoof && i === 0) return;
      const t = ms[i] as number;
      const mps = (s.size * s.tensors) / t / 1e3;
      const roofMps = roofBytes === undefined ? undefined : roofBytes / REPORT_OPTIMIZERS[optimizer].bytesPerParam / 1e6;
      out.push({ s, ms: t, mps, ...(roofMps !== undefined && { ofRoof: mps / roofMps }), ...(streamMps !== undefined && { ofStreamRoof: mps / streamMps }) });
    });
    return out;
  };

  type Entry = { s: Stepper; ms: number; mps: number; ofRoof?: number; ofStreamRoof?: number };
  const record = (layout: string, entries: Entry[]) => {
    for (const e of entries) {
      speed.set(key(layout, e.s.path, e.s.optimizer), e.mps);
      if (e.s.path.includes('tf.train')) tfTrainSpeed.set(`${layout}|${e.s.path.split(' ')[0]}|${REPORT_OPTIMIZERS[e.s.optimizer as ReportOptimizer].tfTrain}`, e.mps);
    }
    return entries;
  };

  const pending: Array<{ layout: string; e: Entry }> = [];
  for (const optimizer of optimizers) {
    log(`${optimizer}: one tensor of ${size}`);
    // tf.train baselines: one per tf.train optimizer (AdamW reuses Adam's), timed in the first group that needs it.
    const tfTrain = REPORT_OPTIMIZERS[optimizer].tfTrain;
    const needTfTrain = (backend: string) => tfTrain !== undefined && !tfTrainSpeed.has(`large|tfjs-${backend}|${tfTrain}`);
    await useTfjsBackend('cpu');
    const cpu = record(
      'large',
      await group('cpu', optimizer, () => {
        const list = [plainJs(optimizer, size, 1), generatedJs(optimizer, size), tfjsPath('cpu', 'descent', optimizer, size, 1), tfjsPath('cpu', 'descent-f32', optimizer, size, 1)];
        if (needTfTrain('cpu')) list.push(tfjsPath('cpu', 'tf.train', optimizer, size, 1));
        return list;
      }, true),
    );
    await useTfjsBackend('wasm');
    const wasm = record(
      'large',
      await group('wasm', optimizer, () => {
        const list = [tfjsPath('wasm', 'descent', optimizer, size, 1), tfjsPath('wasm', 'descent-f32', optimizer, size, 1)];
        if (needTfTrain('wasm')) list.push(tfjsPath('wasm', 'tf.train', optimizer, size, 1));
        return list;
      }, true),
    );
    await useTfjsBackend('cpu');
    const gpu = options.gpujs === false ? [] : record('large', await group('gpujs', optimizer, () => [gpujsWebasm(optimizer, size)], true));
    for (const e of [...cpu, ...wasm, ...gpu]) pending.push({ layout: 'large', e });

    log(`${optimizer}: ${count} tensors of ${small}`);
    const total = count * small;
    await useTfjsBackend('cpu');
    const cpuSmall = record(
      'small',
      await group('cpu small', optimizer, () => {
        const list = [plainJs(optimizer, small, count), tfjsPath('cpu', 'descent', optimizer, small, count)];
        if (tfTrain !== undefined && !tfTrainSpeed.has(`small|tfjs-cpu|${tfTrain}`)) list.push(tfjsPath('cpu', 'tf.train', optimizer, small, count));
        return list;
      }, false),
    );
    const cpuOne = await group('cpu one', optimizer, () => [tfjsPath('cpu', 'descent', optimizer, total, 1)], false);
    await useTfjsBackend('wasm');
    const wasmSmall = record(
      'small',
      await group('wasm small', optimizer, () => {
        const list = [tfjsPath('wasm', 'descent', optimizer, small, count), tfjsPath('wasm', 'descent-f32', optimizer, small, count)];
        if (tfTrain !== undefined && !tfTrainSpeed.has(`small|tfjs-wasm|${tfTrain}`)) list.push(tfjsPath('wasm', 'tf.train', optimizer, small, count));
        return list;
      }, false),
    );
    const wasmOne = await group('wasm one', optimizer, () => [tfjsPath('wasm', 'descent', optimizer, total, 1)], false);
    for (const e of [...cpuSmall, ...wasmSmall]) pending.push({ layout: 'small', e });
    for (const [many, one] of [
      [cpuSmall, cpuOne],
      [wasmSmall, wasmOne],
    ] as const) {
      const m = many.find((e) => e.s.path.endsWith('-fused'));
      const o = one[0];
      if (m && o) overheads.push({ path: m.s.path, optimizer, tensors: count, size: small, usPerTensor: ((m.ms - o.ms) / count) * 1e3 });
    }
    await useTfjsBackend('cpu');
  }

  // Ratios, once every baseline is known.
  for (const { layout, e } of pending) {
    const o = e.s.optimizer as ReportOptimizer;
    const ratios: Record<string, number> = {};
    if (e.ofRoof !== undefined) ratios.ofRoof = e.ofRoof;
    if (e.ofStreamRoof !== undefined && !e.s.path.startsWith('stream roof')) ratios.ofStreamRoof = e.ofStreamRoof;
    const js = speed.get(key(layout, 'js-plain', o));
    if (js !== undefined && e.s.path !== 'js-plain') ratios.vsPlainJs = e.mps / js;
    const name = REPORT_OPTIMIZERS[o].tfTrain;
    if (name !== undefined && !e.s.path.includes('tf.train')) {
      const backend = e.s.path.startsWith('tfjs-cpu') ? 'tfjs-cpu' : 'tfjs-wasm';
      const base = tfTrainSpeed.get(`${layout}|${backend}|${name}`);
      if (base !== undefined) ratios.vsTfTrain = e.mps / base;
    }
    rows.push({ path: e.s.path, optimizer: o, size: e.s.size, tensors: e.s.tensors, mparamPerS: e.mps, msPerStep: e.ms, ratios });
  }
  notes.push(
    'vsTfTrain: against tf.train on the same TF.js backend for tfjs-cpu rows, on wasm for every other row (the faster tf.train); AdamW against tf.train.adam (tf.train has no AdamW); Lion has none.',
    `ofRoof: Mparam/s over the triad's bytes/s ÷ the optimizer's bytes per parameter (Adam/AdamW 28, Lion and SGD-momentum 20), the triad (wasm f32x4, one thread, ${TRIAD_BYTES} bytes per element) timed in the same round-robin as the row.`,
    "ofStreamRoof: Mparam/s over the 'stream roof' row timed in the same round-robin: the optimizer's own streams in place (θ ← θ + g, each slot s ← s + g) in wasm f32x4, one thread — the reachable roof for that access pattern. The triad's store stream also reads every line first (write-allocate), so bandwidth/28 from a triad understates it, and rows can exceed 100% of ofRoof.",
  );

  // The C loop (its own process; its ratio is against its own triad, timed in that process).
  const c = cBaseline(size, reps, notes);
  if (c) {
    for (const o of optimizers) {
      const timed = c.ms[o];
      if (timed === undefined) continue;
      const ms = timed.msPerStep;
      const roofBytes = (size / timed.triadMs) * 1e3 * TRIAD_BYTES;
      roofs[`C (gcc) ${o}`] = roofBytes;
      const mps = size / ms / 1e3;
      const js = speed.get(key('large', 'js-plain', o));
      rows.push({
        path: 'c-gcc-O3 (1 thread, f32 arithmetic)',
        optimizer: o,
        size,
        tensors: 1,
        mparamPerS: mps,
        msPerStep: ms,
        ratios: { ofRoof: mps / (roofBytes / REPORT_OPTIMIZERS[o].bytesPerParam / 1e6), ...(js !== undefined && { vsPlainJs: mps / js }) },
      });
    }
    notes.push(`C loop: tools/bench/elementwise.c, ${c.gcc}, -O3 -march=native -fno-math-errno (no -ffast-math: IEEE division and square root, vectorised; without -fno-math-errno gcc calls sqrtf for errno and does not vectorise Adam), float32 arithmetic; ofRoof against a C triad over arrays of the same size timed alternately with each step in that process.`);
  }

  for (const p of [...(options.producers ?? []), ...rowProducers]) rows.push(...(await p({ log, reps })));

  const memory: BenchMemoryRow[] = [];
  if (options.memory !== false) {
    log(`peak memory, Adam on ${size} parameters, one child process per path (and an idle one each)`);
    const paths = ['js-plain', 'tfjs-cpu-fused', 'tfjs-wasm-fused', 'tfjs-wasm tf.train', ...(options.gpujs === false ? [] : ['gpujs-webasm'])];
    for (const path of paths) {
      log(`  ${path}`);
      const idle = childRss(path, 'adam', 0).hwmKiB * 1024;
      const peak = childRss(path, 'adam', size).hwmKiB * 1024;
      const theory = 16 * size;
      memory.push({ path, optimizer: 'adam', size, peakMB: peak / 1e6, idleMB: idle / 1e6, theoryMB: theory / 1e6, ratio: (peak - idle) / theory });
    }
  }
  tf.engine().reset();
  return {
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      date: new Date().toISOString(),
      loadStart,
      loadEnd: loadavg(),
      threads: 1,
      ...(c && { gcc: c.gcc }),
      command: options.command,
    },
    roofs,
    rows,
    memory,
    overheads,
    notes,
  };
}

const f = (x: number | undefined, d = 0) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(0)}%`);
const times = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}×`);

/** The report as Markdown: machine facts, the command, speed rows, per-tensor overhead, peak memory, notes. */
export function reportMarkdown(r: BenchReport): string {
  const m = r.machine;
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    `# CPU benchmark, ${m.date.slice(0, 10)}`,
    '',
    `Command: \`${m.command}\``,
    '',
    `Machine: ${m.cores} cores (${m.cpu}), ${m.platform}, Node ${m.node}${m.gcc ? `, ${m.gcc}` : ''}; load average ${load(m.loadStart)} at the start, ${load(m.loadEnd)} at the end; every path runs on ${m.threads} thread. Figures are medians of same-run round-robin steps; compare ratios within a run, not absolute figures across runs.`,
    '',
    '## Throughput',
    '',
    '| path | optimizer | tensors × size | ms/step | Mparam/s | of roof (triad) | of stream roof | vs plain JS | vs tf.train |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rowLine = (x: BenchReportRow) =>
    `| ${x.path} | ${x.optimizer} | ${x.tensors} × ${x.size} | ${x.msPerStep.toFixed(x.msPerStep < 10 ? 2 : 1)} | ${x.gflops !== undefined ? `${f(x.gflops, 1)} GFLOP/s` : f(x.mparamPerS)} | ${pct(x.ratios.ofRoof)} | ${pct(x.ratios.ofStreamRoof)} | ${times(x.ratios.vsPlainJs)} | ${times(x.ratios.vsTfTrain)} |`;
  for (const x of r.rows) lines.push(rowLine(x));
  lines.push('', '## Roofs (triad bandwidth, same run)', '', '| group | GB/s | Adam roof, Mparam/s (28 B) | Lion/SGD roof (20 B) |', '|---|---:|---:|---:|');
  for (const [g, b] of Object.entries(r.roofs)) lines.push(`| ${g} | ${(b / 1e9).toFixed(1)} | ${(b / 28 / 1e6).toFixed(0)} | ${(b / 20 / 1e6).toFixed(0)} |`);
  if (r.overheads.length > 0) {
    lines.push('', '## Per-tensor overhead', '', '(time of a step over the small tensors − time over one tensor of the same total) / tensors', '', '| path | optimizer | tensors × size | µs per tensor |', '|---|---|---:|---:|');
    for (const o of r.overheads) lines.push(`| ${o.path} | ${o.optimizer} | ${o.tensors} × ${o.size} | ${o.usPerTensor.toFixed(1)} |`);
  }
  if (r.memory.length > 0) {
    lines.push(
      '',
      '## Peak memory',
      '',
      'One child process per path: VmHWM after creating θ and g (tf.fill / Float32Array, no staging copies) and the optimizer and taking 3 steps, minus the VmHWM of an idle child that loaded the same modules and initialised the same backend; against params + grads + state (Adam: 16 bytes per parameter).',
      '',
      '| path | optimizer | parameters | peak MB | idle MB | theory MB | (peak − idle) / theory |',
      '|---|---|---:|---:|---:|---:|---:|',
    );
    for (const x of r.memory) lines.push(`| ${x.path} | ${x.optimizer} | ${x.size} | ${x.peakMB.toFixed(0)} | ${x.idleMB.toFixed(0)} | ${x.theoryMB.toFixed(0)} | ${x.ratio.toFixed(2)}× |`);
  }
  if (r.notes.length > 0) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** Writes the report as `<dir>/cpu-<date>.md` (and the JSON beside it); returns the Markdown file's path. */
export function writeReportFiles(dir: string, r: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `cpu-${r.machine.date.slice(0, 10)}`);
  writeFileSync(`${base}.md`, reportMarkdown(r));
  writeFileSync(`${base}.json`, `${JSON.stringify(r, null, 2)}\n`);
  return `${base}.md`;
}
