import type { Work } from '@descent/core';
import type { Linalg } from '@descent/wasm-linalg';
import type { Program } from './program.js';

/**
 * The interface between the optimizer bookkeeping and the per-optimizer kernels in `kernels/<name>.ts`, which
 * mirror `core/src/optimizers/<name>.ts`: a kernel module turns one step of one parameter into programs (gpu.js
 * kernel source over named buffers) and host scalars.
 *
 * Buffers of a parameter, by name: `param` (θ, updated in place), `grad` (this step's gradient, read-only), every
 * state slot by its name (`expAvg`, …), and temporaries a program writes (any other name; created with the
 * program's output size on first write). Scalars are computed on the host in Float64 (bias corrections,
 * learning rates) and reach the kernels as float32 arguments.
 *
 * @packageDocumentation
 */

/** What a gpu.js kernel sees for one parameter. */
export interface GpujsKernelContext<O> {
  /** Parameter name, for error messages. */
  readonly name: string;
  /** Resolved options of the parameter's group (with the scheduled learning rate). */
  readonly options: O;
  readonly shape: readonly number[];
  /** Number of elements of the parameter. */
  readonly size: number;
  /** This parameter's step number: already incremented in `update` (1 on its first update), not in `evaluationPoint`. */
  readonly step: number;
  /** Per-parameter host scalars (e.g. NAdam's μ-product), Float64, updated in place. */
  readonly scalars: Record<string, number>;
  /** Runs a program over this parameter's buffers; `values` gives its scalars by name. */
  run(program: Program, values?: Readonly<Record<string, number>>): void;
  /**
   * Σx² of a buffer: float32 partial sums over blocks of {@link SUM_BLOCK} elements on the device, added in
   * Float64 on the host. A {@link Work}, because it reads back: `const s = yield* ctx.sumSquares('param')`.
   */
  sumSquares(buffer: string): Work<number>;
  /** Σx of a buffer, as {@link sumSquares} (float32 blocks on the device, Float64 on the host). */
  sum(buffer: string): Work<number>;
  /**
   * A host copy of a buffer's values (a readback on devices with their own memory), for host-side Float64 work:
   * `const h = yield* ctx.read('precond0')`.
   */
  read(buffer: string): Work<Float64Array>;
  /** Replaces a buffer's values from the host (rounded to float32); a name that is no buffer yet makes a flat temporary. */
  write(buffer: string, values: ArrayLike<number>): void;
  /**
   * `@descent/wasm-linalg`'s float32 GEMM engine where the buffers live in host memory (the `webasm` and `cpu`
   * modes, when WebAssembly SIMD is available), for the matrix kernels to multiply on the host (`read`, products,
   * `write`) instead of running one gpu.js thread per output element; undefined on GL and WebGPU.
   */
  readonly linalg?: Linalg;
}

/**
 * The gpu.js implementation of one optimizer. An update that reads values back (a norm, a matrix for a host
 * eigendecomposition) is a generator function (`*update(ctx)`) and reads through `yield*`, so that the same code
 * runs synchronously where readbacks are synchronous and with awaits on WebGPU; the others return nothing.
 */
export interface GpujsKernel<O = never> {
  /** One update of one parameter. */
  update(ctx: GpujsKernelContext<O>): void | Work;
  /**
   * For optimizers whose definition has `evaluationPoint` (NAG): writes the point at which `step(closure)`
   * evaluates the gradient into the temporary buffer `point`.
   */
  evaluationPoint?(ctx: GpujsKernelContext<O>): void;
  /**
   * First pass of a two-phase step (core's `GroupPhases`, Prodigy): writes the slots, returns the parameter's
   * contributions (named as the definition's `phases.sums`), reading its reductions back with `yield*`.
   */
  accumulate?(ctx: GpujsPhaseContext<O>): Work<Record<string, number>>;
  /** Second pass of a two-phase step: writes the parameter. */
  apply?(ctx: GpujsPhaseContext<O>): void | Work;
}

/** A pass of a two-phase step: the group's shared scalars and the step's host constants too. */
export interface GpujsPhaseContext<O> extends GpujsKernelContext<O> {
  readonly group: Readonly<Record<string, number>>;
  readonly constants: Readonly<Record<string, number>>;
}

/** Elements summed in float32 by one device thread of a reduction; the partial sums are added in Float64. */
export const SUM_BLOCK = 64;

/** An elementwise program over a parameter's buffers, written with locals instead of indexed arrays. */
export interface ElementwiseSpec {
  /** Local → buffer it is read from at the current element (`theta: 'param'`, `g: 'grad'`, `expAvg: 'expAvg'`). */
  readonly reads: Readonly<Record<string, string>>;
  readonly scalars?: readonly string[];
  /** Statements updating the locals (gpu.js's JavaScript subset). */
  readonly body: string;
  /** Buffer → local holding its new value. */
  readonly writes: Readonly<Record<string, string>>;
}

/**
 * Builds an elementwise {@link Program} of `size` elements: every local of `reads` is loaded from its buffer at
 * element `i = this.thread.x` before `body`, and every buffer of `writes` receives its local's final value.
 */
export function elementwise(size: number, spec: ElementwiseSpec): Program {
  const arrays: Record<string, { buffer: string; dims: number[] }> = {};
  const loads: string[] = ['const i = this.thread.x;'];
  for (const [local, buffer] of Object.entries(spec.reads)) {
    arrays[`a_${local}`] = { buffer, dims: [size] };
    loads.push(`let ${local} = a_${local}[i];`);
  }
  return { output: [size], arrays, scalars: spec.scalars ?? [], body: `${loads.join('\n')}\n${spec.body}`, writes: spec.writes };
}

/** `{ a: 'a', b: 'b' }` for slot names used as both buffer and local names. */
export function same(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, n]));
}

/**
 * The usual first lines of an update, as in the reference loops: negate the gradient when maximizing, then add
 * the L2 penalty `weightDecay·θ` (scalar `weightDecay`) when it is not 0.
 */
export function gradientPrologue(o: { readonly maximize?: boolean; readonly weightDecay?: number }, l2 = true): string {
  const lines: string[] = [];
  if (o.maximize) lines.push('g = -g;');
  if (l2 && o.weightDecay !== undefined && o.weightDecay !== 0) lines.push('g = g + weightDecay * theta;');
  return lines.join('\n');
}

/**
 * `sign(x)` without `Math.sign`: gpu.js's webasm backend calls back into JavaScript for `Math.sign` (about 8× slower
 * than comparisons) and GLSL's `sign` turns NaN into 0. This keeps NaN, and 0 and −0 as they are, like `Math.sign`.
 */
export function signOf(x: string): string {
  return `(${x} > 0.0 ? 1.0 : (${x} < 0.0 ? -1.0 : ${x}))`;
}
