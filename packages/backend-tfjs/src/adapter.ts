import * as tf from '@tensorflow/tfjs-core';
import {
  OptionError,
  ParamError,
  StateError,
  decodeNumber,
  encodeArray,
  getDefinition,
  normalizeSpec,
  setEntry,
  show,
  type GroupConfig,
  type MatrixView,
  type OptimizerSpec,
  type PortableState,
} from '@descent/core';
import type { FusedMode, TfjsPath } from './fused/index.js';
import { layersMatrixView, withMatrixViews, type MatrixViewRule } from './layouts.js';
import { TfjsOptimizer } from './optimizer.js';

/**
 * A drop-in `tf.Optimizer` for TF.js users: any descent spec (with param groups) where TF.js expects one of
 * `tf.train`'s optimizers — `model.compile({ optimizer: descentOptimizer(adamw()) })`, `optimizer.minimize(f)`,
 * `model.fit`, saving with `includeOptimizer`.
 *
 * <!-- not runnable: a sketch with a model and data of your own, and a saved model to load -->
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { adamw, muonRouting, muonWithAuxAdam } from '@descent/core';
 * import { descentOptimizer, registerDescentOptimizer } from '@descent/backend-tfjs';
 *
 * model.compile({ optimizer: descentOptimizer(adamw({ lr: 1e-3 })), loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 5 });
 *
 * // Muon for hidden matrices, Adam for the rest: groups are computed from the variables at the first step.
 * const muon = descentOptimizer(muonWithAuxAdam({ lr: 0.02 }), { groups: (params) => muonRouting(params) });
 *
 * // Loading a model saved with its optimizer needs the class registered first (once per program):
 * registerDescentOptimizer();
 * const restored = await tf.loadLayersModel('file://model/model.json');
 * ```
 *
 * Parameters are TF.js variables keyed by their `name` (TF.js gives each a unique one; tfjs-layers names them
 * `layer/kernel`, `layer/bias`, …); the optimizer binds to the variables it receives gradients for, at the first
 * step, and rebinds (carrying the state over) if later gradients name new ones. A missing or `null` gradient
 * skips its variable, as in every descent optimizer.
 *
 * Layouts: TF.js layers store kernels output axis last (Dense [in, out], Conv2D [kh, kw, in, out]), PyTorch
 * output axis first. For the matrix optimizers (Muon, Muon with auxiliary Adam, Shampoo) the adapter gives each
 * tfjs-layers kernel the `matrixView` that reads it as PyTorch reads the same layer, by splitting the param groups
 * (option `matrixViews`, see {@link layersMatrixView}), so a Conv2D kernel is orthogonalized as out × (in·kh·kw)
 * and a Dense kernel gets the shape scale of out × in. `optimizer.groups()` then lists the split groups.
 *
 * State as TF.js weights (`getWeights`/`setWeights`, what `model.save({ includeOptimizer })` stores): first the
 * iteration count (`iter`, int32, as `tf.train`'s optimizers), then `descent/state`, a string tensor with the
 * portable state's header (format, version, optimizer, step counts, per-parameter steps and host scalars, slot
 * shapes; numbers lossless), then one float32 tensor per parameter and slot, named `<variable>/<slot>`. That is the
 * portable state of {@link TfjsOptimizer.exportState} split into tensors, keyed by name, never by position.
 *
 * Registration with `tf.serialization` is an explicit call ({@link registerDescentOptimizer}), not an import side
 * effect: importing a library should not change a global registry (descent's design rule), and only loading needs
 * it — saving works without.
 *
 * @packageDocumentation
 */

/** A named tensor, as `tf.Optimizer`'s weights and gradient lists hold them (tfjs-core does not export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Param groups computed from the variables (name → shape) once they are known, e.g. `(p) => muonRouting(p)`. */
export type GroupsFactory<O extends object> = (params: ReadonlyMap<string, readonly number[]>) => ReadonlyArray<GroupConfig<O>>;

