import * as tf from '@tensorflow/tfjs-core';
import { compileJs } from './js.js';
import type { FusedKernel, FusedLoop } from './kernel.js';
import { SIMD_BLOCK, compileSimd, isWasmMemory, simdAvailable, type CompiledSimd, type WasmMemory } from './simd.js';

/**
 * Running fused kernels on the storage of the TF.js `cpu` and `wasm` backends.
 *
 * Ownership rules (the point of this file: a fused step must never change a tensor the user can see):
 *
 * - `cpu`: a tensor's values are a `Float32Array` in the backend's data store, and that array can be visible from
 *   outside under a different data id: `tf.tensor(array)` keeps the caller's array, a contiguous `tf.slice` returns
 *   a `subarray` view, `dataSync()` returns the array itself. So the parameter is never written in place: each step
 *   writes it into a fresh array that is then assigned to the variable (the composed path also gives the variable
 *   new storage every step, with ~14 more arrays). State slots are reachable only through this optimizer; they are
 *   updated in place when their data id has one reference and their array is one this module allocated, and are
 *   first copied into such an array otherwise.
 * - `wasm`: values live in the wasm heap at `memoryOffset`; the backend copies on `tf.tensor`, `dataSync` and
 *   `slice`, so storage is shared only through a shared data id, which its `refCount` shows. Parameter and slots
 *   are updated in place when their `refCount` is 1 and are first copied to private storage otherwise.
 * - Gradients are only read. Every loop reads g[i] before it writes element i of anything, so a gradient that is
 *   the parameter itself is still read before it changes.
 *
 * Anything unexpected (another backend's data, a dtype or layout this code does not know, a store it cannot find)
 * sends that parameter through the composed kernel for this step.
 *
 * @packageDocumentation
 */

/** Which implementation a step used: fused loops on `cpu`/`wasm` storage, composed TF.js ops, or both. */
export type TfjsPath = 'fused-cpu' | 'fused-wasm' | 'ops' | 'mixed';

/**
 * `auto`: fused loops when the active TF.js backend is `cpu` or `wasm` and the optimizer has one, computing in
 * float64 and rounding on store (bit for bit the Float64 reference run on float32 storage); `f32`: the same loops
 * in float32 arithmetic (every operation rounded to float32: on wasm four lanes per SIMD instruction instead of two,
 * about twice the speed where the float64 divisions and square roots are the limit; results within the
 * conformance kit's float32 bounds, no longer bit-identical to the reference; kernels without a program, Adam-atan2
 * and AdaBelief, keep float64); `off`: always composed ops.
 */
export type FusedMode = 'auto' | 'f32' | 'off';

type DataId = object;

/** Lookahead's slot (see core's OptimizerBase): synchronised by composed ops, never by a fused kernel. */
const LOOKAHEAD_SLOT = 'slowParam';

interface CpuEntry {
  values?: unknown;
  dtype?: string;
  refCount?: number;
}

interface WasmEntry {
  /** The tensor's id on the C++ side. */
  id?: number;
  memoryOffset?: number | null;
  dtype?: string;
  refCount?: number;
}

interface Store<E> {
  get(id: DataId): E | undefined;
  has(id: DataId): boolean;
}

/** Where TF.js records which backend holds each data id (it moves data lazily when the backend changes). */
type TensorInfo = Store<{ backend?: unknown }>;

/** What a fused step needs from the active backend, found once per step. */
export type FusedAccess =
  | { readonly kind: 'cpu'; readonly backend: object; readonly tensorInfo: TensorInfo; readonly store: Store<CpuEntry> }
  | {
      readonly kind: 'wasm';
      readonly backend: object;
      readonly tensorInfo: TensorInfo;
      readonly store: Store<WasmEntry>;
      /** The wasm module's heap (looked up per use: it is replaced when memory grows). */
      readonly heap: () => ArrayBuffer | SharedArrayBuffer;
      /** The backend's `WebAssembly.Memory` when it can be found and SIMD works: the SIMD loops run on it. */
      readonly memory: WasmMemory | undefined;
    };

function isStore(x: unknown): boolean {
  return !!x && typeof (x as Store<unknown>).get === 'function' && typeof (x as Store<unknown>).has === 'function';
}

