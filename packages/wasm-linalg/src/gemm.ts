import { gemmModule, MR, NR, runBlocks, UNROLL, type BlockJob, type TilesFunction } from './kernel.js';
import { availableCores, DATA_OFFSET, threadsAvailable, WorkerPool } from './threads.js';

/**
 * Float32 GEMM C ← α·op(A)·op(B) + β·C on the generated WebAssembly SIMD kernel, optionally on Node worker
 * threads. Operands are plain `Float32Array`s anywhere in JavaScript memory: each product packs op(A) and op(B)
 * into the module's memory (the transposes are folded into the packing), runs the blocked kernel, and writes
 * fl(α·s + β·c) back, s the float32 dot product. Copies are O(mk + kn + mn) against 2mnk flops.
 *
 * @packageDocumentation
 */

/** Options of one product. */
export interface GemmOptions {
  /** op(A) = Aᵀ: A is stored k × m. Default false (A is m × k). */
  readonly transA?: boolean;
  /** op(B) = Bᵀ: B is stored n × k. Default false (B is k × n). */
  readonly transB?: boolean;
  /** α. Default 1. */
  readonly alpha?: number;
  /** β; when 0 (the default) C is only written, never read, so it may hold anything (NaN included). */
  readonly beta?: number;
  /**
   * The caller's promise that op(A)·op(B) is symmetric because it is X·Xᵀ or XᵀX (A and B the same matrix, one of
   * them transposed): only the tiles on and above the diagonal are computed and the rest mirrored, about half the
   * flops. Every element equals what the full product gives, bit for bit (s_ab and s_ba are the same products
   * summed in the same order). Requires m = n.
   */
  readonly gram?: boolean;
}

/** Options of {@link createLinalg}. */
export interface LinalgOptions {
  /**
   * Threads computing a product, the caller's included: 1 runs everything on the caller's thread; more uses
   * Node worker threads on a shared memory. Default: the machine's logical cores (at most 8) where
   * worker_threads and SharedArrayBuffer exist, else 1 (a browser page that is not cross-origin isolated).
   */
  readonly threads?: number;
  /** Products with m·n·k below this run on one thread (a worker round trip costs ~0.1 ms idle, a scheduler slice on a loaded machine). Default 2²³ (≈ 203³). */
  readonly threadThreshold?: number;
}

/** The part of the WebAssembly JS API used here (the project's `lib` has no DOM types). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

let simdKnown: boolean | undefined;

/** Whether this engine runs WebAssembly with fixed-width SIMD, which the kernel needs (checked once). */
export function linalgAvailable(): boolean {
  if (simdKnown === undefined) {
    try {
      const api = wasmApi();
      simdKnown = !!api && api.validate(gemmModule(false));
    } catch {
      simdKnown = false;
    }
  }
  return simdKnown;
}

/** Cache blocking: k block (elements) and row panels per block of A (MC_PANELS·MR rows × KC floats ≈ 128 KiB). */
const KC = 256;
const MC_PANELS = 32;
const PAGE = 65536;
const MAX_THREADS = 8;

/** Float32 matrix products on one memory, with their worker threads; see {@link createLinalg}. */
export class Linalg {
  /** Threads a large product uses (1: no workers). */
  readonly threads: number;
  /** m·n·k from which a product is split between threads. */
  readonly threadThreshold: number;
  private readonly memory: WasmMemory;
  private readonly tiles: TilesFunction;
  private readonly module: object;
  private pool: WorkerPool | undefined;
  private disposed = false;

