import { compileJs } from './js.js';
import { simd as s, type SimdProgram, type SimdStmt } from './simd.js';

/**
 * The shape of a fused kernel, and the helper that builds one from a single description of its update.
 *
 * Each kernel (one file per optimizer in this directory, named as in `core/src/optimizers/`) is the Float64
 * reference loop of its optimizer, statement for statement, run on `Float32Array`s: JavaScript arithmetic is
 * float64, every store into a `Float32Array` rounds to float32 (what `Math.fround` does), and a later read of the
 * same element sees the rounded value. So a fused step is exactly "the reference on float32 storage"; the tests
 * check bit-for-bit equality with the reference `update` run on `Float32Array`s. Host scalars (bias corrections,
 * schedules) are computed in Float64 once per parameter and step, by the same expressions as the reference.
 *
 * Most kernels are written once, as a {@link SimdProgram} ({@link programKernel}); their JavaScript loop is
 * generated from it (`js.ts`) and their WebAssembly SIMD loop encoded from it (`simd.ts`), so both paths run the
 * same statements and produce the same bits. The rest (an `atan2`, data-dependent branches) keep a hand-written
 * JavaScript loop ({@link FusedKernel.run}) and have no SIMD form.
 *
 * The parameter is read from `theta` and written to `out` (the same array when the backend updates in place); a
 * loop that writes θ twice (decoupled decay, then the step) reads its first write back from `out`.
 *
 * @packageDocumentation
 */

/** The arrays and range of one fused loop. */
export interface FusedLoop<K = Readonly<Record<string, number>>> {
  /** Host scalars from {@link FusedKernel.coefficients}. */
  readonly k: K;
  /** The parameter before the step (read). */
  readonly theta: Float32Array;
  /** Where the parameter after the step goes; may be `theta` itself. */
  readonly out: Float32Array;
  readonly grad: Float32Array;
  /** State slots, updated in place. */
  readonly slots: Readonly<Record<string, Float32Array>>;
  /** Elements [start, end) are updated. */
  readonly start: number;
  readonly end: number;
}

/** The fused implementation of one optimizer. */
export interface FusedKernel<O, K extends Readonly<Record<string, number>> = Readonly<Record<string, number>>> {
  /** Whether this parameter can take the fused loop (Muon with auxiliary Adam: only its Adam half). Default yes. */
  accepts?(options: O, shape: readonly number[]): boolean;
  /**
   * Host scalars of one step for one parameter, in Float64. Called once per parameter and step, before the loops;
   * it may advance per-parameter scalars (NAdam's μ-product) exactly as the reference does.
   */
  coefficients(options: O, step: number, scalars: Record<string, number>): K;
  /** The elementwise loop over [start, end) (generated from {@link FusedKernel.simd} when the kernel has one). */
  run(options: O, loop: FusedLoop<K>): void;
  /**
   * The update as a program (arrays `theta`, `out`, `grad` and the slots; scalars from `coefficients`), with a key
   * naming its shape under these options; the source of both the JavaScript loop and the wasm SIMD loop.
   */
  simd?: {
    /** Names the program's shape under these options (programs are cached by key). */
    key(options: O, k: K): string;
    /** The SIMD program. */
    program(options: O, k: K): SimdProgram;
  };
}

/** Declares a kernel with a hand-written loop, inferring its coefficient record from `coefficients`. */
export const fused =
  <O>() =>
  <K extends Readonly<Record<string, number>>>(kernel: FusedKernel<O, K>): FusedKernel<O, K> =>
    kernel;

/**
 * Declares a kernel from one description: `coefficients` and the program (`key` names its shape). `run` is the
 * program compiled to a JavaScript loop; `simd` is the program for the wasm backend.
 */
export const programKernel =
  <O>() =>
  <K extends Readonly<Record<string, number>>>(spec: {
    accepts?: (options: O, shape: readonly number[]) => boolean;
    coefficients: (options: O, step: number, scalars: Record<string, number>) => K;
    key: (options: O, k: K) => string;
    program: (options: O, k: K) => SimdProgram;
  }): FusedKernel<O, K> => {
    const { key, program } = spec;
    const kernel: FusedKernel<O, K> = {
      coefficients: spec.coefficients,
      run(o, { k, theta, out, grad, slots, start, end }) {
        const loop = compileJs(key(o, k), () => program(o, k));
        loop({ ...slots, theta, out, grad }, start, end, k);
      },
      simd: { key, program },
    };
    if (spec.accepts) kernel.accepts = spec.accepts;
    return kernel;
  };

/** '1' or '0', for program keys. */
export const flag = (b: boolean): string => (b ? '1' : '0');

/** g ← ±grad (the first statement of every program: the gradient is read before anything is written). */
export const loadGrad = (maximize: boolean): SimdStmt => s.let('g', maximize ? s.neg(s.load('grad')) : s.load('grad'));

/** g ← g + λθ (coupled, L2 weight decay), when λ ≠ 0. */
export const coupledDecay = (lambda: number, from: 'theta' | 'out' = 'theta'): SimdStmt[] =>
  lambda !== 0 ? [s.let('g', s.add(s.ref('g'), s.mul(s.scalar('lambda'), s.load(from))))] : [];
