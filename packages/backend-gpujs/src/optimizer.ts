import {
  OptimizerBase,
  ParamError,
  UnsupportedError,
  entriesOf,
  firstUpdateState,
  initialParamState,
  overlapTest,
  show,
  sizeOf,
  type CreateOptions,
  type DecodedParamState,
  type NamedTensors,
  type OptimizerSpec,
  type ParamRecord,
  type PortableState,
  type StepOutcome,
  type Work,
  unitLayout,
} from '@descent/core';
import type { GPU } from 'gpu.js';
import { Buf, Readback, makeDevice, programKey, readback, type Compiled, type Device } from './device.js';
import { createGpu, kernelMode, type GpujsActualMode, type GpujsMode } from './gpu.js';
import { elementwise, type GpujsKernel, type GpujsKernelContext } from './kernel.js';
import { kernels } from './kernels/index.js';
import type { Program } from './program.js';
import { combinePartials, reductionProgram, unitReductionProgram, type Reduction } from './reduce.js';
import { missingTransform, supportedTransforms, transformKernels, type TransformEnv } from './transforms.js';
import { defaultLinalg, type Linalg } from '@descent/wasm-linalg';

/**
 * The gpu.js backend: float32 parameters (`{ shape, data: Float32Array }`) updated by gpu.js kernels, optimizer
 * state in float32 buffers next to them, every scalar that depends on the step (bias corrections, scheduled
 * learning rates, trust ratios) computed on the host in Float64.
 *
 * @packageDocumentation
 */

/** A dense row-major float32 tensor: a parameter (updated in place) or a gradient (never written). */
export interface Float32Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Where parameter values live between steps. `host`: `tensor.data` holds the current values after every step (the
 * values are read before and written back after each step; a round trip on devices with their own memory).
 * `device`: parameters and state stay in device memory (GL textures, wasm memory) and `tensor.data` is brought up
 * to date only by {@link GpujsOptimizer.read}, {@link GpujsOptimizer.params} or {@link GpujsOptimizer.sync}; after
 * writing `tensor.data` yourself call {@link GpujsOptimizer.reload}.
 */
export type Residency = 'host' | 'device';

/** Options of {@link createGpujs} beyond the spec. */
export interface GpujsCreateOptions<O extends object = Record<string, unknown>> extends CreateOptions<O> {
  /** gpu.js mode. Default `auto` (gpu.js's choice: headlessgl or a WebGL in a browser when available, else webasm). */
  readonly mode?: GpujsMode;
  /** Default `device` on GL modes, `host` elsewhere. */
  readonly residency?: Residency;
  /** webasm only: use gpu.js's public call path (copies in and out, a fresh array per call) instead of driving the module. */
  readonly publicPath?: boolean;
  /**
   * `auto` (default): in the webasm and cpu modes the matrix optimizers (Muon and its variants, Shampoo) multiply
   * their matrices on the host with `@descent/wasm-linalg` (WebAssembly SIMD, Node worker threads) instead of
   * gpu.js kernels; `off`: gpu.js kernels everywhere. GL modes always use gpu.js kernels.
   */
  readonly linalg?: 'auto' | 'off';
}

/** Names of the optimizers this backend implements. */
export function supportedOptimizers(): string[] {
  return Object.keys(kernels);
}

function kernelFor(name: string): GpujsKernel<never> {
  const k = (kernels as Record<string, GpujsKernel<never> | undefined>)[name];
  if (!k) throw new UnsupportedError(`${name}: the gpujs backend has no kernel for this optimizer; it implements ${Object.keys(kernels).join(', ')}`);
  return k;
}

