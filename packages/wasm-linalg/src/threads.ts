import { runBlocks, type BlockJob } from './kernel.js';

/**
 * Node worker threads that run shares of a product on the same shared `WebAssembly.Memory` as the caller, and a
 * synchronous join: the caller posts the {@link BlockJob} to every worker, and the caller and the workers take
 * chunks of column panels from a shared counter until none is left (so a worker that the OS schedules late
 * costs only its wake-up, the others doing its share), then the caller blocks in `Atomics.wait` until every
 * worker has added one to the done counter at byte 0 of the memory (Node allows
 * `Atomics.wait` on its main thread; browsers do not, which is one reason the pool is Node-only). Workers are
 * `unref`'d, so an idle pool never keeps a process alive, and `dispose` terminates them.
 *
 * @packageDocumentation
 */

/** Byte offset of the control words (done counter, error flag, next column panel) in the memory; data starts at {@link DATA_OFFSET}. */
export const CONTROL_OFFSET = 0;
/** First byte available to matrices. */
export const DATA_OFFSET = 64;

interface WorkerLike {
  postMessage(message: unknown): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface WorkerThreadsModule {
  Worker: new (source: string, options: { eval: true }) => WorkerLike;
  isMainThread: boolean;
}

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
}

/** Node's `worker_threads`, loaded synchronously (`process.getBuiltinModule`, Node ≥ 20.16), or undefined elsewhere. */
export function workerThreads(): WorkerThreadsModule | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  try {
    return proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreadsModule | undefined;
  } catch {
    return undefined;
  }
}

/** Logical cores (`os.availableParallelism()`), 1 where unknown. */
export function availableCores(): number {
  const proc = (globalThis as { process?: NodeProcess }).process;
  try {
    const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number; cpus?: () => unknown[] } | undefined;
    return Math.max(1, os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1);
  } catch {
    return 1;
  }
}

/** Whether threads can work here: worker_threads, SharedArrayBuffer, Atomics. */
export function threadsAvailable(): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && typeof Atomics !== 'undefined' && workerThreads() !== undefined;
}

// The worker: instantiates the module on the shared memory, then runs the blocks it is sent. `__name` covers
// transpilers that wrap functions with a naming helper (esbuild's keepNames).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const __name = (f) => f;
const runBlocks = ${runBlocks.toString()};
let tiles, memory;
parentPort.on('message', (msg) => {
  if (msg.init) {
    memory = msg.memory;
    tiles = new WebAssembly.Instance(msg.module, { env: { memory } }).exports.tiles;
    return;
  }
  let failed = false;
  const ctl = new Int32Array(memory.buffer, ${CONTROL_OFFSET}, 3);
  const job = msg.job;
  try {
    for (;;) {
      const j0 = Atomics.add(ctl, 2, msg.chunk);
      if (j0 >= job.j1) break;
      runBlocks(tiles, { ...job, j0, j1: Math.min(j0 + msg.chunk, job.j1) });
    }
  } catch (e) { failed = true; }
  if (failed) Atomics.store(ctl, 1, 1);
  Atomics.add(ctl, 0, 1);
  Atomics.notify(ctl, 0);
});
`;

/** How long the caller waits for the workers before giving up (a worker that died never reports). */
const JOIN_TIMEOUT_MS = 120_000;

/** A fixed set of workers sharing one memory and module. */
export class WorkerPool {
  private readonly workers: WorkerLike[] = [];

  constructor(
    readonly size: number,
    module: object,
    private readonly memory: { readonly buffer: ArrayBuffer | SharedArrayBuffer },
  ) {
    const wt = workerThreads();
    if (!wt) throw new Error('wasm-linalg: worker_threads is not available');
    for (let i = 0; i < size; i++) {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.postMessage({ init: true, module, memory });
      this.workers.push(w);
    }
  }

  /**
   * Runs the column panels [job.j0, job.j1) of `job` here and on `workers` workers (at most `size`), `chunk`
   * panels at a time, returning when all are done. Each panel is computed whole (every k block, every row panel)
   * by one thread, so the result does not depend on who took which chunk.
   */
  run(job: BlockJob, workers: number, chunk: number, tiles: Parameters<typeof runBlocks>[0]): void {
    const ctl = new Int32Array(this.memory.buffer, CONTROL_OFFSET, 3);
    const remote = Math.min(workers, this.workers.length);
    Atomics.store(ctl, 0, 0);
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, 2, job.j0);
    for (let i = 0; i < remote; i++) this.workers[i]!.postMessage({ job, chunk });
    let error: unknown;
    try {
      for (;;) {
        const j0 = Atomics.add(ctl, 2, chunk);
        if (j0 >= job.j1) break;
        runBlocks(tiles, { ...job, j0, j1: Math.min(j0 + chunk, job.j1) });
      }
    } catch (e) {
      error = e;
      Atomics.store(ctl, 2, job.j1); // stop the workers taking more
    }
    const start = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, 0);
      if (done >= remote) break;
      if (Date.now() - start > JOIN_TIMEOUT_MS) throw new Error(`wasm-linalg: workers did not finish within ${JOIN_TIMEOUT_MS} ms`);
      Atomics.wait(ctl, 0, done, 1000);
    }
    if (error !== undefined) throw error;
    if (Atomics.load(ctl, 1) !== 0) throw new Error('wasm-linalg: a worker failed while computing its share of a product');
  }

  /** Terminates the workers. */
  dispose(): void {
    for (const w of this.workers.splice(0)) void w.terminate();
  }
}
