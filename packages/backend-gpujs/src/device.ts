import { Input, WebAssemblyKernel, type GPU, type IKernelRunShortcut, type Texture } from 'gpu.js';
import { UnsupportedError, type Work } from '@descent/core';
import { kernelMode, type GpujsActualMode, type GpujsMode } from './gpu.js';
import { checkProgram, kernelOutput, kernelSources, programKey, type OutputStrategy, type Program } from './program.js';

/**
 * Devices: where buffers live and how programs run, one class per kind of gpu.js backend.
 *
 * - {@link HostDevice} (`cpu`): buffers are host `Float32Array`s. Kernels are built with `pipeline: true,
 *   immutable: false`, under which gpu.js's cpu backend allocates its result arrays once and reuses them on every
 *   call; results are copied into the buffers.
 * - {@link WasmDevice} (`webasm`): gpu.js's webasm kernels copy every argument into a wasm memory, run, and return a
 *   fresh copy of the output (`slice`) on every call. After a kernel's first call this device drives the compiled
 *   module itself: buffers stay in the module's memory between steps, an output that is also an input moves back
 *   into its argument region with one `copyWithin`, and nothing is allocated per step. If gpu.js's internals are not
 *   what this expects (another gpu.js version), it uses the public call path and says so in `path`.
 * - {@link GlDevice} (`headlessgl`, `webgl`, `webgl2`): buffers are float textures made with `pipeline: true,
 *   immutable: true`, kept on the device between steps and read back only when asked; every output is its own
 *   kernel (`split`), since a texture is a kernel's whole output.
 * - {@link WebGpuDevice} (`webgpu`): buffers are storage buffers (gpu.js pipeline results), kept on the device like
 *   GL textures. gpu.js's webgpu kernels return Promises (a kernel is built asynchronously on its first call, and
 *   readback is `mapAsync`), so runs are queued in order and executed by {@link WebGpuDevice.flush}; values reach
 *   the host only through {@link Device.readAsync}.
 *
 * Every buffer knows where its current values are (host and/or device) and moves them lazily.
 *
 * Several outputs: webasm and cpu compile one kernel with output `[n, k]` whose row y = r computes output r
 * (`rows`). gpu.js's `createKernelMap` is not an option on webasm (it falls back to cpu, see the tests), and one
 * kernel per output measured the same as `rows` through gpu.js's public path (Adam, 1M parameters: 88 vs 90
 * Mparam/s) while `rows` keeps all of a parameter's state in one wasm memory, which the direct path needs (128
 * Mparam/s on the same machine). On cpu, a kernel map measured no faster than `rows` (both ~34 ms per 1M-parameter
 * Adam step under load). GL keeps one kernel per output (`split`).
 *
 * @packageDocumentation
 */

/** A float32 array the optimizer owns or borrows, wherever its current values are. */
export class Buf {
  /** Host copy; for parameters and gradients, the user's own array. */
  host: Float32Array | null;
  hostValid: boolean;
  /** Device copy (a wasm memory region or a texture); meaningful to the owning device only. */
  dev: unknown = null;
  devValid = false;
  /** Set when the buffer's values are no longer needed (a used gradient), so nothing saves them before overwriting. */
  dropped = false;

  constructor(
    readonly length: number,
    /** gpu.js dims, x fastest. */
    readonly dims: readonly number[],
    host: Float32Array | null = null,
  ) {
    this.host = host;
    this.hostValid = host !== null;
  }
}

/**
 * The request a kernel's {@link Work} yields to read a buffer back: the optimizer answers it with the buffer's host
 * values, from {@link Device.read} in a synchronous step or {@link Device.readAsync} in `stepAsync`.
 */
export class Readback {
  constructor(readonly buf: Buf) {}
}

/** Reads a buffer back inside a {@link Work}: `const values = yield* readback(buf)`. */
export function* readback(buf: Buf): Work<Float32Array> {
  return (yield new Readback(buf)) as Float32Array;
}

/** A compiled program: its gpu.js kernel(s) and device-specific data. */
export interface Compiled {
  readonly program: Program;
  readonly kernels: readonly IKernelRunShortcut[];
  readonly outputs: readonly string[];
  readonly arrays: readonly string[];
}