function tensorProblem(t: unknown): string | undefined {
  if (t === null || typeof t !== 'object') return `must be a tensor ({ shape, data: Float32Array }), got ${show(t)}`;
  const { shape, data } = t as Partial<Float32Tensor>;
  if (!(data instanceof Float32Array)) {
    return `must hold its values in a Float32Array, got ${data === undefined ? 'no data' : ((data as object)?.constructor?.name ?? show(data))}`;
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `must have a shape array, got ${show(shape)}`;
  const n = sizeOf(shape);
  if (n !== data.length) return `has shape [${shape.join(', ')}] (${n} values) but ${data.length} values`;
  return undefined;
}

/** A gradient made by a transform on the device: reading `data` downloads it. */
class DeviceGradient implements Float32Tensor {
  constructor(
    readonly shape: readonly number[],
    readonly buf: Buf,
    private readonly device: Device,
  ) {}

  get data(): Float32Array {
    return this.device.read(this.buf);
  }
}

/** wasm-linalg's engine for the modes whose buffers live in host memory (see `GpujsKernelContext.linalg`). */
function hostLinalg(mode: GpujsActualMode): { linalg?: Linalg } {
  const linalg = mode === 'webasm' || mode === 'cpu' ? defaultLinalg() : undefined;
  return linalg ? { linalg } : {};
}

/** A buffer's values as Float64, read back inside a {@link Work}. */
function* readback64(buf: Buf): Work<Float64Array> {
  return Float64Array.from(yield* readback(buf));
}

/** The request to run everything a device queued (webgpu). */
const FLUSH = Symbol('flush');

/** One parameter's buffers, compiled programs and host-side step state. */
class ParamRuntime {
  readonly param: Buf;
  readonly slots = new Map<string, Buf>();
  readonly temps = new Map<string, Buf>();
  readonly compiled = new Map<string, Compiled>();
  grad: Buf | null = null;
  step = 0;
  /** Whether kernels may use wasm-linalg on the host (`linalg: "auto"`, host-memory modes). */
  linalg = true;
  scalars: Record<string, number> = {};

  constructor(
    readonly device: Device,
    readonly name: string,
    readonly tensor: Float32Tensor,
    readonly size: number,
  ) {
    this.param = new Buf(size, [size], tensor.data);
  }

  buffer(name: string): Buf {
    if (name === 'param') return this.param;
    if (name === 'grad') {
      if (!this.grad) throw new Error(`gpujs: no gradient bound for ${this.name}`);
      return this.grad;
    }
    const b = this.slots.get(name) ?? this.temps.get(name);
    if (!b) throw new Error(`gpujs: ${this.name} has no buffer "${name}"`);
    return b;
  }

  /** A buffer the host may write: a slot, the parameter, or a (new) flat temporary of `length` values. */
  writable(name: string, length: number): Buf {
    if (name === 'param' || this.slots.has(name)) return this.buffer(name);
    return this.output(name, [length]);
  }

  private output(name: string, dims: readonly number[]): Buf {
    if (name === 'grad') throw new Error('gpujs: a program may not write the gradient');
    if (name === 'param' || this.slots.has(name)) return this.buffer(name);
    const length = dims.reduce((x, y) => x * y, 1);
    const existing = this.temps.get(name);
    if (existing && existing.length === length && existing.dims.join() === dims.join()) return existing;
    if (existing) this.device.free(existing);
    const b = new Buf(length, dims);
    this.temps.set(name, b);
    return b;
  }

  run(program: Program, values: Readonly<Record<string, number>> = {}): void {
    const arrays = Object.values(program.arrays).map((a) => {
      const b = this.buffer(a.buffer);
      if (a.dims.length > 1 && b.dims.join() !== a.dims.join()) {
        throw new Error(`gpujs: buffer "${a.buffer}" of ${this.name} has dims [${b.dims.join(', ')}], read as [${a.dims.join(', ')}]`);
      }
      return b;
    });
    // Programs that differ only in the buffers they bind share a compiled kernel, except on GL: gpu.js's GL
    // kernels pin the texture class (1-, 2- or 3-dimensional output) of each argument and switch kernels forever
    // when it alternates, so there every binding, every shape of bound buffer and whether it is bound as a texture
    // or as host values gets its own kernel (gpu.js's webgl2 switch from a host Input to a texture crashed in
    // `flattenTo` for Shampoo's [1, 1] preconditioners).
    const bindings =
      this.device.strategy === 'split'
        ? `|${Object.values(program.arrays)
            .map((a, j) => {
              const b = arrays[j] as Buf;
              return `${a.buffer}:${b.dims.join('x')}:${b.devValid ? 'dev' : 'host'}`;
            })
            .join(',')}>${Object.keys(program.writes).join(',')}`
        : '';
    const key = programKey(program) + bindings;
    let c = this.compiled.get(key);
    if (!c) {
      c = this.device.compile(program);
      this.compiled.set(key, c);
    }
    const scalars = program.scalars.map((s) => {
      const x = values[s];
      if (typeof x !== 'number') throw new Error(`gpujs: scalar "${s}" missing for ${this.name}`);
      return x;
    });
    const outputs = Object.keys(program.writes).map((name) => this.output(name, program.output));
    this.device.run(c, arrays, scalars, outputs);
  }

  *reduce(buffer: string, reduction: Reduction): Work<number> {
    const n = this.buffer(buffer).length;
    if (n === 0) return 0;
    const dest = `partials_${buffer}`;
    this.run(reductionProgram(buffer, n, reduction, dest), typeof reduction === 'object' ? { p: reduction.sumAbsPow } : {});
    return combinePartials(yield* readback(this.buffer(dest)), reduction);
  }

  context<O>(options: O, shape: readonly number[]): GpujsKernelContext<O> {
    return {
      name: this.name,
      options,
      shape,
      size: this.size,
      step: this.step,
      scalars: this.scalars,
      run: (program, values) => this.run(program, values),
      sumSquares: (buffer) => this.reduce(buffer, 'sumSquares'),
      sum: (buffer) => this.reduce(buffer, 'sum'),
      read: (buffer) => readback64(this.buffer(buffer)),
      write: (buffer, values) => {
        const b = this.writable(buffer, values.length);
        if (!b.host) b.host = new Float32Array(b.length);
        b.host.set(values);
        this.device.hostWritten(b);
      },
      ...(this.linalg ? hostLinalg(this.device.mode) : {}),
    };
  }

  free(): void {
    for (const b of [this.param, ...this.slots.values(), ...this.temps.values()]) this.device.free(b);
    if (this.grad) this.device.free(this.grad);
  }
}

/**
 * A descent optimizer on gpu.js kernels. Create it with {@link createGpujs}. `dispose()` frees every buffer,
 * texture and kernel (gpu.js finishes asynchronously: await {@link GpujsOptimizer.released}); under `device`
 * residency it first writes the final values into the parameters' `data`.
 */
export class GpujsOptimizer<O extends object = Record<string, unknown>> extends OptimizerBase<Float32Tensor, O> {
  readonly backend = 'gpujs';
  /** The gpu.js mode asked for. */
  readonly requestedMode: GpujsMode;
  /** The gpu.js backend that runs the kernels (gpu.js may choose or fall back; this is what it did). */
  readonly mode: GpujsActualMode;
  readonly residency: Residency;
  /** Whether the matrix kernels use wasm-linalg on the host where buffers live there (see {@link GpujsCreateOptions.linalg}). */
  private readonly linalg: boolean;
  /** Resolves when gpu.js has released every kernel (and GL context) after {@link dispose}. */
  released: Promise<void> = Promise.resolve();
  private readonly device: Device;
  private readonly kernel: GpujsKernel<O>;
  private readonly live = new Map<string, ParamRuntime>();

  /**
   * Prefer {@link createGpujs} (or {@link createGpujsAsync} for webgpu). `probed` is how `createGpujsAsync` hands over
   * a webgpu `GPU` whose mode it already checked asynchronously.
   */
  constructor(spec: OptimizerSpec<O>, params: NamedTensors<Float32Tensor>, create: GpujsCreateOptions<O> = {}, probed?: { gpu: GPU; mode: GpujsActualMode }) {
    const where = spec?.name ?? 'optimizer';
    if (create === null || typeof create !== 'object') throw new ParamError(`${where}: options must be an object, got ${show(create)}`);
    for (const key of Object.keys(create)) {
      if (!['groups', 'mode', 'residency', 'publicPath', 'linalg'].includes(key)) {
        throw new ParamError(`${where}: unknown option ${show(key)} of createGpujs; known: groups, mode, residency, publicPath, linalg`);
      }
    }
    const entries = entriesOf(params ?? {}, `${where}: parameters`);
    for (const [name, t] of entries) {
      const problem = tensorProblem(t);
      if (problem) throw new ParamError(`${where}: parameter ${show(name)} ${problem}`);
    }
    super(spec, entries.map(([n, t]) => [n, [...t.shape]]), create.groups ? { groups: create.groups } : {});
    this.kernel = kernelFor(this.spec.name) as unknown as GpujsKernel<O>;
    const missing = missingTransform(this.spec.transforms);
    if (missing) {
      throw new UnsupportedError(`${this.spec.name}: transform ${missing}: the gpujs backend has no kernel for it; it implements ${supportedTransforms().join(', ')}`);
    }
    if (create.residency !== undefined && create.residency !== 'host' && create.residency !== 'device') {
      throw new ParamError(`${where}: option "residency" must be "host" or "device", got ${show(create.residency)}`);
    }

    this.requestedMode = create.mode ?? 'auto';
    if (this.requestedMode === 'webgpu' && !probed) {
      throw new UnsupportedError(
        `${where}: gpu.js mode "webgpu" reads back asynchronously: create the optimizer with await createGpujsAsync(spec, params, { mode: "webgpu" }) and step it with await opt.stepAsync(grads)`,
      );
    }
    const gpu = probed?.gpu ?? createGpu(this.requestedMode, where);
    const mode = probed?.mode ?? probeMode(gpu, where);
    if (this.requestedMode !== 'auto' && mode !== this.requestedMode) {
      void gpu.destroy();
      throw new UnsupportedError(`${where}: gpu.js mode "${this.requestedMode}" was asked for but gpu.js runs kernels on "${mode}"`);
    }
    this.mode = mode;
    this.device = makeDevice(gpu, this.requestedMode, mode, where);
    if (create.publicPath) (this.device as { forcePublic?: boolean }).forcePublic = true;
    this.residency = create.residency ?? (this.device.strategy === 'split' ? 'device' : 'host');
    if (create.linalg !== undefined && create.linalg !== 'auto' && create.linalg !== 'off') {
      throw new ParamError(`${where}: option "linalg" must be "auto" or "off", got ${show(create.linalg)}`);
    }
    this.linalg = create.linalg !== 'off';

    for (const [name, t] of entries) {
      const record = this.records.get(name)!;
      const rt = new ParamRuntime(this.device, name, t, record.size);
      rt.linalg = this.linalg;
      const init = initialParamState(this.def, record.options(), record, t.data);
      rt.scalars = init.scalars;
      for (const s of record.slots) rt.slots.set(s.name, this.hostBuffer(init.slots[s.name] as Float64Array, s.shape));
      this.live.set(name, rt);
    }
  }

  /** A slot's buffer: gpu.js dims [cols, rows] for a matrix slot (Shampoo's preconditioners), flat otherwise. */
  private hostBuffer(values: Float64Array, shape: readonly number[]): Buf {
    const dims = shape.length === 2 ? [shape[1] as number, shape[0] as number] : [values.length];
    return new Buf(values.length, dims, Float32Array.from(values));
  }

  /** The gpu.js instance that owns this optimizer's kernels (destroyed by {@link dispose}). */
  get gpu(): GPU {
    return this.device.gpu;
  }

  /** `direct` or `public` (see {@link GpujsCreateOptions.publicPath}); `public` on every mode but webasm. */
  get path(): 'direct' | 'public' {
    return this.device.path;
  }

  /** Counters: gpu.js kernels compiled, kernel runs, and device buffers alive (GL textures, WebGPU storage buffers). */
  stats(): { kernels: number; runs: number; liveTextures: number } {
    return { kernels: this.device.kernelCount, runs: this.device.runCount, liveTextures: this.device.liveDeviceBuffers };
  }

  /** Refuses a synchronous call on webgpu, before anything changes. */
  private assertSyncReads(call: string, instead: string): void {
    if (!this.device.readsSync) {
      throw new UnsupportedError(`${this.where}: ${call}: gpu.js mode "webgpu" reads back asynchronously; use await opt.${instead}`);
    }
  }

  override step(grads: Parameters<OptimizerBase<Float32Tensor, O>['step']>[0]): StepOutcome {
    this.assertLive('step');
    this.assertSyncReads('step', 'stepAsync(grads)');
    return super.step(grads);
  }

  override exportState(): PortableState {
    this.assertLive('exportState');
    this.assertSyncReads('exportState', 'exportStateAsync()');
    return super.exportState();
  }

  /** {@link read} on any mode, webgpu included. */
  readAsync(name: string): Promise<Float32Array> {
    return this.runWorkAsync('readAsync', this.readWork(name));
  }

  private *readWork(name: string): Work<Float32Array> {
    const rt = this.live.get(name);
    if (!rt) throw new ParamError(`${this.where}: unknown parameter ${show(name)}`);
    yield* readback(rt.param);
    return rt.tensor.data;
  }

  /** {@link sync} on any mode, webgpu included: every parameter's `data` brought up to date. */
  syncAsync(): Promise<void> {
    return this.runWorkAsync('syncAsync', this.syncWork());
  }

  private *syncWork(): Work {
    for (const rt of this.live.values()) yield* readback(rt.param);
  }

  /**
   * {@link dispose} on any mode: under `device` residency the final values are first brought into the parameters'
   * `data` (asynchronously on webgpu, where the synchronous `dispose` refuses while values are on the device only);
   * resolves once gpu.js has released everything.
   */
  async disposeAsync(): Promise<void> {
    if (this.isDisposed) return;
    // Refused by its own name while another call runs (before the sync, which would name itself).
    this.assertLive('disposeAsync');
    if (this.residency === 'device') await this.syncAsync();
    this.dispose();
    await this.released;
  }

  /** The parameter tensors, brought up to date. */
  get params(): ReadonlyMap<string, Float32Tensor> {
    this.assertLive('params');
    this.sync();
    return new Map([...this.live].map(([n, rt]) => [n, rt.tensor]));
  }

  /** Brings one parameter's `data` up to date and returns it. */
  read(name: string): Float32Array {
    this.assertLive('read');
    const rt = this.live.get(name);
    if (!rt) throw new ParamError(`${this.where}: unknown parameter ${show(name)}`);
    this.device.read(rt.param);
    return rt.tensor.data;
  }

  /** Brings every parameter's `data` up to date. */
  sync(): void {
    this.assertLive('sync');
    for (const rt of this.live.values()) this.device.read(rt.param);
  }

  /** Takes `tensor.data` as the current values of one parameter (or all), after the caller wrote them. */
  reload(name?: string): void {
    this.assertLive('reload');
    for (const [n, rt] of this.live) if (name === undefined || n === name) this.device.hostWritten(rt.param);
  }

  /** Number of float32 values of optimizer state. */
  stateSize(): number {
    let n = 0;
    for (const r of this.records.values()) for (const s of r.slots) n += sizeOf(s.shape);
    return n;
  }

  protected gradShape(grad: Float32Tensor): readonly number[] | string {
    if (grad instanceof DeviceGradient) return grad.shape;
    return tensorProblem(grad) ?? grad.shape;
  }

  /**
   * A gradient whose `data` is (or overlaps) a parameter's array, such as the point a closure received, is copied:
   * parameters are written one after the other, on the host under `host` residency.
   */
  protected override unaliasGradients(grads: Map<string, Float32Tensor>): Map<string, Float32Tensor> {
    const shared = overlapTest([...this.live.values()].map((rt) => rt.tensor.data));
    let out: Map<string, Float32Tensor> | undefined;
    for (const [name, g] of grads) {
      if (g instanceof DeviceGradient || !shared(g.data)) continue;
      out ??= new Map(grads);
      out.set(name, { shape: g.shape, data: g.data.slice() });
    }
    return out ?? grads;
  }

  protected findNonFinite(grads: ReadonlyMap<string, Float32Tensor>): { name: string; index: number; value: number } | undefined {
    // Gradients arrive as host arrays: one scan on the host, no device work.
    for (const [name, g] of grads) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) {
        const x = d[i] as number;
        if (x - x !== 0) return { name, index: i, value: x };
      }
    }
    return undefined;
  }

  protected evaluationPoint(): ReadonlyMap<string, Float32Tensor> {
    return this.runWork(this.evaluationPointWork());
  }

  protected override *evaluationPointWork(): Work<ReadonlyMap<string, Float32Tensor>> {
    const out = new Map<string, Float32Tensor>();
    for (const [name, rt] of this.live) {
      const r = this.records.get(name)!;
      if (!this.kernel.evaluationPoint) {
        yield* readback(rt.param);
        out.set(name, rt.tensor);
        continue;
      }
      if (rt.size === 0) {
        out.set(name, { shape: r.shape, data: new Float32Array(0) });
        continue;
      }
      if (this.residency === 'host') this.device.hostWritten(rt.param);
      this.kernel.evaluationPoint(rt.context(r.options(), r.shape));
      out.set(name, { shape: r.shape, data: Float32Array.from(yield* readback(rt.buffer('point'))) });
    }
    return out;
  }

  protected applyStep(grads: ReadonlyMap<string, Float32Tensor>): void {
    this.runWork(this.applyStepWork(grads));
  }

  /**
   * A definition with phases (Prodigy): the base's two passes over the kernel's `accumulate` and `apply`. Every
   * gradient stays bound to its parameter from the first pass to the end of the second.
   */
  private *phasedStep(grads: ReadonlyMap<string, Float32Tensor>): Work {
    const phases = this.def.phases!;
    const kernel = this.kernel;
    const bound: ParamRuntime[] = [];
    const owned: Buf[] = [];
    for (const [name, grad] of grads) {
      const rt = this.live.get(name)!;
      if (rt.size === 0) continue;
      rt.grad = grad instanceof DeviceGradient ? grad.buf : new Buf(rt.size, [rt.size], grad.data);
      if (!(grad instanceof DeviceGradient)) owned.push(rt.grad);
      bound.push(rt);
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the hooks are generator methods
    const self = this;
    try {
      yield* this.phasedStepWork(grads, {
        *accumulate(name, _grad, args) {
          const rt = self.live.get(name)!;
          const r = self.records.get(name)!;
          const options = r.options();
          if (rt.step === 0) self.reinitialize(rt, r, options);
          rt.step += 1;
          if (rt.size === 0) return yield* self.emptyPhase(rt, r, (param, slots) => phases.accumulate({ name, options, shape: r.shape, param, grad: param, slots, scalars: rt.scalars, step: rt.step, ...args }));
          if (self.residency === 'host') self.device.hostWritten(rt.param);
          return yield* kernel.accumulate!({ ...rt.context(options, r.shape), ...args });
        },
        *apply(name, _grad, args) {
          const rt = self.live.get(name)!;
          const r = self.records.get(name)!;
          const options = r.options();
          if (rt.size === 0) {
            yield* self.emptyPhase(rt, r, (param, slots) => phases.apply({ name, options, shape: r.shape, param, grad: param, slots, scalars: rt.scalars, step: rt.step, ...args }));
            return;
          }
          const work = kernel.apply!({ ...rt.context(options, r.shape), ...args });
          if (work) yield* work;
          if (self.residency === 'host') yield* readback(rt.param);
        },
      });
    } finally {
      for (const b of owned) this.device.free(b);
      for (const rt of bound) rt.grad = null;
    }
  }

  /** Runs `f` on Float64 copies of an empty parameter's slots and writes them back. */
  private *emptyPhase<R>(rt: ParamRuntime, r: ParamRecord<O>, f: (param: Float64Array, slots: Record<string, Float64Array>) => R): Work<R> {
    const slots: Record<string, Float64Array> = {};
    for (const s of r.slots) slots[s.name] = yield* readback64(rt.slots.get(s.name)!);
    const result = f(new Float64Array(0), slots);
    for (const s of r.slots) {
      const b = rt.slots.get(s.name)!;
      (b.host as Float32Array).set(slots[s.name] as Float64Array);
      this.device.hostWritten(b);
    }
    return result;
  }

  protected override *applyStepWork(grads: ReadonlyMap<string, Float32Tensor>): Work {
    if (this.def.phases) return yield* this.phasedStep(grads);
    for (const [name, grad] of grads) {
      const rt = this.live.get(name)!;
      const r = this.records.get(name)!;
      const options = r.options();
      if (rt.step === 0) this.reinitialize(rt, r, options);
      rt.step += 1;
      if (rt.size === 0) {
        // An empty parameter: nothing for the device, but its state may not be empty (Shampoo's preconditioners of a
        // [2, 0] tensor) and host scalars move on, so the Float64 definition runs on copies of the slots.
        const empty = new Float64Array(0);
        const slots: Record<string, Float64Array> = {};
        for (const s of r.slots) slots[s.name] = yield* readback64(rt.slots.get(s.name)!);
        this.def.update({ name, options, shape: r.shape, param: empty, grad: empty, slots, scalars: rt.scalars, step: rt.step });
        for (const s of r.slots) {
          const b = rt.slots.get(s.name)!;
          (b.host as Float32Array).set(slots[s.name] as Float64Array);
          this.device.hostWritten(b);
        }
        continue;
      }
      const own = !(grad instanceof DeviceGradient);
      rt.grad = grad instanceof DeviceGradient ? grad.buf : new Buf(rt.size, [rt.size], grad.data);
      try {
        if (this.residency === 'host') this.device.hostWritten(rt.param);
        const caution = this.spec.cautious;
        const ctx = rt.context(options, r.shape);
        if (caution) ctx.run(elementwise(rt.size, { reads: { theta: 'param' }, body: '', writes: { cautiousBefore: 'theta' } }));
        const work = this.kernel.update(ctx);
        if (work) yield* work;
        if (caution) {
          // Cautious masking: u = before − θ, mask = [u·d > 0], θ = before − u·(mask / max(mean(mask), eps)).
          const d = (options as { maximize?: boolean }).maximize === true ? '-g' : 'g';
          ctx.run(
            elementwise(rt.size, {
              reads: { theta: 'param', before: 'cautiousBefore', g: 'grad' },
              body: `const u = before - theta;\nconst m = u * (${d}) > 0.0 ? 1.0 : 0.0;`,
              writes: { cautiousMask: 'm' },
            }),
          );
          const count = yield* ctx.sumSquares('cautiousMask');
          ctx.run(
            elementwise(rt.size, {
              reads: { theta: 'param', before: 'cautiousBefore', m: 'cautiousMask' },
              scalars: ['denom'],
              body: 'const u = before - theta;\ntheta = before - u * (m / denom);',
              writes: { param: 'theta' },
            }),
            { denom: Math.max(count / rt.size, caution.eps) },
          );
        }
        if (this.residency === 'host') yield* readback(rt.param);
      } finally {
        if (own) this.device.free(rt.grad);
        rt.grad = null;
      }
    }
  }

  /** PyTorch creates state at a parameter's first update from the options then in force; so do we. */
  private reinitialize(rt: ParamRuntime, r: ParamRecord<O>, options: O): void {
    const fresh = firstUpdateState(this.def, options, r);
    rt.scalars = fresh.scalars;
    for (const [name, values] of Object.entries(fresh.slots)) {
      const b = rt.slots.get(name)!;
      if (!b.host) b.host = new Float32Array(b.length);
      b.host.set(values);
      this.device.hostWritten(b);
    }
  }

  protected transformGradients(grads: ReadonlyMap<string, Float32Tensor>): Map<string, Float32Tensor> {
    return this.runWork(this.transformWork(grads));
  }

  protected override *transformWork(grads: ReadonlyMap<string, Float32Tensor>): Work<Map<string, Float32Tensor>> {
    const current = new Map<string, Buf>();
    for (const [name, g] of grads) current.set(name, new Buf(g.data.length, [g.data.length], g.data));
    const made = new Set<Buf>();
    let k = 0;
    const withGrad = <T>(name: string, f: (rt: ParamRuntime) => T): T => {
      const rt = this.live.get(name)!;
      rt.grad = current.get(name)!;
      try {
        return f(rt);
      } finally {
        rt.grad = null;
      }
    };
    /** `withGrad` for a {@link Work}: the gradient stays bound while it waits for readbacks. */
    const live = this.live;
    function* withGradWork<T>(name: string, f: (rt: ParamRuntime) => Work<T>): Work<T> {
      const rt = live.get(name)!;
      rt.grad = current.get(name)!;
      try {
        return yield* f(rt);
      } finally {
        rt.grad = null;
      }
    }
    /** Runs a program writing the new gradient into a fresh buffer, which replaces the current one. */
    const replace = (name: string, program: (rt: ParamRuntime, dest: string) => Program, values: Readonly<Record<string, number>>) =>
      withGrad(name, (rt) => {
        const dest = `transformedGrad${k++ % 2}`;
        rt.run(program(rt, dest), values);
        const b = rt.temps.get(dest)!;
        rt.temps.delete(dest);
        const prev = current.get(name)!;
        if (made.has(prev)) this.device.free(prev);
        made.add(b);
        current.set(name, b);
      });
    const env: TransformEnv = {
      names: [...grads.keys()].filter((n) => this.live.get(n)!.size > 0),
      shape: (name) => this.records.get(name)!.shape,
      reduce: (name, reduction) => withGradWork(name, (rt) => rt.reduce('grad', reduction)),
      map: (name, body, values) =>
        replace(name, (rt, dest) => elementwise(rt.size, { reads: { g: 'grad' }, scalars: Object.keys(values), body, writes: { [dest]: 'g' } }), values),
      unitSums: (name, of, kind) =>
        withGradWork(name, function* (rt) {
          const { units, size } = unitLayout(rt.tensor.shape);
          const out = new Float64Array(units);
          if (size === 0) return out;
          rt.run(unitReductionProgram(of, units, size, kind, 'unitPartials'));
          const partials = yield* readback(rt.buffer('unitPartials'));
          const blocks = partials.length / units;
          for (let u = 0; u < units; u++) for (let b = 0; b < blocks; b++) out[u] = (out[u] as number) + (partials[u * blocks + b] as number);
          return out;
        }),
      mapUnits: (name, body, perUnit) => {
        const { units, size } = unitLayout(this.records.get(name)!.shape);
        const rt = this.live.get(name)!;
        rt.writable('unitValues', units);
        withGrad(name, (r) => r.context(undefined, []).write('unitValues', perUnit));
        replace(
          name,
          (_rt, dest) => ({
            output: [size, units],
            arrays: { a: { buffer: 'grad', dims: [units * size] }, values: { buffer: 'unitValues', dims: [units] } },
            scalars: [],
            body: `let g = a[this.thread.y * ${size} + this.thread.x];\nconst v = values[this.thread.y];\n${body}`,
            writes: { [dest]: 'g' },
          }),
          {},
        );
      },
    };
    if (this.residency === 'host') for (const name of env.names) this.device.hostWritten(this.live.get(name)!.param);
    for (const t of this.spec.transforms ?? []) {
      const work = transformKernels[t.name]!(t.options, env);
      if (work) yield* work;
    }
    const out = new Map<string, Float32Tensor>();
    for (const [name, g] of grads) {
      const b = current.get(name)!;
      out.set(name, made.has(b) ? new DeviceGradient(g.shape, b, this.device) : g);
    }
    return out;
  }

  protected override releaseTransformed(grads: ReadonlyMap<string, Float32Tensor>): void {
    for (const g of grads.values()) if (g instanceof DeviceGradient) this.device.free(g.buf);
  }

  protected syncLookahead(alpha: number): void {
    this.runWork(this.syncLookaheadWork(alpha));
  }

  protected override *syncLookaheadWork(alpha: number): Work {
    for (const rt of this.live.values()) {
      if (rt.size === 0) continue;
      if (this.residency === 'host') this.device.hostWritten(rt.param);
      rt.run(
        elementwise(rt.size, {
          reads: { theta: 'param', phi: 'slowParam' },
          scalars: ['alpha'],
          body: 'phi = phi + alpha * (theta - phi);\ntheta = phi;',
          writes: { param: 'theta', slowParam: 'phi' },
        }),
        { alpha },
      );
      if (this.residency === 'host') yield* readback(rt.param);
    }
  }

  protected override updateEma(decay: number): void {
    this.runWork(this.updateEmaWork(decay));
  }

  protected override *updateEmaWork(decay: number): Work {
    for (const rt of this.live.values()) {
      if (rt.size === 0) continue;
      if (this.residency === 'host') this.device.hostWritten(rt.param);
      rt.run(
        elementwise(rt.size, {
          reads: { theta: 'param', avg: 'emaParam' },
          scalars: ['decay', 'oneMinusDecay'],
          body: 'avg = avg * decay + oneMinusDecay * theta;',
          writes: { emaParam: 'avg' },
        }),
        { decay, oneMinusDecay: 1 - decay },
      );
    }
  }

  protected readParamState(name: string): DecodedParamState {
    return this.runWork(this.readParamStateWork(name));
  }

  protected override *readParamStateWork(name: string): Work<DecodedParamState> {
    const rt = this.live.get(name)!;
    const slots: Record<string, Float64Array> = {};
    for (const [slot, b] of rt.slots) slots[slot] = yield* readback64(b);
    return { step: rt.step, scalars: { ...rt.scalars }, slots };
  }

  /** Answers a kernel's readback synchronously (every mode but webgpu). */
  protected override answer(request: unknown): unknown {
    if (request instanceof Readback) return this.device.read(request.buf);
    if (request === FLUSH) return undefined;
    return super.answer(request);
  }

  protected override answerAsync(request: unknown): Promise<unknown> {
    if (request instanceof Readback) return this.device.readAsync(request.buf);
    if (request === FLUSH) return this.device.flush();
    return super.answerAsync(request);
  }

  /** On webgpu, a step ends once its queued runs were submitted, so that their errors belong to this step. */
  protected override *stepWork(grads: Parameters<OptimizerBase<Float32Tensor, O>['stepAsync']>[0]): Work<StepOutcome> {
    const outcome = yield* super.stepWork(grads);
    if (!this.device.readsSync) yield FLUSH;
    return outcome;
  }

  protected writeState(states: ReadonlyMap<string, DecodedParamState>): void {
    for (const [name, s] of states) {
      const rt = this.live.get(name)!;
      for (const [slot, data] of Object.entries(s.slots)) {
        const b = rt.slots.get(slot)!;
        if (!b.host) b.host = new Float32Array(b.length);
        b.host.set(data);
        this.device.hostWritten(b);
      }
      rt.step = s.step;
      rt.scalars = { ...s.scalars };
    }
  }

  protected release(): void {
    if (this.residency === 'device') for (const rt of this.live.values()) this.device.read(rt.param);
    for (const rt of this.live.values()) rt.free();
    this.live.clear();
    this.released = this.device.destroy();
  }
}