  constructor(options: LinalgOptions = {}) {
    const api = wasmApi();
    if (!api || !linalgAvailable()) throw new Error('wasm-linalg: WebAssembly SIMD is not available in this runtime');
    const { threads, threadThreshold } = options;
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 64)) {
      throw new RangeError(`wasm-linalg: threads must be an integer in [1, 64], got ${String(threads)}`);
    }
    if (threadThreshold !== undefined && !(threadThreshold >= 0)) {
      throw new RangeError(`wasm-linalg: threadThreshold must be ≥ 0, got ${String(threadThreshold)}`);
    }
    const canThread = threadsAvailable();
    this.threads = canThread ? (threads ?? Math.min(MAX_THREADS, availableCores())) : 1;
    this.threadThreshold = threadThreshold ?? 2 ** 23;
    const shared = this.threads > 1;
    this.memory = shared ? new api.Memory({ initial: 16, maximum: 65536, shared: true }) : new api.Memory({ initial: 16 });
    this.module = new api.Module(gemmModule(shared));
    this.tiles = new api.Instance(this.module, { env: { memory: this.memory } }).exports.tiles as TilesFunction;
  }

  /**
   * C ← α·op(A)·op(B) + β·C for an m × n result with inner dimension k, all row-major float32; returns `c`.
   * A holds m × k values (k × m with `transA`), B k × n (n × k with `transB`), C m × n.
   */
  gemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, options: GemmOptions = {}): Float32Array {
    if (this.disposed) throw new Error('wasm-linalg: gemm after dispose');
    for (const [label, v] of [['m', m], ['n', n], ['k', k]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`wasm-linalg: gemm ${label} must be a non-negative integer, got ${String(v)}`);
    }
    if (a.length < m * k || b.length < k * n || c.length < m * n) {
      throw new RangeError(`wasm-linalg: gemm ${m}×${k}·${k}×${n} needs ${m * k}, ${k * n}, ${m * n} values; got ${a.length}, ${b.length}, ${c.length}`);
    }
    const { transA = false, transB = false, alpha = 1, beta = 0, gram = false } = options;
    if (gram && m !== n) throw new RangeError(`wasm-linalg: gemm with gram needs a square result, got ${m}×${n}`);
    if (m === 0 || n === 0) return c;
    if (k === 0) {
      for (let i = 0; i < m * n; i++) c[i] = beta === 0 ? 0 : beta * (c[i] as number);
      return c;
    }
    const mPanels = Math.ceil(m / MR);
    const nPanels = Math.ceil(n / NR);
    const mp = mPanels * MR;
    const np = nPanels * NR;
    const kp = Math.ceil(k / UNROLL) * UNROLL;
    const offA = DATA_OFFSET;
    const offB = offA + mp * kp * 4;
    const offC = offB + kp * np * 4;
    this.reserve(offC + mp * np * 4);
    const f = new Float32Array(this.memory.buffer);

    // Pack op(A) into row panels (zero padding) and op(B) into column panels.
    const pa = offA >> 2;
    // Zero what the copies below leave: the last panel's missing rows (columns) and the K padding.
    if (mp !== m || kp !== k) f.fill(0, pa, pa + mp * kp);
    for (let i = 0; i < mPanels; i++) {
      const base = pa + i * kp * MR;
      const rows = Math.min(MR, m - i * MR);
      if (!transA) {
        for (let r = 0; r < rows; r++) {
          const src = (i * MR + r) * k;
          for (let p = 0, d = base + r; p < k; p++, d += MR) f[d] = a[src + p] as number;
        }
      } else {
        for (let p = 0; p < k; p++) {
          const src = p * m + i * MR;
          const d = base + p * MR;
          for (let r = 0; r < rows; r++) f[d + r] = a[src + r] as number;
        }
      }
    }
    const pb = offB >> 2;
    if (np !== n || kp !== k) f.fill(0, pb, pb + kp * np);
    for (let j = 0; j < nPanels; j++) {
      const base = pb + j * kp * NR;
      const cols = Math.min(NR, n - j * NR);
      if (!transB) {
        for (let p = 0; p < k; p++) {
          const src = p * n + j * NR;
          const d = base + p * NR;
          for (let q = 0; q < cols; q++) f[d + q] = b[src + q] as number;
        }
      } else {
        for (let q = 0; q < cols; q++) {
          const src = (j * NR + q) * k;
          for (let p = 0, d = base + q; p < k; p++, d += NR) f[d] = b[src + p] as number;
        }
      }
    }

    const job: BlockJob = { a: offA, b: offB, c: offC, kp, mPanels, ldc: np * 4, j0: 0, j1: nPanels, kc: KC, mc: MC_PANELS, mr: MR, nr: NR, upper: gram ? 1 : 0 };
    const parts = m * n * k >= this.threadThreshold ? Math.min(this.threads, nPanels) : 1;
    if (parts <= 1) runBlocks(this.tiles, job);
    else {
      // Chunks of column panels taken from a shared counter, about four per thread; every element's sum is
      // computed by one thread in the same order as on one.
      const chunk = Math.max(1, Math.ceil(nPanels / (4 * parts)));
      this.workerPool().run(job, parts - 1, chunk, this.tiles);
    }

    // C ← α·S + β·C, S the padded work matrix (its lower triangle mirrored from the upper one for a Gram matrix).
    const w = new Float32Array(this.memory.buffer, offC, mp * np);
    if (gram) for (let i = 1; i < m; i++) for (let j = 0; j < i; j++) w[i * np + j] = w[j * np + i] as number;
    for (let i = 0; i < m; i++) {
      const src = i * np;
      const dst = i * n;
      if (beta === 0) {
        if (alpha === 1) c.set(w.subarray(src, src + n), dst);
        else for (let j = 0; j < n; j++) c[dst + j] = alpha * (w[src + j] as number);
      } else {
        for (let j = 0; j < n; j++) c[dst + j] = alpha * (w[src + j] as number) + beta * (c[dst + j] as number);
      }
    }
    return c;
  }

  /** Stops the worker threads (a later threaded product would start them again, unless disposed). */
  dispose(): void {
    this.disposed = true;
    this.pool?.dispose();
    this.pool = undefined;
  }

  private workerPool(): WorkerPool {
    if (!this.pool) this.pool = new WorkerPool(this.threads - 1, this.module, this.memory);
    return this.pool;
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > 65536 * PAGE - PAGE) throw new RangeError(`wasm-linalg: a product needs ${bytes} bytes of wasm memory, over the 4 GiB limit`);
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
    }
  }
}

/**
 * A float32 GEMM engine: one WebAssembly memory with the SIMD kernel instantiated on it, and (Node, threads > 1)
 * a pool of worker threads started on the first product large enough to split. Call `dispose()` to stop them;
 * they never keep a process alive meanwhile.
 *
 * @example
 * ```ts
 * const la = createLinalg({ threads: 2 });
 * const c = la.gemm(2, 2, 3, Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(1, 0, 0, 1, 1, 1), new Float32Array(4));
 * la.dispose();
 * ```
 */
export function createLinalg(options?: LinalgOptions): Linalg {
  return new Linalg(options);
}

let shared: Linalg | undefined;

/**
 * The process-wide engine the backends use (default options), created on first use; undefined where WebAssembly
 * SIMD is missing, so callers keep their own path there.
 */
export function defaultLinalg(): Linalg | undefined {
  if (shared) return shared;
  if (!linalgAvailable()) return undefined;
  shared = new Linalg();
  return shared;
}

/** Disposes the engine of {@link defaultLinalg} (the next call creates a fresh one). */
export function disposeDefaultLinalg(): void {
  shared?.dispose();
  shared = undefined;
}