const KERNEL_SETTINGS = { precision: 'single', tactic: 'precision', dynamicOutput: false, dynamicArguments: false } as const;

/**
 * Throws when a gpu.js kernel (after its first call) runs on another backend than `mode`: gpu.js replaces a kernel
 * whose features a backend lacks (a kernel map on webasm, an unsupported argument type) by a cpu kernel, with only
 * a console warning.
 */
export function assertRanOn(k: IKernelRunShortcut, mode: GpujsActualMode, where: string): void {
  const ran = kernelMode(k.kernel);
  if (ran === mode) return;
  const reason = (k.kernel as { fallbackReason?: string | null }).fallbackReason;
  throw new UnsupportedError(
    `${where}: gpu.js ran a kernel on "${ran}" instead of "${mode}"${reason ? ` (${reason})` : ''}; this backend does not mix gpu.js modes`,
  );
}

/** A device: compiles programs for one gpu.js backend and moves buffer values between host and device. */
export abstract class Device {
  abstract readonly strategy: OutputStrategy;
  /** Whether buffer values can live in device memory between steps (a readback then costs something). */
  abstract readonly deviceMemory: boolean;
  /** Whether {@link read} can bring device values to the host synchronously (false on WebGPU). */
  readonly readsSync: boolean = true;
  /** `direct` (own driving of compiled wasm modules) or `public` (gpu.js's call API), for webasm; `public` elsewhere. */
  path: 'direct' | 'public' = 'public';
  /** gpu.js kernels compiled (programs × outputs); counted to show kernels are built once, not per step. */
  kernelCount = 0;
  /** Kernel runs so far. */
  runCount = 0;
  /** Device buffers made and not yet freed: GL textures, WebGPU storage buffers (0 on webasm and cpu). */
  liveDeviceBuffers = 0;

  constructor(
    readonly gpu: GPU,
    /** The mode asked for. */
    readonly requested: GpujsMode,
    /** The mode gpu.js gave, from a probe kernel. */
    readonly mode: GpujsActualMode,
    readonly where: string,
  ) {}

  /**
   * Compiles a program into gpu.js kernels with these kernel settings (one kernel per output when sliced).
   */
  protected build(p: Program, settings: Record<string, unknown>): Compiled {
    checkProgram(p);
    const output = kernelOutput(p, this.strategy);
    const kernels = kernelSources(p, this.strategy).map((source) => {
      this.kernelCount++;
      return this.gpu.createKernel(source, { ...KERNEL_SETTINGS, output, ...settings } as never) as unknown as IKernelRunShortcut;
    });
    return { program: p, kernels, outputs: Object.keys(p.writes), arrays: Object.keys(p.arrays) };
  }

  /** After a kernel's first call: the backend that ran it must be the one asked for (gpu.js degrades silently). */
  protected checkRan(k: IKernelRunShortcut): void {
    assertRanOn(k, this.mode, this.where);
  }

  /**
   * The argument value gpu.js gets for a host buffer viewed with `dims`; `copy` when the run happens later than
   * the call (WebGPU's queue), so that the caller may reuse its array at once.
   */
  protected hostArg(buf: Buf, dims: readonly number[], copy = false): Float32Array | Input {
    const host = copy ? this.read(buf).slice() : this.read(buf);
    return dims.length === 1 ? host : new Input(host as unknown as number[], [...dims] as [number, number]);
  }

  /** Compiles a program for this device (cached by the caller). */
  abstract compile(p: Program): Compiled;
  /** Runs a compiled program: `arrays` bound in argument order, `outputs` in the order of `writes`. */
  abstract run(c: Compiled, arrays: readonly Buf[], scalars: readonly number[], outputs: readonly Buf[]): void;
  /** Brings the host copy of a device-resident buffer up to date. */
  protected abstract download(buf: Buf): void;

  /** The buffer's current values on the host (downloaded if only the device has them). */
  read(buf: Buf): Float32Array {
    if (!buf.hostValid) {
      if (!buf.host) buf.host = new Float32Array(buf.length);
      if (buf.devValid) this.download(buf);
      buf.hostValid = true;
    }
    return buf.host as Float32Array;
  }

