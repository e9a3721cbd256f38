import type { CreateOptions, OptimizerSpec, PortableState, StepOutcome } from '@descent/core';

/**
 * The adapter a backend implements to be checked by the conformance kit: a handful of functions around its
 * optimizer, in plain typed arrays, so the kit never needs to know the backend's tensor type.
 *
 * @packageDocumentation
 */

/** A value, or a promise of it: adapters may be synchronous or asynchronous. */
export type MaybePromise<T> = T | Promise<T>;

/** A parameter: its name, shape and float32 values (row-major). The backend copies them; the kit keeps them. */
export interface ParamInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A gradient: shape and float32 values (row-major). */
export interface GradInput {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Gradients keyed by parameter name. `null`, or a name left out, means "no gradient for this parameter" (the
 * parameter and its state must stay bitwise unchanged). A name that is not a parameter must be passed on to the
 * optimizer, which must refuse it.
 */
export type GradInputs = ReadonlyMap<string, GradInput | null>;

/** The point a gradient closure receives (the parameters, or NAG's look-ahead point), as numbers by parameter name. */
export type PointValues = ReadonlyMap<string, ArrayLike<number>>;

/** One optimizer instance of the backend, as the kit drives it. */
export interface BackendOptimizer {
  /** One step; returns the optimizer's {@link StepOutcome} (`'applied'` or `'skipped'`) when it has one. */
  step(grads: GradInputs): MaybePromise<StepOutcome | void>;
  /**
   * `step(closure)` (`stepAsync` where only that exists): the adapter passes the optimizer a closure that converts
   * the point it receives to numbers (awaiting them first, through `stepAsync`, where reads are asynchronous),
   * calls `closure` once, and returns its gradients as the backend's tensors. Optional, but without it the kit's
   * closure checks fail (declare them as known gaps if the backend has no closures). The kit calls other methods
   * of this object from inside `closure` to check that re-entrant calls are refused.
   */
  stepClosure?(closure: (point: PointValues) => GradInputs): MaybePromise<StepOutcome | void>;
  /**
   * One step in which the gradient of each parameter named as a key of `sources` is the backend's own tensor of
   * the parameter named by the value — the same tensor object or memory, not a copy (TF.js: the `tf.Variable`;
   * arrays: the parameter's array). Optional, like {@link stepClosure}: the kit checks with it that a gradient
   * aliasing a parameter acts as an equal copy.
   */
  stepAliased?(sources: ReadonlyMap<string, string>): MaybePromise<StepOutcome | void>;
  /** The current parameter values by name, as numbers (a Float32Array is fine). */
  readParams(): MaybePromise<ReadonlyMap<string, ArrayLike<number>>>;
  /** The optimizer's portable state (`Optimizer.exportState`). */
  exportState(): MaybePromise<PortableState>;
  /** `Optimizer.importState`. Must validate everything before changing anything, as core's shared base does. */
  importState(state: unknown): MaybePromise<void>;
  /** Frees the optimizer and the parameter tensors the adapter made. */
  dispose(): MaybePromise<void>;
}

/** Accuracy expected of a backend; every field has a default (see {@link defaultTolerance}). */
export interface Tolerance {
  /**
   * k of the element-wise rule |x − ref| ≤ k·u·S, u = 2⁻²⁴. Default 8, for IEEE float32 paths (tfjs cpu and wasm,
   * a C/Rust/WASM CPU kernel): it absorbs another order of the same operations, fused multiply-adds and
   * library functions a few ulp off. GL paths (rsq/rcp approximations) need more, e.g. 64.
   */
  readonly k: number;
  /** Multiplier of the normwise allowances of matrix updates (Muon, Shampoo). Default 1. */
  readonly matrixFactor: number;
  /** Relative tolerance of per-parameter host scalars, which are Float64 on every backend. Default 1e-12. */
  readonly scalarRelative: number;
  /**
   * Whether a backend resumed from its own exported state must continue bit for bit like the instance that
   * exported it. Default true (state is lossless; set false for a backend whose steps are not deterministic).
   */
  readonly exactResume: boolean;
}

/**
 * The tolerance used where a backend sets none: k = 8 (IEEE float32 paths), exact resume after a state transfer.
 */
export const defaultTolerance: Tolerance = Object.freeze({ k: 8, matrixFactor: 1, scalarRelative: 1e-12, exactResume: true });

/** What the kit needs from a backend. */
export interface ConformanceBackend {
  /** A name for reports, e.g. `tfjs-wasm`. */
  readonly name: string;
  /**
   * Creates an optimizer for `spec` on the given parameters, in the order given. Pass the parameters on as a
   * list of `[name, tensor]` pairs (not an object), so that duplicate names reach the optimizer's validation, and
   * pass `options` (param groups) unchanged. If creation throws, free whatever the adapter made.
   */
  create(spec: OptimizerSpec, params: readonly ParamInput[], options: CreateOptions): MaybePromise<BackendOptimizer>;
  /**
   * Names of the optimizers the backend implements. Every optimizer of core's registry missing here is reported
   * as a gap (and creating it must fail with an error that names it). Default: all of them.
   */
  supportedOptimizers?(): Iterable<string>;
  /**
   * Names of the gradient transforms (core's `transformDefinitions`: clipGradNorm, …) the backend implements; the
   * kit puts them in front of the optimizers in a quarter of its cases. Every other transform is reported as a gap.
   * Default: all of them.
   */
  supportedTransforms?(): Iterable<string>;
  /**
   * Known gaps, by optimizer name (`"shampoo"`) or by optimizer and property (`"muon/drift"`), with the reason.
   * They are reported as skipped with that reason, never silently dropped.
   */
  readonly knownGaps?: Readonly<Record<string, string>>;
  readonly tolerance?: Partial<Tolerance>;
  /** Runs before the checks of this backend (e.g. `await tf.setBackend('wasm')`). */
  setup?(): MaybePromise<void>;
  /** Runs after them. */
  teardown?(): MaybePromise<void>;
}
