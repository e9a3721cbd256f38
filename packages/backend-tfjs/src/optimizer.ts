import * as tf from '@tensorflow/tfjs-core';
import {
  OptimizerBase,
  OptionError,
  ParamError,
  UnsupportedError,
  entriesOf,
  firstUpdateState,
  initialParamState,
  show,
  sizeOf,
  type CreateOptions,
  type DecodedParamState,
  type NamedTensors,
  type Optimizer,
  type OptimizerDefinition,
  type OptimizerSpec,
  type ParamRecord,
  type PhaseArgs,
  type Work,
} from '@descent/core';
import { FusedStepper, fusedKernels, type FusedMode, type TfjsPath } from './fused/index.js';
import type { TfjsKernel } from './kernel.js';
import { kernels } from './kernels/index.js';
import { hostLinalg } from './kernels/host-linalg.js';
import { transformGradientsTfjs, transformKernels } from './transforms.js';

/** A request of a {@link Work}: a tensor's values on the host. */
class TensorRead {
  constructor(readonly tensor: tf.Tensor) {}
}

/**
 * The TF.js backend: parameters are float32 `tf.Variable`s updated in place with `assign`; optimizer state lives
 * in float32 variables next to them; every temporary is created inside `tf.tidy`. It runs on whichever TF.js
 * backend is active (`cpu`, `wasm`, `webgl`, `webgpu`, or `tensorflow` from tfjs-node), through the same code.
 *
 * @packageDocumentation
 */

interface Live {
  readonly variable: tf.Variable;
  step: number;
  scalars: Record<string, number>;
  slots: Record<string, tf.Variable>;
  /**
   * Slots still holding the constant they were created with (by slot name), so that the first update's
   * re-initialisation can leave them as they are instead of uploading a second copy. Cleared when state is loaded.
   */
  pristine?: Record<string, number> | undefined;
}

/**
 * The slots of a parameter whose initial value is one constant (zeros, Adagrad's accumulator value…), by name, as
 * core's `initialParamState` fills them under these options. Those are created by `tf.fill` (on wasm, in the heap
 * directly) or, on cpu, as one Float32Array, instead of a Float64Array, its Float32 copy and the backend's copy.
 */
function constantFills<O extends object>(def: OptimizerDefinition<O>, options: O, record: ParamRecord<O>): Map<string, number> {
  const fills = new Map(def.slots(options, record.shape).map((s) => [s.name, s.init]));
  const out = new Map<string, number>();
  for (const s of record.slots) {
    const init = fills.has(s.name) ? fills.get(s.name) : s.init;
    if (init === undefined || typeof init === 'number') out.set(s.name, init ?? 0);
  }
  return out;
}

/** Names of the optimizers this backend implements. */
export function supportedOptimizers(): string[] {
  return Object.keys(kernels);
}

function kernelFor(name: string): TfjsKernel<never> {
  const k = (kernels as Record<string, TfjsKernel<never> | undefined>)[name];
  if (!k) throw new UnsupportedError(`${name}: the tfjs backend has no kernel for this optimizer; it implements ${Object.keys(kernels).join(', ')}`);
  return k;
}

function variableProblem(v: unknown): string | undefined {
  if (!(v instanceof tf.Variable)) return `must be a tf.Variable, got ${v instanceof tf.Tensor ? 'a tf.Tensor (wrap it with tf.variable)' : show(v)}`;
  if (v.isDisposed) return 'was disposed';
  if (v.dtype !== 'float32') return `must have dtype float32, got ${v.dtype}`;
  return undefined;
}

/** Options of a TF.js optimizer instance: param groups, and the fused path. */
export interface TfjsCreateOptions<O extends object = Record<string, unknown>> extends CreateOptions<O> {
  /**
   * `auto` (default): on the `cpu` and `wasm` TF.js backends, optimizers with a fused kernel (see `fused/`) update
   * each parameter and its state in one loop over the backend's storage instead of a dozen TF.js kernels; other
   * backends and optimizers use composed ops; the loops compute in float64 and round on store, bit for bit the
   * Float64 reference run on float32 storage. `f32`: the same loops in float32 arithmetic (on wasm four SIMD lanes
   * instead of two, about twice as fast where float64 division and square root are the limit; within the
   * conformance kit's bounds, no longer bit-identical to the reference). `off`: always composed ops.
   * {@link TfjsOptimizer.path} tells which ran.
   */
  readonly fused?: FusedMode;
  /**
   * `auto` (default): on the `cpu` and `wasm` TF.js backends the matrix optimizers (Muon and its variants,
   * Shampoo) multiply their matrices on the host with `@descent/wasm-linalg` (WebAssembly SIMD, Node worker
   * threads); `off`: always `tf.matMul`. GPU backends always use `tf.matMul`.
   */
  readonly linalg?: 'auto' | 'off';
}