/** Runs a tiny kernel to learn which backend gpu.js really uses for this `GPU`. */
function probeMode(gpu: GPU, where: string): GpujsActualMode {
  const probe = gpu.createKernel('function (a) { return a[this.thread.x] * 2.0; }', { output: [4], precision: 'single' } as never);
  const out = (probe as unknown as (a: Float32Array) => ArrayLike<number>)(Float32Array.of(1, 2, 3, 4));
  const ran = kernelMode(probe.kernel);
  (probe as unknown as { destroy(): void }).destroy();
  if (ran === 'unknown') throw new UnsupportedError(`${where}: gpu.js ran its probe kernel on a backend this package does not know`);
  if (![2, 4, 6, 8].every((x, i) => out[i] === x)) {
    throw new UnsupportedError(`${where}: gpu.js mode "${ran}" computed a wrong probe result (${Array.from(out).join(', ')}); it cannot be used`);
  }
  return ran;
}

/** {@link probeMode} for gpu.js's webgpu backend, whose kernels return Promises. */
async function probeModeAsync(gpu: GPU, where: string): Promise<GpujsActualMode> {
  const probe = gpu.createKernel('function (a) { return a[this.thread.x] * 2.0; }', { output: [4], precision: 'single' } as never);
  let out: ArrayLike<number>;
  try {
    out = await (probe as unknown as (a: Float32Array) => Promise<ArrayLike<number>>)(Float32Array.of(1, 2, 3, 4));
  } catch (e) {
    (probe as unknown as { destroy(): void }).destroy();
    throw new UnsupportedError(`${where}: gpu.js mode "webgpu" could not run a kernel: ${(e as Error).message}`);
  }
  const ran = kernelMode(probe.kernel);
  (probe as unknown as { destroy(): void }).destroy();
  if (ran !== 'webgpu') throw new UnsupportedError(`${where}: gpu.js mode "webgpu" was asked for but gpu.js ran its probe kernel on "${ran}"`);
  if (![2, 4, 6, 8].every((x, i) => out[i] === x)) {
    throw new UnsupportedError(`${where}: gpu.js mode "webgpu" computed a wrong probe result (${Array.from(out).join(', ')}); it cannot be used`);
  }
  return ran;
}