/** Options of {@link descentOptimizer}. */
export interface DescentOptimizerOptions<O extends object = Record<string, unknown>> {
  /** Param groups by variable name (or predicate), or a function of the variables' names and shapes. */
  readonly groups?: ReadonlyArray<GroupConfig<O>> | GroupsFactory<O>;
  /** Fused loops on the cpu and wasm TF.js backends (default `auto`); see {@link TfjsCreateOptions}. */
  readonly fused?: FusedMode;
  /**
   * Matrix views for the matrix optimizers (those with a `matrixView` option: Muon, Muon with auxiliary Adam,
   * Shampoo). `layers` (default): tfjs-layers kernels, stored output axis last, are read as PyTorch would read
   * the same layer (see {@link layersMatrixView}); `none`: every parameter in its group's view (PyTorch's
   * unless set); or a function of a variable's name and shape giving its view (undefined: the group's). The
   * views are written into the groups with {@link withMatrixViews}; groups or a spec that set `matrixView`
   * themselves are left alone.
   */
  readonly matrixViews?: 'layers' | 'none' | MatrixViewRule;
}

/** Name of the weight holding the state header in {@link DescentOptimizer.getWeights}. */
export const STATE_WEIGHT = 'descent/state';

// JSON for configs that survive tfjs-layers, which turns every string containing "_" into camelCase when it loads
// a model (`convertPythonicToTs`): "_" is written as the JSON escape \u005f. (Specs hold no non-finite numbers:
// core stores them JSON-clean, e.g. `normType: "inf"`.)
const encodeConfig = (value: unknown): string => JSON.stringify(value).replace(/_/g, '\\u005f');

/** Options given by {@link DescentOptimizer.fromConfig}: the groups as saved, kept for `getConfig` before binding. */
const RESTORED = Symbol('restored groups');

const uniquifierSuffix = /_\d+$/;

/**
 * tfjs-layers keeps variable names unique within a program by appending `_1`, `_2`, … (`dense_Dense1/kernel_1`
 * when a saved model is loaded a second time). A saved name that is not a current variable is given to the one
 * variable whose name differs from it only by such a suffix (and whose shape matches, when `shape` is given);
 * otherwise it is returned unchanged, and the import or group check reports it.
 */
function currentName(saved: string, params: ReadonlyMap<string, readonly number[]>, taken: ReadonlySet<string>, shape?: unknown): string {
  if (params.has(saved)) return saved;
  const base = saved.replace(uniquifierSuffix, '');
  const sameShape = (a: readonly number[]) => shape === undefined || (Array.isArray(shape) && a.length === shape.length && a.every((d, i) => d === shape[i]));
  const match = [...params].filter(([v, s]) => !taken.has(v) && v.replace(uniquifierSuffix, '') === base && sameShape(s)).map(([v]) => v);
  return match.length === 1 ? (match[0] as string) : saved;
}

/** State saved under names that tfjs-layers has since suffixed, renamed to the current variables (see {@link currentName}). */
function renameState(state: PortableState, shapes: ReadonlyMap<string, readonly number[]>): PortableState {
  const names = Object.keys(state.params ?? {});
  if (names.every((n) => shapes.has(n))) return state;
  const taken = new Set(names);
  const params: Record<string, PortableState['params'][string]> = {};
  for (const n of names) {
    const to = currentName(n, shapes, taken, state.params[n]?.shape);
    if (Object.hasOwn(params, to)) return state;
    taken.add(to);
    setEntry(params, to, state.params[n]!);
  }
  return { ...state, params };
}

/** Groups restored from a config: name lists renamed to the current variables (see {@link currentName}). */
function restoredGroups<O extends object>(saved: ReadonlyArray<GroupConfig<O>>): GroupsFactory<O> {
  return (params) => {
    const listed = new Set(saved.flatMap((g) => (Array.isArray(g.params) ? (g.params as string[]) : [])));
    const taken = new Set([...listed].filter((n) => params.has(n)));
    return saved.map((g) => {
      if (!Array.isArray(g.params)) return g;
      const names = (g.params as string[]).map((n) => currentName(n, params, taken));
      names.forEach((n) => taken.add(n));
      return { ...g, params: names };
    });
  };
}

/** The header of a portable state: everything but the slot values. */
interface StateHeader {
  readonly format: string;
  readonly version: number;
  readonly optimizer: string;
  readonly stepCount: number;
  readonly skippedSteps: number;
  readonly params: Record<string, { shape: number[]; step: number; scalars: Record<string, unknown>; slots: Record<string, { shape: number[] }> }>;
}

/**
 * A `tf.Optimizer` running a descent optimizer on TF.js tensors (see the module documentation). Create it with
 * {@link descentOptimizer}.
 */