  /** {@link read} for devices that read back asynchronously; the same as `read` elsewhere. */
  readAsync(buf: Buf): Promise<Float32Array> {
    return Promise.resolve().then(() => this.read(buf));
  }

  /** Runs whatever this device has queued (WebGPU); nothing to do elsewhere. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Declares `buf.host` to hold the current values (after the host wrote them). */
  hostWritten(buf: Buf): void {
    buf.hostValid = true;
    this.releaseDevice(buf);
  }

  /** Gives up a buffer's device copy. */
  protected releaseDevice(buf: Buf): void {
    buf.devValid = false;
    buf.dev = null;
  }

  /** Makes `made[r]` (a texture, a storage buffer) the only current copy of output `r`, freeing what it replaces. */
  protected holdOnDevice(outputs: readonly Buf[], made: readonly unknown[]): void {
    outputs.forEach((b, r) => {
      this.releaseDevice(b);
      b.dev = made[r];
      b.devValid = true;
      b.hostValid = false;
      b.dropped = false;
    });
  }

  /** Frees what a buffer holds on the device. */
  free(buf: Buf): void {
    buf.dropped = true;
    this.releaseDevice(buf);
  }

  /**
   * Destroys every kernel and, for GL, the context. gpu.js's cpu kernels do not leave `gpu.kernels` when destroyed
   * (and keep their result arrays), so the list is emptied here once gpu.js is done.
   */
  destroy(): Promise<void> {
    return this.gpu.destroy().then(() => {
      const list = (this.gpu as unknown as { kernels?: unknown[] }).kernels;
      if (list) list.length = 0;
    });
  }
}

interface ShortcutLike {
  (...args: unknown[]): unknown;
  kernel: unknown;
}

function runKernel(k: IKernelRunShortcut, args: readonly unknown[]): unknown {
  return (k as unknown as ShortcutLike)(...args);
}

/** Copies a gpu.js result (flat, an array of rows, or an array of those) into a host array; returns the count. */
function copyResult(result: unknown, into: Float32Array, at = 0): number {
  if (result instanceof Float32Array) {
    into.set(result, at);
    return result.length;
  }
  const parts = result as ArrayLike<unknown>;
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += copyResult(parts[i], into, at + n);
  return n;
}

/** The `cpu` mode, and the public call path of any backend that returns arrays. */
export class HostDevice extends Device {
  readonly strategy: OutputStrategy = 'rows';
  readonly deviceMemory: boolean = false;
  private readonly built = new WeakSet<Compiled>();

  compile(p: Program): Compiled {
    return this.build(p, { pipeline: true, immutable: false });
  }

  run(c: Compiled, arrays: readonly Buf[], scalars: readonly number[], outputs: readonly Buf[]): void {
    const dims = Object.values(c.program.arrays).map((a) => a.dims);
    const args = [...arrays.map((b, j) => this.hostArg(b, dims[j] as readonly number[])), ...scalars];
    const k = c.kernels[0] as IKernelRunShortcut;
    const result = runKernel(k, args);
    this.runCount++;
    if (!this.built.has(c)) {
      this.checkRan(k);
      this.built.add(c);
    }
    if (outputs.length === 1) {
      this.store(outputs[0] as Buf, result);
    } else {
      const rows = result as ArrayLike<Float32Array>;
      outputs.forEach((b, r) => this.store(b, rows[r] as Float32Array));
    }
  }

  private store(buf: Buf, result: unknown): void {
    if (!buf.host) buf.host = new Float32Array(buf.length);
    copyResult(result, buf.host);
    buf.hostValid = true;
    buf.dropped = false;
  }

  protected download(): void {
    // Host buffers are always valid.
  }
}

/** A stretch of a wasm module's memory that holds one buffer's values. */
interface Region {
  readonly memory: () => Float32Array;
  readonly offset: number;
  readonly length: number;
  owner: Buf | null;
}

interface WasmEntry {
  f32: Float32Array;
  cells: number;
  sizeX: number;
  run: (start: number, end: number, seed: number) => void;
  runSimd: ((start: number, end: number, seed: number) => void) | null;
  layout: {
    arrays: Record<string, { offset: number; flatLength: number }>;
    scalars: Record<string, { offset: number; type: string }>;
    outputOffset: number;
  };
}

