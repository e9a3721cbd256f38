import { createReference, show, type GroupConfig, type OptimizerSpec, type PortableState, type Tensor } from '@descent/core';
import { InputError } from './errors.js';

/**
 * The backends `descent replay` can run on. Each entry loads lazily, so a backend's heavy dependencies
 * (TensorFlow.js, gpu.js) are only imported when it is asked for. To add one, write a {@link ReplayBackend}
 * and add a line to {@link backends}.
 *
 * @packageDocumentation
 */

/** A parameter as decoded from a replay file: Float64 values, row-major. */
export interface ReplayParam {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** An optimizer bound to the replay's parameters on one backend. */
export interface ReplaySession {
  /** One step; `grads[i]` is the gradient of the i-th parameter, `null` to skip it this step. */
  step(grads: ReadonlyArray<Float64Array | null>): void;
  /**
   * One step through `step(closure)`: `gradient` receives the point the optimizer evaluates at (the parameters,
   * or NAG's look-ahead point), one Float64 copy per parameter in input order, and returns the gradients there.
   */
  stepAt(gradient: (point: readonly Float64Array[]) => ReadonlyArray<Float64Array | null>): void;
  /** The current parameters, in input order, as Float64 (a backend working in float32 widens exactly). */
  read(): Float64Array[];
  /** The optimizer's portable state (the `ema` wrapper's average is its `emaParam` slot). */
  exportState(): PortableState;
  dispose(): void;
}

export interface ReplayBackend {
  readonly name: string;
  /** One line for `descent replay --help`. */
  readonly description: string;
  /**
   * Binds `spec` to copies of `params` (the inputs are never changed). Raises the library's errors for groups and
   * shapes before any step is taken.
   */
  open(spec: OptimizerSpec, params: readonly ReplayParam[], groups: ReadonlyArray<GroupConfig> | undefined): ReplaySession;
}

/**
 * Gradients in input order (null = skip) keyed by parameter name, each made into a backend tensor by `make`: the
 * argument of `step(grads)` and what a `step(closure)` closure returns.
 */
export function byParamName<T>(names: readonly string[], grads: ReadonlyArray<Float64Array | null>, make: (g: Float64Array, i: number) => T): Record<string, T> {
  const out: Record<string, T> = {};
  grads.forEach((g, i) => {
    // defineProperty: a parameter may be called "__proto__", which plain assignment would not store.
    if (g !== null) Object.defineProperty(out, names[i] as string, { value: make(g, i), enumerable: true, writable: true, configurable: true });
  });
  return out;
}

/** The Float64 reference backend of `@descent/core`. */
export const referenceBackend: ReplayBackend = {
  name: 'reference',
  description: 'the Float64 reference implementation of @descent/core',
  open(spec, params, groups) {
    const tensors: Array<[string, Tensor]> = params.map((p) => [p.name, { shape: [...p.shape], data: Float64Array.from(p.data) }]);
    const opt = createReference(spec, tensors, groups === undefined ? {} : { groups });
    const names = params.map((p) => p.name);
    const tensorOf = (g: Float64Array, i: number): Tensor => ({ shape: params[i]!.shape, data: g });
    return {
      step(grads) {
        opt.step(byParamName(names, grads, tensorOf));
      },
      stepAt(gradient) {
        opt.step((point) => byParamName(names, gradient(names.map((n) => Float64Array.from((point.get(n) as Tensor).data))), tensorOf));
      },
      read: () => tensors.map(([, t]) => Float64Array.from(t.data)),
      exportState: () => opt.exportState(),
      dispose: () => opt.dispose(),
    };
  },
};

/** Backend-specific settings from the command line. */
export interface BackendSettings {
  /** TF.js backend for `tfjs`: `cpu` (default) or `wasm`. */
  readonly tfjsBackend?: string;
  /** gpu.js mode for `gpujs`: `auto` (default), `webasm`, `cpu`, `headlessgl`. */
  readonly gpujsMode?: string;
}

export type BackendLoader = (settings: BackendSettings) => Promise<ReplayBackend>;

/** Known backends by name, each loaded on demand. */
export const backends: ReadonlyMap<string, BackendLoader> = new Map<string, BackendLoader>([
  ['reference', () => Promise.resolve(referenceBackend)],
  ['tfjs', (settings) => import('./backends-device.js').then((m) => m.tfjsBackend(settings.tfjsBackend ?? 'cpu'))],
  ['gpujs', (settings) => import('./backends-device.js').then((m) => m.gpujsBackend(settings.gpujsMode ?? 'auto'))],
]);

/** The loader of a backend, or an error naming the known ones. */
export function findBackend(name: unknown): BackendLoader {
  const load = typeof name === 'string' ? backends.get(name) : undefined;
  if (!load) throw new InputError(`unknown backend ${show(name)}; known backends: ${[...backends.keys()].join(', ')}`);
  return load;
}