/** The storage of the active backend, or undefined when it is neither `cpu` nor `wasm` or looks unfamiliar. */
export function fusedAccess(): FusedAccess | undefined {
  let name: string;
  let backend: unknown;
  try {
    name = tf.getBackend();
    backend = tf.backend();
  } catch {
    return undefined;
  }
  if (!backend || typeof backend !== 'object') return undefined;
  const tensorInfo = (tf.engine() as unknown as { state?: { tensorInfo?: unknown } }).state?.tensorInfo;
  if (!isStore(tensorInfo)) return undefined;
  if (name === 'cpu') {
    const store = (backend as { data?: unknown }).data;
    if (!isStore(store)) return undefined;
    return { kind: 'cpu', backend, tensorInfo: tensorInfo as TensorInfo, store: store as Store<CpuEntry> };
  }
  if (name === 'wasm') {
    const b = backend as { dataIdMap?: unknown; wasm?: { HEAPU8?: unknown; asm?: { memory?: unknown }; wasmMemory?: unknown } };
    const module = b.wasm;
    if (!isStore(b.dataIdMap) || !module || !(module.HEAPU8 instanceof Uint8Array)) return undefined;
    const heap = () => (module.HEAPU8 as Uint8Array).buffer;
    const candidate = [module.asm?.memory, module.wasmMemory].find((m) => isWasmMemory(m) && m.buffer === heap());
    const memory = candidate && simdAvailable() ? (candidate as WasmMemory) : undefined;
    return { kind: 'wasm', backend, tensorInfo: tensorInfo as TensorInfo, store: b.dataIdMap as Store<WasmEntry>, heap, memory };
  }
  return undefined;
}

/** Whether a tensor is float32 with its data on the active backend. */
function usable(access: FusedAccess, t: tf.Tensor): boolean {
  return t.dtype === 'float32' && access.tensorInfo.get(t.dataId as DataId)?.backend === access.backend;
}

/** A cpu tensor's values, when they are a Float32Array of n elements. */
function cpuValues(store: Store<CpuEntry>, t: tf.Tensor, n: number): Float32Array | undefined {
  const v = store.get(t.dataId as DataId)?.values;
  return v instanceof Float32Array && v.length === n ? v : undefined;
}

/** A wasm tensor's heap offset; for a tensor to be written, after giving it private storage if it shares. */
function wasmOffset(store: Store<WasmEntry>, t: tf.Tensor, n: number, writable: boolean): number | undefined {
  let entry = store.get(t.dataId as DataId);
  if (writable && entry && entry.refCount !== 1) {
    unshare(t as tf.Variable);
    entry = store.get(t.dataId as DataId);
  }
  const at = entry?.memoryOffset;
  return entry?.dtype === 'float32' && typeof at === 'number' && (n === 0 || at > 0) ? at : undefined;
}

/** tfjs-backend-wasm's registry of tensors on the C++ side (`backend.wasm.tfjs`), which owns XNNPACK's caches. */
interface WasmTensorRegistry {
  disposeData(id: number): void;
  registerTensor(id: number, size: number, memoryOffset: number): void;
}

/** One parameter's step as the fused path sees it. */
export interface FusedParam<O> {
  readonly options: O;
  readonly shape: readonly number[];
  readonly param: tf.Variable;
  readonly grad: tf.Tensor;
  /** The parameter's slots; Lookahead's slow weights (`slowParam`), which no kernel touches, are left alone. */
  readonly slots: Readonly<Record<string, tf.Variable>>;
  readonly scalars: Record<string, number>;
  readonly step: number;
}

/** Gives a variable private storage holding the same values (copy-on-write before an in-place update). */
function unshare(v: tf.Variable, owned?: WeakSet<Float32Array>): void {
  const copy = new Float32Array(v.dataSync() as Float32Array);
  owned?.add(copy);
  tf.tidy(() => v.assign(tf.tensor(copy, [...v.shape], 'float32')));
}

const isEmpty = (o: object) => {
  for (const _ in o) return false;
  return true;
};

/**
 * Runs one optimizer's fused kernel, parameter by parameter, and records which path each step took. One per
 * optimizer instance (it remembers the slot arrays it allocated). The per-parameter work outside the loops is kept
 * small (a few lookups, no TF.js ops), since models have many small tensors.
 */