interface WasmCompiled extends Compiled {
  entry: WasmEntry | null;
  inputs: Region[];
  outputsAt: Region[];
  scalarAt: number[];
  started: boolean;
}

type Dispatch = (run: WasmEntry['run'], runSimd: WasmEntry['runSimd'], cells: number, sizeX: number, seed: number) => string;

/** The direct-drive hooks this device needs from gpu.js's webasm backend, or undefined when they are not there. */
function wasmEntry(k: IKernelRunShortcut, p: Program): WasmEntry | undefined {
  const dispatch = (WebAssemblyKernel as unknown as { dispatchSpans?: unknown }).dispatchSpans;
  const e = (k.kernel as { _active?: Partial<WasmEntry> } | undefined)?._active;
  if (typeof dispatch !== 'function' || !e || !(e.f32 instanceof Float32Array) || typeof e.run !== 'function') return undefined;
  if (typeof e.cells !== 'number' || typeof e.sizeX !== 'number' || !e.layout || typeof e.layout.outputOffset !== 'number') return undefined;
  for (const [name, a] of Object.entries(p.arrays)) {
    const at = e.layout.arrays?.[name];
    const n = a.dims.reduce((x, y) => x * y, 1);
    if (!at || typeof at.offset !== 'number' || at.flatLength !== n) return undefined;
  }
  for (const s of p.scalars) {
    const at = e.layout.scalars?.[s];
    if (!at || typeof at.offset !== 'number' || (at.type !== 'Float' && at.type !== 'Number')) return undefined;
  }
  return e as WasmEntry;
}

/** The `webasm` mode: compiled wasm modules driven directly, buffers kept in their memories. */
export class WasmDevice extends Device {
  readonly strategy: OutputStrategy = 'rows';
  readonly deviceMemory: boolean = true;
  /** Set to use gpu.js's public call path only (arrays copied in and out on every call), for comparison. */
  forcePublic = false;

  compile(p: Program): Compiled {
    const c: WasmCompiled = { ...this.build(p, {}), entry: null, inputs: [], outputsAt: [], scalarAt: [], started: false };
    return c;
  }

  run(compiled: Compiled, arrays: readonly Buf[], scalars: readonly number[], outputs: readonly Buf[]): void {
    const c = compiled as WasmCompiled;
    const k = c.kernels[0] as IKernelRunShortcut;
    this.runCount++;
    if (!c.started) {
      // First call through gpu.js: it builds and runs the module (arguments copied into its memory).
      const dims = Object.values(c.program.arrays).map((a) => a.dims);
      const result = runKernel(k, [...arrays.map((b, j) => this.hostArg(b, dims[j] as readonly number[])), ...scalars]);
      this.checkRan(k);
      c.started = true;
      const entry = this.forcePublic ? undefined : wasmEntry(k, c.program);
      if (entry) {
        this.path = 'direct';
        this.adopt(c, entry);
        // The memory now holds the arguments and the results, exactly as after a direct run.
        c.inputs.forEach((r, j) => this.claim(r, arrays[j] as Buf));
        this.finish(c, arrays, outputs, true);
        return;
      }
      this.path = 'public';
      this.storePublic(result, outputs);
      return;
    }
    if (!c.entry) {
      const dims = Object.values(c.program.arrays).map((a) => a.dims);
      this.storePublic(runKernel(k, [...arrays.map((b, j) => this.hostArg(b, dims[j] as readonly number[])), ...scalars]), outputs);
      return;
    }
    const e = c.entry;
    arrays.forEach((b, j) => this.load(c.inputs[j] as Region, b));
    // Output regions are about to be overwritten: save what only they hold.
    outputs.forEach((b, r) => this.evict(c.outputsAt[r] as Region, b));
    const f32 = e.f32;
    scalars.forEach((x, s) => (f32[c.scalarAt[s] as number] = x));
    (WebAssemblyKernel as unknown as { dispatchSpans: Dispatch }).dispatchSpans(e.run, e.runSimd, e.cells, e.sizeX, 0);
    this.finish(c, arrays, outputs, false);
  }