/** A descent optimizer on TF.js. Create it with {@link createTfjs}. */
export class TfjsOptimizer<O extends object = Record<string, unknown>> extends OptimizerBase<tf.Tensor, O> {
  readonly backend = 'tfjs';
  private readonly live = new Map<string, Live>();
  private readonly kernel: TfjsKernel<O>;
  private readonly fused: FusedStepper<O> | undefined;
  private readonly linalgMode: 'auto' | 'off';

  constructor(spec: OptimizerSpec<O>, params: NamedTensors<tf.Variable>, create: TfjsCreateOptions<O> = {}) {
    const where = spec?.name ?? 'optimizer';
    const entries = entriesOf(params ?? {}, `${where}: parameters`);
    for (const [name, v] of entries) {
      const problem = variableProblem(v);
      if (problem) throw new ParamError(`${where}: parameter ${show(name)} ${problem}`);
    }
    super(spec, entries.map(([n, v]) => [n, [...v.shape]]), create);
    this.kernel = kernelFor(this.spec.name) as unknown as TfjsKernel<O>;
    const mode = create.fused ?? 'auto';
    if (mode !== 'auto' && mode !== 'f32' && mode !== 'off') throw new OptionError(`${this.spec.name}: option "fused" must be "auto", "f32" or "off", got ${show(mode)}`);
    const fusedKernel = fusedKernels[this.spec.name];
    this.fused = mode !== 'off' && fusedKernel ? new FusedStepper<O>(fusedKernel, mode === 'f32' ? 'f32' : 'f64') : undefined;
    const linalg = create.linalg ?? 'auto';
    if (linalg !== 'auto' && linalg !== 'off') throw new OptionError(`${this.spec.name}: option "linalg" must be "auto" or "off", got ${show(linalg)}`);
    this.linalgMode = linalg;
    for (const t of this.spec.transforms ?? []) {
      if (!transformKernels[t.name]) {
        throw new UnsupportedError(`${this.spec.name}: transform ${t.name}: the tfjs backend has no kernel for it; it implements ${Object.keys(transformKernels).join(', ')}`);
      }
    }
    for (const [name, variable] of entries) {
      const record = this.records.get(name)!;
      const init = initialParamState(this.def, record.options(), record, record.slots.some((s) => s.init === 'param') ? variable.dataSync() : []);
      const pristine: Record<string, number> = {};
      const slots = this.upload(record, init.slots, constantFills(this.def, record.options(), record), pristine);
      this.live.set(name, { variable, step: init.step, scalars: init.scalars, slots, pristine });
    }
  }

  /**
   * Which implementation the last step used: `fused-cpu`/`fused-wasm` (one loop per parameter over the backend's
   * storage), `ops` (composed TF.js kernels) or `mixed` (some parameters each way, e.g. Muon's matrices next to
   * its auxiliary Adam). Before the first step, the path a step would take now.
   */
  get path(): TfjsPath {
    return this.fused?.path ?? 'ops';
  }

  /** The parameter variables, updated in place by `step`. */
  get params(): ReadonlyMap<string, tf.Variable> {
    return new Map([...this.live].map(([n, l]) => [n, l.variable]));
  }