export class FusedStepper<O> {
  private readonly owned = new WeakSet<Float32Array>();
  /** The kernel's slots of a parameter's slot record (Lookahead's left out), by record. */
  private readonly slotLists = new WeakMap<object, ReadonlyArray<readonly [string, tf.Variable]>>();
  /** Coefficients (and the SIMD program) of the last parameter, reused while options and step are the same. */
  private last: { options: O; step: number; k: Readonly<Record<string, number>>; simd?: CompiledSimd | undefined } | undefined;
  private fused = 0;
  private composed = 0;
  private kind: 'cpu' | 'wasm' | undefined;
  private ran = false;
  private simdBroken = false;

  /** `arithmetic`: `f64` (default) or `f32` (see {@link FusedMode}). */
  constructor(
    private readonly kernel: FusedKernel<O>,
    private readonly arithmetic: 'f64' | 'f32' = 'f64',
  ) {}

  /** The JavaScript loop for these coefficients: the kernel's, or its program in float32 arithmetic. */
  private jsLoop(options: O, k: Readonly<Record<string, number>>): (loop: FusedLoop) => void {
    const program = this.kernel.simd;
    if (this.arithmetic === 'f64' || !program) return (loop) => this.kernel.run(options, loop);
    const run = compileJs(`f32:${program.key(options, k)}`, () => ({ ...program.program(options, k), precision: 'f32' }));
    return ({ theta, out, grad, slots, start, end }) => run({ ...slots, theta, out, grad }, start, end, k);
  }

  /** Starts a step: the backend access to use, or undefined (every parameter takes the composed kernel). */
  begin(): FusedAccess | undefined {
    this.fused = 0;
    this.composed = 0;
    this.ran = true;
    this.last = undefined;
    const access = fusedAccess();
    this.kind = access?.kind;
    return access;
  }

  /**
   * Marks a Float32Array this optimizer created for a slot (and handed to no one else) as its own, so the cpu path
   * updates it in place from the first step instead of copying it first.
   */
  adopt(values: Float32Array): void {
    this.owned.add(values);
  }

  /** Records that a parameter took the composed kernel. */
  noteComposed(): void {
    this.composed++;
  }

  /** The path of the last step (before any step: the path a step would take now). */
  get path(): TfjsPath {
    if (!this.ran) {
      const kind = fusedAccess()?.kind;
      return kind ? `fused-${kind}` : 'ops';
    }
    if (this.fused === 0) return 'ops';
    if (this.composed > 0) return 'mixed';
    return `fused-${this.kind as 'cpu' | 'wasm'}`;
  }

  /** One parameter's update through the fused loop; false (nothing changed) when it must take the composed kernel. */
  update(access: FusedAccess, p: FusedParam<O>): boolean {
    if (this.kernel.accepts && !this.kernel.accepts(p.options, p.shape)) return false;
    let slots = this.slotLists.get(p.slots);
    if (!slots) this.slotLists.set(p.slots, (slots = Object.entries(p.slots).filter(([name]) => name !== LOOKAHEAD_SLOT)));
    if (!usable(access, p.param) || !usable(access, p.grad)) return false;
    for (const [, v] of slots) if (!usable(access, v)) return false;
    const ok = access.kind === 'cpu' ? this.updateCpu(access, p, slots) : this.updateWasm(access, p, slots);
    if (ok) this.fused++;
    return ok;
  }

  /** This step's coefficients; shared by the parameters of a group unless the optimizer keeps per-parameter scalars. */
  private coefficients(p: FusedParam<O>): NonNullable<FusedStepper<O>['last']> {
    const last = this.last;
    const shareable = isEmpty(p.scalars);
    if (last && shareable && last.options === p.options && last.step === p.step) return last;
    const entry = { options: p.options, step: p.step, k: this.kernel.coefficients(p.options, p.step, p.scalars) };
    if (shareable) this.last = entry;
    return entry;
  }