  private adopt(c: WasmCompiled, e: WasmEntry): void {
    c.entry = e;
    const memory = () => e.f32;
    c.inputs = Object.keys(c.program.arrays).map((name) => {
      const at = e.layout.arrays[name] as { offset: number; flatLength: number };
      return { memory, offset: at.offset / 4, length: at.flatLength, owner: null };
    });
    const n = c.program.output.reduce((x, y) => x * y, 1);
    c.outputsAt = c.outputs.map((_, r) => ({ memory, offset: e.layout.outputOffset / 4 + r * n, length: n, owner: null }));
    c.scalarAt = c.program.scalars.map((s) => (e.layout.scalars[s] as { offset: number }).offset / 4);
  }

  private view(r: Region): Float32Array {
    return r.memory().subarray(r.offset, r.offset + r.length);
  }

  /** Makes `buf` the owner of region `r`, first saving a previous owner whose only copy is there. */
  private evict(r: Region, buf: Buf): void {
    const prev = r.owner;
    if (prev && prev !== buf && prev.dev === r && prev.devValid) {
      if (!prev.hostValid && !prev.dropped) {
        if (!prev.host) prev.host = new Float32Array(prev.length);
        prev.host.set(this.view(r));
        prev.hostValid = true;
      }
      prev.devValid = false;
      prev.dev = null;
    }
    r.owner = buf;
  }

  private claim(r: Region, buf: Buf): void {
    this.evict(r, buf);
    buf.dev = r;
    buf.devValid = true;
  }

  /** Puts a buffer's current values into an argument region (nothing to do when they are already there). */
  private load(r: Region, buf: Buf): void {
    if (buf.devValid && buf.dev === r) return;
    const source = buf.devValid ? this.view(buf.dev as Region) : this.read(buf);
    this.evict(r, buf);
    this.view(r).set(source);
    buf.dev = r;
    buf.devValid = true;
  }

  /** After a run: outputs that are also inputs move back into their argument region; the others stay put. */
  private finish(c: WasmCompiled, arrays: readonly Buf[], outputs: readonly Buf[], first: boolean): void {
    outputs.forEach((b, r) => {
      const out = c.outputsAt[r] as Region;
      const j = arrays.indexOf(b);
      if (first) this.evict(out, b);
      if (j >= 0) {
        const into = c.inputs[j] as Region;
        into.memory().copyWithin(into.offset, out.offset, out.offset + out.length);
        out.owner = null;
        this.claim(into, b);
      } else {
        this.claim(out, b);
      }
      b.hostValid = false;
      b.dropped = false;
    });
  }

  private storePublic(result: unknown, outputs: readonly Buf[]): void {
    const rows = outputs.length === 1 ? [result] : (result as ArrayLike<unknown>);
    outputs.forEach((b, r) => {
      if (!b.host) b.host = new Float32Array(b.length);
      copyResult(rows[r], b.host);
      b.hostValid = true;
      b.dropped = false;
      this.releaseDevice(b);
    });
  }

  protected download(buf: Buf): void {
    (buf.host as Float32Array).set(this.view(buf.dev as Region));
  }

  protected override releaseDevice(buf: Buf): void {
    const r = buf.dev as Region | null;
    if (r && r.owner === buf) r.owner = null;
    super.releaseDevice(buf);
  }
}

/** `headlessgl`, `webgl`, `webgl2`: buffers are float textures kept on the device. */
export class GlDevice extends Device {
  readonly strategy: OutputStrategy = 'split';
  readonly deviceMemory: boolean = true;

  compile(p: Program): Compiled {
    return this.build(p, { pipeline: true, immutable: true });
  }

  run(c: Compiled, arrays: readonly Buf[], scalars: readonly number[], outputs: readonly Buf[]): void {
    const dims = Object.values(c.program.arrays).map((a) => a.dims);
    const args = [...arrays.map((b, j) => (b.devValid ? b.dev : this.hostArg(b, dims[j] as readonly number[]))), ...scalars];
    const made = c.kernels.map((k) => {
      const t = runKernel(k, args) as Texture;
      this.runCount++;
      this.checkRan(k);
      this.liveDeviceBuffers++;
      return t;
    });
    this.holdOnDevice(outputs, made);
  }