export class DescentOptimizer<O extends object = Record<string, unknown>> extends tf.Optimizer {
  /** @nocollapse */
  static get className(): string {
    return 'DescentOptimizer';
  }

  readonly spec: OptimizerSpec<O>;
  private readonly groupsOption: DescentOptimizerOptions<O>['groups'];
  private readonly fused: FusedMode;
  private readonly matrixViews: 'layers' | 'none' | MatrixViewRule;
  private inner: TfjsOptimizer<O> | undefined;
  /** The groups the inner optimizer was built with (a factory's output, or the groups given). */
  private boundGroups: ReadonlyArray<GroupConfig<O>> = [];
  /** State given (setWeights/importState) before the variables were known; imported at the first step. */
  private pending: PortableState | undefined;
  /** Groups as a config held them (fromConfig), for getConfig before the first step. */
  private readonly savedGroups: ReadonlyArray<GroupConfig<O>> | undefined;
  /** Tensors returned by the last getWeights, owned here (as tf.train's own weights are) and freed later. */
  private lent: tf.Tensor[] = [];

  constructor(spec: OptimizerSpec<O>, options: DescentOptimizerOptions<O> = {}) {
    super();
    this.spec = normalizeSpec(spec) as unknown as OptimizerSpec<O>;
    const where = `${this.spec.name}: descentOptimizer`;
    if (options === null || typeof options !== 'object') throw new OptionError(`${where}: options must be an object, got ${show(options)}`);
    for (const key of Object.keys(options)) {
      if (key !== 'groups' && key !== 'fused' && key !== 'matrixViews') throw new OptionError(`${where}: unknown option ${show(key)}; options are groups, fused and matrixViews`);
    }
    const groups = options.groups;
    if (groups !== undefined && typeof groups !== 'function' && !Array.isArray(groups)) {
      throw new OptionError(`${where}: option "groups" must be a list of groups or a function of the parameters, got ${show(groups)}`);
    }
    const fused = options.fused ?? 'auto';
    if (fused !== 'auto' && fused !== 'f32' && fused !== 'off') throw new OptionError(`${where}: option "fused" must be "auto", "f32" or "off", got ${show(fused)}`);
    const views = options.matrixViews ?? 'layers';
    if (views !== 'layers' && views !== 'none' && typeof views !== 'function') {
      throw new OptionError(`${where}: option "matrixViews" must be "layers", "none" or a function of a variable's name and shape, got ${show(views)}`);
    }
    this.groupsOption = groups;
    this.fused = fused;
    this.matrixViews = views;
    this.savedGroups = (options as { [RESTORED]?: ReadonlyArray<GroupConfig<O>> })[RESTORED];
  }

  /** The descent optimizer underneath, once the first step has bound the variables. */
  get optimizer(): TfjsOptimizer<O> | undefined {
    return this.inner;
  }