  private updateCpu(access: Extract<FusedAccess, { kind: 'cpu' }>, p: FusedParam<O>, slotList: ReadonlyArray<readonly [string, tf.Variable]>): boolean {
    const n = p.param.size;
    const thetaEntry = access.store.get(p.param.dataId as DataId);
    const theta = cpuValues(access.store, p.param, n);
    const grad = cpuValues(access.store, p.grad, n);
    if (!thetaEntry || !theta || !grad) return false;
    const slots: Record<string, Float32Array> = {};
    for (const [name, v] of slotList) {
      const entry = access.store.get(v.dataId as DataId);
      if (!(entry?.refCount === 1 && entry.values instanceof Float32Array && this.owned.has(entry.values))) unshare(v, this.owned);
      const arr = cpuValues(access.store, v, n);
      if (!arr) return false;
      slots[name] = arr;
    }
    const { k } = this.coefficients(p);
    const out = new Float32Array(n);
    this.jsLoop(p.options, k)({ k, theta, out, grad, slots, start: 0, end: n });
    if (thetaEntry.refCount === 1) {
      // Only the variable refers to this data id: give it the new array. Whoever holds the old one (the array the
      // variable was made from, a dataSync() result, a slice view) keeps the old values, as after an assign.
      thetaEntry.values = out;
    } else {
      const t = tf.tensor(out, [...p.shape], 'float32');
      p.param.assign(t);
      t.dispose();
    }
    return true;
  }

  private updateWasm(access: Extract<FusedAccess, { kind: 'wasm' }>, p: FusedParam<O>, slotList: ReadonlyArray<readonly [string, tf.Variable]>): boolean {
    const n = p.param.size;
    const registry = (access.backend as { wasm?: { tfjs?: Partial<WasmTensorRegistry> } }).wasm?.tfjs;
    if (typeof registry?.disposeData !== 'function' || typeof registry.registerTensor !== 'function') return false;
    const thetaAt = wasmOffset(access.store, p.param, n, true);
    const gradAt = wasmOffset(access.store, p.grad, n, false);
    if (thetaAt === undefined || gradAt === undefined) return false;
    const slotAt: Record<string, number> = {};
    for (const [name, v] of slotList) {
      const at = wasmOffset(access.store, v, n, true);
      if (at === undefined) return false;
      slotAt[name] = at;
    }
    // Copies above may have grown the heap; nothing below allocates in it.
    const c = this.coefficients(p);
    const k = c.k;
    let done = 0;
    const program = this.kernel.simd;
    if (program && access.memory && !this.simdBroken && n >= SIMD_BLOCK) {
      if (c.simd === undefined) {
        try {
          const f32 = this.arithmetic === 'f32';
          c.simd = compileSimd(access.memory, `${f32 ? 'f32:' : ''}${program.key(p.options, k)}`, () => ({ ...program.program(p.options, k), ...(f32 && { precision: 'f32' as const }) }));
        } catch {
          this.simdBroken = true; // no SIMD here after all: the JavaScript loop does the work
        }
      }
      const compiled = c.simd;
      if (compiled) {
        const bulk = n - (n % SIMD_BLOCK);
        const args: number[] = [];
        for (const a of compiled.arrays) args.push(a === 'theta' || a === 'out' ? thetaAt : a === 'grad' ? gradAt : (slotAt[a] as number));
        args.push(bulk * 4);
        for (const s of compiled.scalars) args.push(k[s] as number);
        compiled.run(...args);
        done = bulk;
      }
    }
    if (done < n) {
      const heap = access.heap();
      const theta = new Float32Array(heap, thetaAt, n);
      const slots: Record<string, Float32Array> = {};
      for (const name in slotAt) slots[name] = new Float32Array(heap, slotAt[name] as number, n);
      this.jsLoop(p.options, k)({ k, theta, out: theta, grad: new Float32Array(heap, gradAt, n), slots, start: done, end: n });
    }
    // tfjs-backend-wasm caches XNNPACK operators with the weights packed, keyed by the tensor's id (matMul,
    // conv2d): after an in-place update they would go on multiplying with the old θ, and a model would not train.
    // Unregistering the id drops those operators (the memory is the JavaScript side's and stays); registering it
    // again at the same memory makes the next matMul pack the new values.
    const entry = access.store.get(p.param.dataId as DataId);
    if (typeof entry?.id === 'number') {
      registry.disposeData(entry.id);
      registry.registerTensor(entry.id, n, thetaAt);
    }
    return true;
  }
}