/**
 * {@link createGpujs} for every mode, webgpu included: gpu.js acquires a WebGPU device and builds kernels
 * asynchronously, so `mode: "webgpu"` needs this function; other modes resolve to what `createGpujs` returns.
 * On webgpu, step with `await opt.stepAsync(grads)` and read with `readAsync`, `syncAsync`, `exportStateAsync`,
 * `disposeAsync` (the synchronous calls are refused: a browser cannot read GPU memory back synchronously).
 *
 * @example
 * <!-- not runnable: needs a browser with WebGPU -->
 * ```ts
 * const opt = await createGpujsAsync(adam({ lr: 1e-3 }), { w }, { mode: 'webgpu' });
 * for (const g of gradients) await opt.stepAsync({ w: g });
 * await opt.syncAsync(); // w.data now holds the trained values
 * await opt.disposeAsync();
 * ```
 */
export async function createGpujsAsync<O extends object>(
  spec: OptimizerSpec<O>,
  params: NamedTensors<Float32Tensor>,
  create?: GpujsCreateOptions<O>,
): Promise<GpujsOptimizer<O>> {
  if (create?.mode !== 'webgpu') return createGpujs(spec, params, create);
  const where = spec?.name ?? 'optimizer';
  const gpu = createGpu('webgpu', where);
  try {
    const mode = await probeModeAsync(gpu, where);
    return new GpujsOptimizer(spec, params, create, { gpu, mode });
  } catch (e) {
    void gpu.destroy();
    throw e;
  }
}

/**
 * Binds an optimizer spec to named float32 parameters on gpu.js kernels.
 *
 * @example
 * ```ts
 * import { adamw } from '@descent/core';
 * import { createGpujs } from '@descent/backend-gpujs';
 * const w = { shape: [256, 128], data: new Float32Array(256 * 128) };
 * const opt = createGpujs(adamw({ lr: 1e-3 }), { w }, { mode: 'webasm' });
 * const gradient = new Float32Array(256 * 128).fill(0.5);
 * opt.step({ w: { shape: [256, 128], data: gradient } });
 * console.log(opt.mode); // the gpu.js backend that ran: "webasm"
 * ```
 */
export function createGpujs<O extends object>(
  spec: OptimizerSpec<O>,
  params: NamedTensors<Float32Tensor>,
  create?: GpujsCreateOptions<O>,
): GpujsOptimizer<O> {
  return new GpujsOptimizer(spec, params, create);
}