  /** Which implementation the last step used (see {@link TfjsOptimizer.path}); `ops` before the first step. */
  get path(): TfjsPath {
    return this.inner?.path ?? 'ops';
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const where = `${this.spec.name}: applyGradients`;
    const given: Array<[string, tf.Tensor | null | undefined]> = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients ?? {});
    const registered = tf.engine().registeredVariables;
    const variables = new Map<string, tf.Variable>();
    const grads = new Map<string, tf.Tensor>();
    for (const [name, g] of given) {
      const v = registered[name];
      if (!v) throw new ParamError(`${where}: gradient for ${show(name)}, which is not the name of a TF.js variable`);
      variables.set(name, v);
      if (g != null) grads.set(name, g);
    }
    this.bind(variables);
    this.inner!.step(grads);
    this.incrementIterations();
  }

  /** Creates the inner optimizer for these variables (plus those already bound), carrying state over. */
  private bind(variables: ReadonlyMap<string, tf.Variable>): void {
    const inner = this.inner;
    const known = inner?.params;
    if (known && [...variables.keys()].every((n) => known.has(n))) return;
    const params = new Map<string, tf.Variable>();
    for (const [n, v] of known ?? []) if (!v.isDisposed) params.set(n, v);
    for (const [n, v] of variables) params.set(n, v);
    const shapes = new Map([...params].map(([n, v]) => [n, [...v.shape] as readonly number[]]));
    const given = typeof this.groupsOption === 'function' ? this.groupsOption(shapes) : (this.groupsOption ?? []);
    const rule = this.matrixViews === 'layers' ? layersMatrixView : this.matrixViews === 'none' ? undefined : this.matrixViews;
    // Only optimizers with a matrixView option read views (Muon, Muon with auxiliary Adam, Shampoo).
    const groups =
      rule && 'matrixView' in getDefinition(this.spec.name).schema
        ? withMatrixViews(given, shapes, rule, (this.spec.options as { matrixView?: MatrixView }).matrixView)
        : given;
    const next = new TfjsOptimizer<O>(this.spec, params, { groups, fused: this.fused });
    try {
      let carried: PortableState | undefined = this.pending && renameState(this.pending, shapes);
      if (inner) {
        const old = inner.exportState();
        const fresh = next.exportState();
        const kept = Object.fromEntries(Object.entries(old.params).filter(([n]) => params.has(n)));
        carried = { ...fresh, stepCount: old.stepCount, skippedSteps: old.skippedSteps, params: { ...fresh.params, ...kept } };
      }
      if (carried) next.importState(carried);
    } catch (e) {
      next.dispose();
      throw e;
    }
    inner?.dispose();
    this.inner = next;
    this.boundGroups = groups;
    this.pending = undefined;
  }

  /** The state of every bound parameter, portable to any descent backend (see `Optimizer.exportState`). */
  exportState(): PortableState {
    if (this.inner) return this.inner.exportState();
    if (this.pending) return this.pending;
    return { format: 'descent.state', version: 1, optimizer: this.spec.name, stepCount: 0, skippedSteps: 0, params: {} };
  }

  /**
   * Replaces the state. Validated now if the variables are bound, else at the first step (when the parameters
   * become known); the optimizer name is checked now in both cases.
   */
  importState(state: PortableState): void {
    if (state === null || typeof state !== 'object') throw new StateError(`${this.spec.name}: importState: state must be an object, got ${show(state)}`);
    if (state.optimizer !== this.spec.name) throw new StateError(`${this.spec.name}: importState: state is from optimizer ${show(state.optimizer)}, not "${this.spec.name}"`);
    if (this.inner) this.inner.importState(state);
    else this.pending = state;
  }

  /**
   * The state as TF.js weights: the iteration count, a header with the portable state's metadata, then every
   * slot (what `model.save({ includeOptimizer: true })` stores).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    tf.dispose(this.lent);
    const state = this.exportState();
    const header: StateHeader = {
      format: state.format,
      version: state.version,
      optimizer: state.optimizer,
      stepCount: state.stepCount,
      skippedSteps: state.skippedSteps,
      params: Object.fromEntries(
        Object.entries(state.params).map(([n, p]) => [
          n,
          { shape: p.shape, step: p.step, scalars: p.scalars, slots: Object.fromEntries(Object.entries(p.slots).map(([s, v]) => [s, { shape: v.shape }])) },
        ]),
      ),
    };
    const out: NamedTensor[] = [await this.saveIterations(), { name: STATE_WEIGHT, tensor: tf.scalar(JSON.stringify(header), 'string') }];
    for (const [n, p] of Object.entries(state.params)) {
      for (const [s, slot] of Object.entries(p.slots)) {
        const data = Float32Array.from(slot.data, (x) => decodeNumber(x) as number);
        out.push({ name: `${n}/${s}`, tensor: tf.tensor(data, slot.shape, 'float32') });
      }
    }
    this.lent = out.map((w) => w.tensor);
    return out;
  }

  /**
   * Restores state written by {@link DescentOptimizer.getWeights}, validated as {@link
   * DescentOptimizer.importState} does.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const where = `${this.spec.name}: setWeights`;
    if (!Array.isArray(weightValues) || weightValues.length < 2) throw new StateError(`${where}: expected the iteration count, "${STATE_WEIGHT}" and the slots, got ${show(weightValues)}`);
    const rest = weightValues.slice(1);
    const headerWeight = rest.find((w) => w.name === STATE_WEIGHT);
    if (!headerWeight) throw new StateError(`${where}: no "${STATE_WEIGHT}" weight: these weights were not saved by a DescentOptimizer`);
    let header: StateHeader;
    try {
      header = JSON.parse(String((await headerWeight.tensor.data())[0])) as StateHeader;
    } catch {
      throw new StateError(`${where}: "${STATE_WEIGHT}" does not hold a JSON state header`);
    }
    if (header === null || typeof header !== 'object' || header.params === null || typeof header.params !== 'object') {
      throw new StateError(`${where}: "${STATE_WEIGHT}" does not hold a state header, got ${show(header)}`);
    }
    const byName = new Map(rest.map((w) => [w.name, w.tensor]));
    const params: Record<string, PortableState['params'][string]> = {};
    for (const [n, p] of Object.entries(header.params)) {
      const slots: Record<string, { shape: number[]; data: ReturnType<typeof encodeArray> }> = {};
      for (const [s, slot] of Object.entries(p?.slots ?? {})) {
        const t = byName.get(`${n}/${s}`);
        if (!t) throw new StateError(`${where}: weight "${n}/${s}" is missing`);
        slots[s] = { shape: slot.shape, data: encodeArray(await t.data()) };
      }
      setEntry(params, n, { ...p, slots } as PortableState['params'][string]);
    }
    this.importState({ ...(header as unknown as PortableState), params });
    await this.extractIterations(weightValues);
  }

  getConfig(): tf.serialization.ConfigDict {
    let groups: unknown[] = [];
    const given = this.inner ? this.boundGroups : (this.savedGroups ?? this.groupsOption);
    if (typeof given === 'function' || given?.some((g) => typeof g.params === 'function')) {
      if (!this.inner) {
        throw new OptionError(
          `${this.spec.name}: getConfig: param groups given as a function or with predicates are resolved at the first step; save after a step, or give groups as name lists`,
        );
      }
    }
    if (this.inner) {
      // Resolved memberships (name lists) with the overrides as given: JSON, and independent of any schedule.
      const resolved = this.inner.groups();
      groups = this.boundGroups.map((g, i) => ({ params: [...resolved[i]!.params], ...(g.options ? { options: g.options } : {}) }));
    } else if (Array.isArray(given)) {
      groups = given.map((g) => ({ params: [...(g.params as readonly string[])], ...(g.options ? { options: g.options } : {}) }));
    }
    // A function's views are in the saved groups already; loading with "none" adds no others.
    const matrixViews = this.matrixViews === 'layers' ? undefined : 'none';
    return { descent: encodeConfig({ spec: this.spec, groups, fused: this.fused, ...(matrixViews ? { matrixViews } : {}) }) };
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const text = config.descent;
    if (typeof text !== 'string') throw new OptionError(`DescentOptimizer.fromConfig: expected a "descent" entry holding JSON, got ${show(config)}`);
    let parsed: { spec?: OptimizerSpec; groups?: GroupConfig[]; fused?: FusedMode; matrixViews?: 'layers' | 'none' };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new OptionError(`DescentOptimizer.fromConfig: the "descent" entry is not JSON: ${show(text)}`);
    }
    const groups = parsed.groups ?? [];
    if (!Array.isArray(groups)) throw new OptionError(`DescentOptimizer.fromConfig: groups must be a list, got ${show(groups)}`);
    const rest = { ...(parsed.fused ? { fused: parsed.fused } : {}), ...(parsed.matrixViews ? { matrixViews: parsed.matrixViews } : {}) };
    return new cls(parsed.spec, { groups: restoredGroups(groups), ...rest, [RESTORED]: groups });
  }

  override dispose(): void {
    tf.dispose(this.lent);
    this.lent = [];
    this.inner?.dispose();
    this.inner = undefined;
    super.dispose();
  }
}

/**
 * A `tf.Optimizer` running `spec` (see {@link DescentOptimizer}).
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { lion } from '@descent/core';
 * import { descentOptimizer } from '@descent/backend-tfjs';
 * const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })] });
 * model.compile({ optimizer: descentOptimizer(lion({ lr: 3e-4, weightDecay: 0.1 })), loss: 'categoricalCrossentropy' });
 * ```
 */
export function descentOptimizer<O extends object>(spec: OptimizerSpec<O>, options?: DescentOptimizerOptions<O>): DescentOptimizer<O> {
  return new DescentOptimizer(spec, options);
}

/**
 * Registers {@link DescentOptimizer} with `tf.serialization`, so that `tf.loadLayersModel` can rebuild the
 * optimizer of a model saved with `includeOptimizer: true`. Call it once before loading; calling it again is
 * harmless. Not done on import: a library import should not change global registries.
 */
export function registerDescentOptimizer(): void {
  tf.serialization.registerClass(DescentOptimizer);
}