  protected download(buf: Buf): void {
    copyResult((buf.dev as Texture).toArray(), buf.host as Float32Array);
  }

  protected override releaseDevice(buf: Buf): void {
    const t = buf.dev as Texture | null;
    if (t) {
      t.delete();
      this.liveDeviceBuffers--;
    }
    super.releaseDevice(buf);
  }
}

/** A gpu.js WebGPU pipeline result (`WebGPUBufferResult`), as this device uses it. */
interface StorageBuffer {
  toArray(): Promise<unknown>;
  delete(): void;
}

/** A storage buffer that a queued run will make. */
class Pending {
  handle: StorageBuffer | null = null;
}

/**
 * `webgpu` (a browser with `navigator.gpu`): buffers are storage buffers kept on the device. A run is queued with
 * host arguments copied at once (the caller may reuse its arrays as soon as the step returns) and executed in order
 * by {@link flush}, awaiting each gpu.js call; buffers given up are deleted in queue order too, after the runs that
 * read them. Reading a buffer that only the device holds needs {@link readAsync}; {@link read} refuses.
 */
export class WebGpuDevice extends Device {
  readonly strategy: OutputStrategy = 'split';
  readonly deviceMemory: boolean = true;
  override readonly readsSync: boolean = false;
  private readonly queue: Array<() => Promise<void> | void> = [];

  compile(p: Program): Compiled {
    return this.build(p, { pipeline: true, immutable: true });
  }

  run(c: Compiled, arrays: readonly Buf[], scalars: readonly number[], outputs: readonly Buf[]): void {
    const dims = Object.values(c.program.arrays).map((a) => a.dims);
    const args = arrays.map((b, j) => (b.devValid ? (b.dev as Pending) : this.hostArg(b, dims[j] as readonly number[], true)));
    const made = c.kernels.map(() => new Pending());
    this.liveDeviceBuffers += made.length;
    this.queue.push(async () => {
      const bound = [...args.map((a) => (a instanceof Pending ? a.handle : a)), ...scalars];
      for (const [r, k] of c.kernels.entries()) {
        (made[r] as Pending).handle = (await runKernel(k, bound)) as StorageBuffer;
        this.runCount++;
        this.checkRan(k);
      }
    });
    this.holdOnDevice(outputs, made);
  }

  override async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const op = this.queue.shift() as () => Promise<void> | void;
      try {
        await op();
      } catch (e) {
        this.queue.length = 0;
        throw e;
      }
    }
  }

  override async readAsync(buf: Buf): Promise<Float32Array> {
    if (buf.hostValid) return buf.host as Float32Array;
    await this.flush();
    if (!buf.host) buf.host = new Float32Array(buf.length);
    const pending = buf.dev as Pending | null;
    if (buf.devValid && pending?.handle) copyResult(await pending.handle.toArray(), buf.host);
    buf.hostValid = true;
    return buf.host;
  }

  protected download(): void {
    throw new UnsupportedError(
      `${this.where}: gpu.js mode "webgpu" reads device memory back asynchronously only: use stepAsync, exportStateAsync, readAsync, syncAsync or disposeAsync`,
    );
  }

  protected override releaseDevice(buf: Buf): void {
    const pending = buf.dev as Pending | null;
    if (pending) {
      this.liveDeviceBuffers--;
      this.queue.push(() => pending.handle?.delete());
    }
    super.releaseDevice(buf);
  }

  override destroy(): Promise<void> {
    return this.flush()
      .catch(() => undefined)
      .then(() => super.destroy());
  }
}

/** Builds the device for a gpu.js mode. */
export function makeDevice(gpu: GPU, requested: GpujsMode, mode: GpujsActualMode, where: string): Device {
  switch (mode) {
    case 'cpu':
      return new HostDevice(gpu, requested, mode, where);
    case 'webasm':
      return new WasmDevice(gpu, requested, mode, where);
    case 'headlessgl':
    case 'webgl':
    case 'webgl2':
      return new GlDevice(gpu, requested, mode, where);
    case 'webgpu':
      return new WebGpuDevice(gpu, requested, mode, where);
    default:
      throw new UnsupportedError(`${where}: gpu.js mode "${mode}" is not supported by this backend`);
  }
}

export { programKey };
