import type * as tf from '@tensorflow/tfjs-core';
import type { Linalg } from '@descent/wasm-linalg';

/**
 * What a TF.js kernel sees for one parameter. It runs inside `tf.tidy` and must write its results with
 * `assign` into `param` and `slots` (float32 `tf.Variable`s); host scalars (bias corrections, schedules) are
 * computed in Float64 from `step` and `options` and passed to ops as numbers.
 */
export interface TfjsKernelContext<O> {
  readonly name: string;
  readonly options: O;
  readonly shape: readonly number[];
  readonly param: tf.Variable;
  readonly grad: tf.Tensor;
  readonly slots: Readonly<Record<string, tf.Variable>>;
  /** Per-parameter host scalars, Float64, updated in place (e.g. NAdam's μ-product). */
  readonly scalars: Record<string, number>;
  /** This parameter's step number, already incremented (1 on its first update). */
  readonly step: number;
  /**
   * `@descent/wasm-linalg`'s float32 GEMM engine on the `cpu` and `wasm` TF.js backends (unless created with
   * `linalg: "off"`): the matrix kernels (Muon, Shampoo) multiply on the host with it instead of `tf.matMul`.
   */
  readonly linalg?: Linalg;
}

/** Point-evaluation context (NAG): no gradient yet, and the step has not been counted. */
export type TfjsPointContext<O> = Omit<TfjsKernelContext<O>, 'grad' | 'step'>;

/** A pass of a two-phase step (core's `GroupPhases`, Prodigy): the group's shared scalars and the step's constants too. */
export interface TfjsPhaseContext<O> extends TfjsKernelContext<O> {
  readonly group: Readonly<Record<string, number>>;
  readonly constants: Readonly<Record<string, number>>;
}

/** The TF.js implementation of one optimizer, mirroring `core/src/optimizers/<name>.ts`. */
export interface TfjsKernel<O = never> {
  /** One update of one parameter, inside `tf.tidy`. (Not called for definitions with phases.) */
  update(ctx: TfjsKernelContext<O>): void;
  /**
   * First pass of a two-phase step, inside `tf.tidy`: writes the slots and returns the parameter's contributions
   * as a 1-D float32 tensor in the order of the definition's `phases.sums` (read back to the host by the backend).
   */
  accumulate?(ctx: TfjsPhaseContext<O>): tf.Tensor;
  /** Second pass of a two-phase step, inside `tf.tidy`: writes the parameter. */
  apply?(ctx: TfjsPhaseContext<O>): void;
  /** Where `step(closure)` evaluates the gradient, for optimizers whose definition has `evaluationPoint`. */
  evaluationPoint?(ctx: TfjsPointContext<O>): tf.Tensor;
}