  /**
   * Slot variables from their Float64 values, or from a constant (`constants`, recorded in `pristine`) without
   * staging copies.
   */
  private upload(record: ParamRecord<O>, slots: Record<string, Float64Array>, constants?: ReadonlyMap<string, number>, pristine?: Record<string, number>): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const s of record.slots) {
      const c = constants?.get(s.name);
      if (c !== undefined) {
        out[s.name] = this.filled(s.shape, c);
        if (pristine) pristine[s.name] = c;
        continue;
      }
      out[s.name] = tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(slots[s.name] as Float64Array), [...s.shape], 'float32'), false));
    }
    return out;
  }

  /**
   * A float32 variable filled with `c`. On cpu: one Float32Array, handed to the fused path as its own (so its first
   * step updates it in place rather than copying it); elsewhere `tf.fill`, which the wasm backend runs in its heap.
   */
  private filled(shape: readonly number[], c: number): tf.Variable {
    if (tf.getBackend() === 'cpu') {
      const a = new Float32Array(sizeOf(shape));
      if (c !== 0) a.fill(c);
      this.fused?.adopt(a);
      return tf.tidy(() => tf.variable(tf.tensor(a, [...shape], 'float32'), false));
    }
    return tf.tidy(() => tf.variable(tf.fill([...shape], c, 'float32'), false));
  }

  protected gradShape(grad: tf.Tensor): readonly number[] | string {
    if (!(grad instanceof tf.Tensor)) return `must be a tf.Tensor, got ${show(grad)}`;
    if (grad.isDisposed) return 'was disposed';
    if (grad.dtype !== 'float32') return `must have dtype float32, got ${grad.dtype}`;
    return grad.shape;
  }

  /**
   * A gradient that is one of the parameter variables (the point a closure received, or another parameter's
   * variable) would read that variable's new value once it was assigned: it is replaced by a clone, which keeps the
   * values of the moment (a clone shares the data id, so the fused path copies the variable before writing it).
   * Tensors that merely share a variable's data id (`clone`, `reshape`) keep their values through `assign` already.
   */
  protected override unaliasGradients(grads: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
    const variables = new Set<tf.Tensor>([...this.live.values()].map((l) => l.variable));
    let out: Map<string, tf.Tensor> | undefined;
    for (const [name, g] of grads) {
      if (!variables.has(g)) continue;
      out ??= new Map(grads);
      out.set(name, tf.clone(g));
    }
    return out ?? grads;
  }

  protected override releaseUnaliased(copies: readonly tf.Tensor[]): void {
    for (const c of copies) c.dispose();
  }

  protected findNonFinite(grads: ReadonlyMap<string, tf.Tensor>): { name: string; index: number; value: number } | undefined {
    // One small readback: whether every gradient is finite. Only when one is not do we read values to report.
    // Empty gradients hold nothing non-finite (and GL backends cannot reduce a size-0 tensor).
    const present = new Map([...grads].filter(([, g]) => g.size > 0));
    grads = present;
    const finite = tf.tidy(() => {
      const flags = [...grads.values()].map((g) => tf.all(tf.isFinite(g)));
      return flags.length ? tf.stack(flags) : tf.tensor1d([], 'bool');
    });
    const ok = finite.dataSync();
    finite.dispose();
    let k = 0;
    for (const [name, g] of grads) {
      if (ok[k++]) continue;
      const d = g.dataSync();
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return { name, index: i, value: d[i] as number };
    }
    return undefined;
  }

  protected evaluationPoint(): ReadonlyMap<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, l] of this.live) {
      const r = this.records.get(name)!;
      if (!this.kernel.evaluationPoint) {
        out.set(name, l.variable);
        continue;
      }
      out.set(
        name,
        tf.tidy(() =>
          this.kernel.evaluationPoint!({ name, options: r.options(), shape: r.shape, param: l.variable, slots: l.slots, scalars: l.scalars }),
        ),
      );
    }
    return out;
  }

  protected applyStep(grads: ReadonlyMap<string, tf.Tensor>): void {
    const fused = this.fused;
    const access = fused?.begin();
    for (const [name, grad] of grads) {
      const l = this.live.get(name)!;
      const r = this.records.get(name)!;
      const options = r.options();
      if (l.step === 0) this.reinitialize(l, r, options);
      l.step += 1;
      const step = l.step;
      if (r.size === 0) {
        this.emptyStep(name, l, r, options, step);
        continue;
      }
      const caution = this.spec.cautious;
      // Cautious masking needs the parameter before the update: a copy, so the update may write the variable.
      const before = caution ? tf.tidy(() => tf.add(l.variable, tf.zerosLike(l.variable))) : undefined;
      try {
        if (!(access && fused!.update(access, { options, shape: r.shape, param: l.variable, grad, slots: l.slots, scalars: l.scalars, step }))) {
          fused?.noteComposed();
          const linalg = this.linalgMode === 'auto' ? hostLinalg() : undefined;
          tf.tidy(() => this.kernel.update({ name, options, shape: r.shape, param: l.variable, grad, slots: l.slots, scalars: l.scalars, step, ...(linalg ? { linalg } : {}) }));
        }
        if (before) {
          const maximize = (options as { maximize?: boolean }).maximize === true;
          tf.tidy(() => {
            const u = tf.sub(before, l.variable);
            const mask = tf.cast(tf.greater(tf.mul(u, maximize ? tf.neg(grad) : grad), 0), 'float32');
            const denom = tf.maximum(tf.div(tf.sum(mask), r.size), caution!.eps);
            l.variable.assign(tf.sub(before, tf.mul(u, tf.div(mask, denom))));
          });
        }
      } finally {
        before?.dispose();
      }
    }
  }

  /**
   * A definition with phases (Prodigy): the base's two passes over the kernel's `accumulate` and `apply`; each
   * parameter's contributions (device partial sums in float32) are read back through a `TensorRead` request, so
   * `stepAsync` awaits them on WebGPU/WebGL.
   */
  protected override *applyStepWork(grads: ReadonlyMap<string, tf.Tensor>): Work {
    if (!this.def.phases) return this.applyStep(grads);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the hooks are generator methods
    const self = this;
    yield* this.phasedStepWork(grads, {
      *accumulate(name, grad, args) {
        return yield* self.accumulateParam(name, grad, args);
      },
      *apply(name, grad, args) {
        self.applyParam(name, grad, args);
      },
    });
  }

  private *accumulateParam(name: string, grad: tf.Tensor, args: PhaseArgs): Work<Record<string, number>> {
    const phases = this.def.phases!;
    const l = this.live.get(name)!;
    const r = this.records.get(name)!;
    const options = r.options();
    if (l.step === 0) this.reinitialize(l, r, options);
    l.step += 1;
    const step = l.step;
    if (r.size === 0) return this.onHost(l, r, (param, slots) => phases.accumulate({ name, options, shape: r.shape, param, grad: param, slots, scalars: l.scalars, step, ...args }));
    const sums = tf.tidy(() => this.kernel.accumulate!({ name, options, shape: r.shape, param: l.variable, grad, slots: l.slots, scalars: l.scalars, step, ...args }));
    try {
      const values = (yield new TensorRead(sums)) as ArrayLike<number>;
      return Object.fromEntries(phases.sums.map((key, i) => [key, values[i] as number]));
    } finally {
      sums.dispose();
    }
  }

  private applyParam(name: string, grad: tf.Tensor, args: PhaseArgs): void {
    const l = this.live.get(name)!;
    const r = this.records.get(name)!;
    const options = r.options();
    const ctx = { name, options, shape: r.shape, scalars: l.scalars, step: l.step, ...args };
    if (r.size === 0) this.onHost(l, r, (param, slots) => this.def.phases!.apply({ ...ctx, param, grad: param, slots }));
    else tf.tidy(() => this.kernel.apply!({ ...ctx, param: l.variable, grad, slots: l.slots }));
  }

  /** Runs `f` on Float64 copies of a parameter's slots and writes them back (parameters with no elements). */
  private onHost<R>(l: Live, r: ParamRecord<O>, f: (param: Float64Array, slots: Record<string, Float64Array>) => R): R {
    const slots: Record<string, Float64Array> = {};
    for (const [slot, v] of Object.entries(l.slots)) slots[slot] = Float64Array.from(v.dataSync());
    const result = f(new Float64Array(0), slots);
    tf.tidy(() => {
      for (const s of r.slots) {
        if (s.init === 'param' || sizeOf(s.shape) === 0) continue;
        l.slots[s.name]!.assign(tf.tensor(Float32Array.from(slots[s.name] as Float64Array), [...s.shape], 'float32'));
      }
    });
    return result;
  }

  /**
   * A parameter with no elements: run the Float64 reference update on the host. It changes no parameter value,
   * but advances host scalars (NAdam's μ-product) and any state that is not empty (Shampoo's preconditioner of a
   * non-empty dimension) exactly as the reference does — and GL backends cannot run reductions on size-0 tensors.
   */
  private emptyStep(name: string, l: Live, r: ParamRecord<O>, options: O, step: number): void {
    const slots: Record<string, Float64Array> = {};
    for (const [slot, v] of Object.entries(l.slots)) slots[slot] = Float64Array.from(v.dataSync());
    const nothing = new Float64Array(0);
    this.def.update({ name, options, shape: r.shape, param: nothing, grad: nothing, slots, scalars: l.scalars, step });
    tf.tidy(() => {
      for (const s of r.slots) {
        if (s.init === 'param' || sizeOf(s.shape) === 0) continue;
        l.slots[s.name]!.assign(tf.tensor(Float32Array.from(slots[s.name] as Float64Array), [...s.shape], 'float32'));
      }
    });
  }

  /** PyTorch creates state at a parameter's first update from the options then in force; so do we. */
  private reinitialize(l: Live, r: ParamRecord<O>, options: O): void {
    const fresh = firstUpdateState(this.def, options, r);
    l.scalars = fresh.scalars;
    const constants = constantFills(this.def, options, r);
    const pristine = l.pristine;
    l.pristine = undefined;
    tf.tidy(() => {
      for (const [name, values] of Object.entries(fresh.slots)) {
        // Still the same constant as at creation: nothing to write (and no second copy of the slot).
        const c = constants.get(name);
        if (c !== undefined && pristine?.[name] !== undefined && Object.is(Math.fround(pristine[name]), Math.fround(c))) continue;
        l.slots[name]!.assign(tf.tensor(Float32Array.from(values), l.slots[name]!.shape, 'float32'));
      }
    });
  }


  protected transformGradients(grads: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor> {
    return transformGradientsTfjs(this.spec.transforms ?? [], grads, this.params);
  }

  protected override releaseTransformed(grads: ReadonlyMap<string, tf.Tensor>): void {
    for (const g of grads.values()) g.dispose();
  }

  /** The look-ahead point is ours; gradients a closure returns are owned by the optimizer once returned. */
  protected override releaseClosure(point: ReadonlyMap<string, tf.Tensor>, grads: unknown): void {
    const keep = new Set<tf.Tensor>([...this.live.values()].map((l) => l.variable));
    for (const t of point.values()) if (!keep.has(t)) t.dispose();
    if (grads && typeof grads === 'object') {
      const values = grads instanceof Map ? [...grads.values()] : Object.values(grads);
      for (const g of values) if (g instanceof tf.Tensor && !keep.has(g) && !g.isDisposed) g.dispose();
    }
  }

  protected syncLookahead(alpha: number): void {
    tf.tidy(() => {
      for (const l of this.live.values()) {
        const phi = l.slots.slowParam!;
        phi.assign(tf.add(phi, tf.mul(alpha, tf.sub(l.variable, phi))));
        l.variable.assign(phi);
      }
    });
  }

  protected override updateEma(decay: number): void {
    tf.tidy(() => {
      for (const l of this.live.values()) {
        const avg = l.slots.emaParam!;
        avg.assign(tf.add(tf.mul(avg, decay), tf.mul(1 - decay, l.variable)));
      }
    });
  }

  protected readParamState(name: string): DecodedParamState {
    return this.runWork(this.readParamStateWork(name));
  }

  /** Reads each slot through a `TensorRead` request: `dataSync` in `exportState`, the awaited `data()` in `exportStateAsync`. */
  protected override *readParamStateWork(name: string): Work<DecodedParamState> {
    const l = this.live.get(name)!;
    const slots: Record<string, Float64Array> = {};
    for (const [slot, v] of Object.entries(l.slots)) slots[slot] = Float64Array.from((yield new TensorRead(v)) as ArrayLike<number>);
    return { step: l.step, scalars: { ...l.scalars }, slots };
  }

  protected override answer(request: unknown): unknown {
    return request instanceof TensorRead ? request.tensor.dataSync() : super.answer(request);
  }

  protected override answerAsync(request: unknown): Promise<unknown> {
    // On WebGPU and WebGL, data() waits for the device without blocking the page (dataSync would).
    return request instanceof TensorRead ? request.tensor.data() : super.answerAsync(request);
  }

  protected writeState(states: ReadonlyMap<string, DecodedParamState>): void {
    // Everything was validated by decodeState; build the new tensors first, then swap them in.
    const next = new Map<string, Record<string, tf.Variable>>();
    for (const [name, s] of states) next.set(name, this.upload(this.records.get(name)!, s.slots));
    for (const [name, s] of states) {
      const l = this.live.get(name)!;
      for (const v of Object.values(l.slots)) v.dispose();
      l.slots = next.get(name)!;
      l.pristine = undefined;
      l.step = s.step;
      l.scalars = { ...s.scalars };
    }
  }

  protected release(): void {
    for (const l of this.live.values()) for (const v of Object.values(l.slots)) v.dispose();
    this.live.clear();
  }

  /** Number of float32 values of optimizer state held on the device. */
  stateSize(): number {
    let n = 0;
    for (const r of this.records.values()) for (const s of r.slots) n += sizeOf(s.shape);
    return n;
  }
}

/**
 * Binds an optimizer spec to named float32 `tf.Variable`s on the active TF.js backend.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { adamw } from '@descent/core';
 * import { createTfjs } from '@descent/backend-tfjs';
 * const w = tf.variable(tf.randomNormal([256, 128]));
 * const opt = createTfjs(adamw({ lr: 1e-3 }), { w });
 * const grads = tf.grads((w: tf.Tensor) => tf.sum(tf.square(w)))([w]); // tfjs-core has no chained ops by default
 * opt.step({ w: grads[0]! });
 * ```
 */
export function createTfjs<O extends object>(
  spec: OptimizerSpec<O>,
  params: NamedTensors<tf.Variable>,
  create?: TfjsCreateOptions<O>,
): Optimizer<tf.Tensor, O> & {
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly path: TfjsPath;
  /** Number of float32 values of optimizer state held on the device. */
  stateSize(): number;
} {
  return new TfjsOptimizer(spec, params, create);
}
