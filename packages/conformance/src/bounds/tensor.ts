import { Arith, U32, type Tracked } from './arith.js';

/**
 * Bounds of whole tensors: what a bound function receives (the inputs of a step, with the budgets they already
 * carry) and returns (the outputs of the step: parameter and every state slot).
 *
 * @packageDocumentation
 */

/** Element-wise {@link Tracked} values of one tensor, plus a normwise allowance. */
export interface TensorBound {
  /** Float64 values, computed like the reference. */
  readonly v: Float64Array;
  /** Rounding budgets in units of u (scaled by k when checked). */
  readonly e: Float64Array;
  /** Absolute allowances of ambiguous decisions. */
  readonly a: Float64Array;
  /** 1 where float32 may give NaN or ±∞ although Float64 does not. */
  readonly n: Uint8Array;
  /**
   * Normwise allowance for matrix updates: the deviation left over after the element-wise bound,
   * max(0, |x − ref| − (k·u·e + a)), may have a Frobenius norm up to `extra`. 0 for element-wise updates.
   */
  readonly extra: number;
  /** Where `extra` comes from, for failure reports. */
  readonly note?: string;
}

/** One parameter's step, as a bound function sees it. */
export interface BoundContext<O> {
  readonly ar: Arith;
  /** The resolved options of the parameter's group. */
  readonly options: O;
  readonly shape: readonly number[];
  /** The parameter's step number, already incremented (1 on its first update). */
  readonly step: number;
  readonly param: TensorBound;
  /**
   * The gradient the update sees: exact float32 values, or, after gradient transforms (clipping, …), the
   * transformed values with their budgets.
   */
  readonly grad: TensorBound;
  /** State before the step. */
  readonly slots: Readonly<Record<string, TensorBound>>;
  /** Host scalars before the step (Float64 on every backend, hence exact). */
  readonly scalars: Readonly<Record<string, number>>;
  /** Multiplier of the normwise allowances of matrix updates (1 for IEEE float32 paths). */
  readonly matrixFactor: number;
}

/** Bounds of everything a step writes. */
export interface BoundResult {
  readonly param: TensorBound;
  readonly slots: Readonly<Record<string, TensorBound>>;
  /** Host scalars after the step. */
  readonly scalars: Readonly<Record<string, number>>;
}

/**
 * The error model of one optimizer: a re-evaluation of its reference update on tracked values. Each mirrors
 * `core/src/optimizers/<name>.ts` line for line, with the same order of operations.
 */
export type BoundFunction<O = never> = (ctx: BoundContext<O>) => BoundResult;

/**
 * The error model of an optimizer's evaluation point (core's `evaluationPoint`: where `step(closure)` evaluates the
 * gradient, NAG's look-ahead point), from the same inputs as its update but without a gradient.
 */
export type PointBoundFunction<O = never> = (ctx: Omit<BoundContext<O>, 'grad' | 'step'>) => TensorBound;

/** Collects tracked elements into a {@link TensorBound}. */
export class BoundBuilder {
  private readonly v: Float64Array;
  private readonly e: Float64Array;
  private readonly a: Float64Array;
  private readonly n: Uint8Array;
  constructor(size: number) {
    this.v = new Float64Array(size);
    this.e = new Float64Array(size);
    this.a = new Float64Array(size);
    this.n = new Uint8Array(size);
  }
  set(i: number, x: Tracked): void {
    this.v[i] = x.v;
    this.e[i] = x.e;
    this.a[i] = x.a;
    this.n[i] = x.n ? 1 : 0;
  }
  build(extra = 0, note?: string): TensorBound {
    return note === undefined ? { v: this.v, e: this.e, a: this.a, n: this.n, extra } : { v: this.v, e: this.e, a: this.a, n: this.n, extra, note };
  }
}

/** Element i of a tensor bound. */
export function at(t: TensorBound, i: number): Tracked {
  return { v: t.v[i] as number, e: t.e[i] as number, a: t.a[i] as number, n: t.n[i] === 1 };
}

/**
 * Bounds of values handed to a backend: exact where they are float32 numbers, rounded once where they are not
 * (state imported from a Float64 source).
 */
export function inputBound(values: ArrayLike<number>): TensorBound {
  const size = values.length;
  const b = new BoundBuilder(size);
  const ar = new Arith(1);
  for (let i = 0; i < size; i++) b.set(i, ar.input(values[i] as number));
  return b.build();
}

/** Bounds of a tensor whose Float64 values are `values` and which float32 stores with one rounding each. */
export function roundedOnce(values: ArrayLike<number>, extra = 0, note?: string): TensorBound {
  const size = values.length;
  const b = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const v = values[i] as number;
    b.set(i, { v, e: Number.isFinite(v) ? Math.abs(v) : 0, a: 0, n: false });
  }
  return b.build(extra, note);
}

/** Frobenius norm of Float64 values. */
export function frobenius(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += (values[i] as number) ** 2;
  return Math.sqrt(s);
}

/** Frobenius norm of the element-wise absolute bounds k·u·e + a of a tensor. */
export function boundNorm(t: TensorBound, k: number): number {
  let s = 0;
  for (let i = 0; i < t.v.length; i++) s += (k * U32 * (t.e[i] as number) + (t.a[i] as number)) ** 2;
  return Math.sqrt(s);
}
