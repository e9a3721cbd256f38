import { emaDecay, normalizeSpec } from './compose.js';
import {
  resolveGroupOptions,
  type CommonOptions,
  type OptimizerDefinition,
  type OptimizerSpec,
  type SlotSpec,
} from './definition.js';
import { DescentError, OptionError, ParamError, UnsupportedError, show } from './errors.js';
import { setEntry } from './records.js';
import { getDefinition } from './registry.js';
import { scheduledLr } from './schedules/index.js';
import {
  STATE_FORMAT,
  STATE_VERSION,
  decodeState,
  encodeArray,
  encodeNumber,
  type DecodedParamState,
  type ExpectedParamState,
  type PortableParamState,
  type PortableState,
} from './state.js';
import { entriesOf, isShape, sameShape, showShape, sizeOf, type NamedTensors } from './tensor.js';

/**
 * The backend-agnostic optimizer interface and the bookkeeping every backend shares (parameter and group
 * resolution, gradient validation, non-finite policy, state import and export), so that all backends accept
 * the same inputs and reject bad ones with the same messages.
 *
 * @packageDocumentation
 */

/** Selects the parameters of a group: a list of names, or a predicate on name and shape. */
export type GroupSelector = readonly string[] | ((name: string, shape: readonly number[]) => boolean);

/** A param group: the parameters it selects and the options it overrides. */
export interface GroupConfig<O extends object = Record<string, unknown>> {
  readonly params: GroupSelector;
  readonly options?: Partial<O>;
}

/** Options of an optimizer instance beyond its spec. */
export interface CreateOptions<O extends object = Record<string, unknown>> {
  /**
   * Param groups, tried in order. A parameter selected by no group belongs to the default group, which uses the
   * spec's options unchanged; a parameter selected by two groups is an error.
   */
  readonly groups?: ReadonlyArray<GroupConfig<O>>;
}

/** A resolved group: its index (the default group comes last), options and parameter names. */
export interface ResolvedGroup<O extends object = Record<string, unknown>> {
  readonly index: number;
  /** True for the implicit group of parameters no user group selected. */
  readonly isDefault: boolean;
  readonly options: Readonly<O & CommonOptions>;
  readonly params: readonly string[];
}

/** Gradients keyed by parameter name. A missing, `null` or `undefined` gradient skips that parameter. */
export type Gradients<T> = Readonly<Record<string, T | null | undefined>> | ReadonlyMap<string, T | null | undefined>;

/**
 * A function that returns gradients at a given point, like the closure of PyTorch's `step(closure)`. The point
 * holds one tensor per parameter: the current parameters for most optimizers, the look-ahead point for NAG.
 * It must not modify the point.
 */
export type GradientClosure<T> = (point: ReadonlyMap<string, T>) => Gradients<T>;

/** A {@link GradientClosure} for {@link Optimizer.stepAsync}: it may return its gradients through a Promise. */
export type AsyncGradientClosure<T> = (point: ReadonlyMap<string, T>) => Gradients<T> | Promise<Gradients<T>>;

/** What a call of `step` did. */
export type StepOutcome = 'applied' | 'skipped';

/**
 * A computation of a backend that may pause on requests (a readback of device memory): a generator that yields
 * each request and receives its answer. {@link OptimizerBase} runs it to the end synchronously in `step` and
 * `exportState`, answering through `answer`, or asynchronously in `stepAsync` and `exportStateAsync`, awaiting
 * `answerAsync`. Backends whose readbacks are synchronous never yield.
 */
export type Work<R = void> = Generator<unknown, R, unknown>;

/** The request {@link OptimizerBase} yields when a gradient closure returned a Promise. */
class ClosurePromise {
  constructor(readonly promise: Promise<unknown>) {}
}

/**
 * What is running on an optimizer. Every public call that changes anything or reads device memory runs
 * exclusively: while one runs (including while its gradient closure runs, which is user code), any other such call
 * is refused before it changes anything.
 */
interface Busy {
  /** The running call, as users write it (`step`, `stepAsync`, `exportStateAsync`, …). */
  readonly call: string;
  readonly async: boolean;
  /** Whether the gradient closure (or the Promise it returned) is running. */
  closure: boolean;
}

function isThenable(x: unknown): x is Promise<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { then?: unknown }).then === 'function';
}

/** An optimizer bound to named parameters on one backend. */
export interface Optimizer<T, O extends object = Record<string, unknown>> {
  /** The backend's name (`reference`, `tfjs`, `gpujs`, …). */
  readonly backend: string;
  readonly spec: OptimizerSpec<O>;
  /** Parameter names in the order given. */
  readonly paramNames: readonly string[];
  /** Number of applied steps (skipped ones not counted). */
  readonly stepCount: number;
  /** Number of steps skipped under `nonFinite: "skip"`. */
  readonly skippedSteps: number;
  /**
   * One update. Given gradients keyed by name, or a closure that computes them at the point the optimizer asks
   * for. Everything is validated before anything changes.
   *
   * A gradient may be a parameter's own tensor or memory (a closure may return the point it was given, which is θ
   * for most optimizers): it is read as it was when the step began, like an equal copy, whatever order the
   * parameters are written in.
   *
   * While a step runs, its closure may only compute gradients: calls on this optimizer that change anything or
   * read device memory (`step`, `stepAsync`, `importState`, `exportState`, `exportStateAsync`, `setGroupOptions`,
   * `dispose`, and a backend's own readbacks) raise a `DescentError` naming the call and change nothing; the outer
   * step then goes on as without them (or fails, changing nothing, if the closure lets the error through). The
   * read-only members (`stepCount`, `skippedSteps`, `paramNames`, `spec`, `backend`, `groups()`, `optionsOf()`)
   * stay available.
   */
  step(grads: Gradients<T> | GradientClosure<T>): StepOutcome;
  /**
   * {@link step} for backends that read device memory back asynchronously (gpu.js on WebGPU), where the
   * synchronous `step` is refused; on every other backend it does what `step` does. The closure may be async.
   * Until the Promise settles, every other call on the optimizer raises an error.
   */
  stepAsync(grads: Gradients<T> | AsyncGradientClosure<T>): Promise<StepOutcome>;
  /** The resolved groups, default group last. */
  groups(): ReadonlyArray<ResolvedGroup<O>>;
  /** The options that apply to one parameter now. */
  optionsOf(param: string): Readonly<O & CommonOptions>;
  /**
   * Changes options of one group (schedules use it for `lr`). Validated like the spec; a change that would alter
   * the state layout (e.g. turning `amsgrad` on) is refused.
   */
  setGroupOptions(group: number, patch: Partial<O>): void;
  /** State of every parameter, portable to any backend. */
  exportState(): PortableState;
  /** {@link exportState} for backends that read device memory back asynchronously (see {@link stepAsync}). */
  exportStateAsync(): Promise<PortableState>;
  /** Replaces all state; validated completely before anything changes. */
  importState(state: unknown): void;
  /** Frees backend resources. Later calls other than `dispose` raise an error. */
  dispose(): void;
}

/** What a phase of a two-phase step (see `GroupPhases` in definition.ts) hands a backend for one parameter. */
export interface PhaseArgs {
  /** The group's shared scalars (a copy): before the step in `accumulate`, after `finish` in `apply`. */
  readonly group: Readonly<Record<string, number>>;
  /** The step's host constants for the group (`GroupPhases.begin`). */
  readonly constants: Readonly<Record<string, number>>;
}

/**
 * A backend's two passes of a phased step ({@link OptimizerBase.phasedStepWork}): `accumulate` does the backend's
 * per-parameter bookkeeping (lazy state, step count) and the definition's first pass, and returns the parameter's
 * contributions as Float64 (device partial sums read back through the Work's requests); `apply` the second pass.
 */
export interface PhaseHooks<T> {
  /** The first pass for one parameter: updates its slots and returns its named partial sums (read back if on a device). */
  accumulate(name: string, grad: T, args: PhaseArgs): Work<Record<string, number>>;
  /** The second pass for one parameter, after the group's `finish`: moves the parameter. */
  apply(name: string, grad: T, args: PhaseArgs): Work;
}

/** What the bookkeeping knows of a parameter. */
export interface ParamRecord<O extends object> {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  group: number;
  slots: SlotSpec[];
  scalarNames: string[];
  /** Whether this parameter's optimizer evaluates the gradient elsewhere (NAG). */
  readonly options: () => Readonly<O & CommonOptions>;
}

function resolveSelector(sel: GroupSelector, names: readonly string[], shapes: Map<string, readonly number[]>, where: string): string[] {
  if (typeof sel === 'function') return names.filter((n) => sel(n, shapes.get(n) as readonly number[]));
  if (!Array.isArray(sel)) throw new ParamError(`${where}: params must be a list of parameter names or a predicate, got ${show(sel)}`);
  const seen = new Set<string>();
  for (const n of sel) {
    if (typeof n !== 'string' || !shapes.has(n)) {
      throw new ParamError(`${where}: unknown parameter ${show(n)}; parameters are ${names.map((x) => show(x)).join(', ')}`);
    }
    if (seen.has(n)) throw new ParamError(`${where}: parameter ${show(n)} is listed twice`);
    seen.add(n);
  }
  return names.filter((n) => seen.has(n));
}

/**
 * Shared implementation of {@link Optimizer}. A backend subclasses it and supplies how to read a tensor's shape,
 * test gradients for non-finite values, run one update, and move state in and out as Float64.
 */
export abstract class OptimizerBase<T, O extends object = Record<string, unknown>> implements Optimizer<T, O> {
  abstract readonly backend: string;
  readonly spec: OptimizerSpec<O>;
  readonly paramNames: readonly string[];
  protected readonly def: OptimizerDefinition<O>;
  protected readonly records: Map<string, ParamRecord<O>>;
  /** `options`: as configured; `current`: with the scheduled learning rates of the next step. */
  private groupList: Array<{ isDefault: boolean; options: Readonly<O & CommonOptions>; current: Readonly<O & CommonOptions>; params: string[] }>;
  private currentAt = -1;
  private steps = 0;
  private skipped = 0;
  private disposed = false;
  /** The call in progress, if one is (see {@link Busy}). */
  private busy: Busy | null = null;
  /** Shared Float64 scalars of each group, for definitions with `phases` (Prodigy's d, …); empty otherwise. */
  private groupScalars: Array<Record<string, number>> = [];

  protected constructor(spec: OptimizerSpec<O>, params: Array<[string, readonly number[]]>, create: CreateOptions<O> = {}) {
    // Re-validate: a spec may come from JSON or be hand-made; normalizeSpec returns a checked, frozen copy.
    this.spec = normalizeSpec(spec) as unknown as OptimizerSpec<O>;
    const def = getDefinition(this.spec.name) as unknown as OptimizerDefinition<O>;
    this.def = def;
    const where = def.name;
    if (params.length === 0) throw new ParamError(`${where}: got an empty parameter list`);
    const shapes = new Map<string, readonly number[]>();
    for (const [name, shape] of params) {
      if (typeof name !== 'string' || name.length === 0) throw new ParamError(`${where}: parameter names must be non-empty strings, got ${show(name)}`);
      if (shapes.has(name)) throw new ParamError(`${where}: duplicate parameter name ${show(name)}`);
      if (!isShape(shape)) throw new ParamError(`${where}: parameter ${show(name)} has an invalid shape ${show(shape)}`);
      shapes.set(name, shape);
    }
    this.paramNames = Object.freeze(params.map(([n]) => n));
    const groupsIn = create.groups ?? [];
    if (!Array.isArray(groupsIn)) throw new ParamError(`${where}: groups must be a list, got ${show(groupsIn)}`);
    const owner = new Map<string, number>();
    this.groupList = groupsIn.map((g, i) => {
      const at = `${where}: group ${i}`;
      if (g === null || typeof g !== 'object') throw new ParamError(`${at} must be an object with params and options, got ${show(g)}`);
      for (const key of Object.keys(g)) {
        if (key !== 'params' && key !== 'options') throw new ParamError(`${at}: unknown field ${show(key)}; a group has params and options`);
      }
      const options = resolveGroupOptions(def, this.spec, g.options, at);
      const members = resolveSelector(g.params, this.paramNames, shapes, at);
      if (members.length === 0) throw new ParamError(`${at} selects no parameters`);
      for (const n of members) {
        const prev = owner.get(n);
        if (prev !== undefined) throw new ParamError(`${where}: parameter ${show(n)} is in groups ${prev} and ${i}`);
        owner.set(n, i);
      }
      return { isDefault: false, options, current: options, params: members };
    });
    const rest = this.paramNames.filter((n) => !owner.has(n));
    if (rest.length > 0) {
      for (const n of rest) owner.set(n, this.groupList.length);
      const options = this.spec.options as Readonly<O & CommonOptions>;
      this.groupList.push({ isDefault: true, options, current: options, params: rest });
    }
    if (def.phases) this.groupScalars = this.groupList.map((g) => ({ ...def.phases!.scalars(g.options) }));
    this.records = new Map();
    for (const name of this.paramNames) {
      const shape = shapes.get(name) as readonly number[];
      const group = owner.get(name) as number;
      const options = this.groupList[group]!.options;
      const reason = def.rejectShape?.(shape, options);
      if (reason) throw new ParamError(`${where}: parameter ${show(name)} with shape ${showShape(shape)}: ${reason}`);
      const record: ParamRecord<O> = {
        name,
        shape,
        size: sizeOf(shape),
        group,
        slots: this.slotsFor(options, shape),
        scalarNames: Object.keys(def.scalars?.(options) ?? {}),
        options: () => this.currentOptions(record.group),
      };
      this.records.set(name, record);
    }
  }

  /** The definition's slots, plus Lookahead's slow weights when the spec has a lookahead wrapper. */
  private slotsFor(options: O, shape: readonly number[]): SlotSpec[] {
    const slots = this.def.slots(options, shape);
    const la: SlotSpec[] = this.spec.lookahead ? [{ name: 'slowParam', shape, init: 'param' }] : [];
    const ema: SlotSpec[] = this.spec.ema ? [{ name: 'emaParam', shape, init: 'param' }] : [];
    return [...slots, ...la, ...ema];
  }

  /** A group's options with the learning rates the schedule gives for the next step. */
  private currentOptions(group: number): Readonly<O & CommonOptions> {
    const schedule = this.spec.schedule;
    if (!schedule) return this.groupList[group]!.options;
    if (this.currentAt !== this.steps) {
      for (const g of this.groupList) {
        const current: Record<string, unknown> = { ...g.options };
        for (const key of this.def.lrOptions ?? ['lr']) current[key] = scheduledLr(schedule, current[key] as number, this.steps);
        g.current = Object.freeze(current) as Readonly<O & CommonOptions>;
      }
      this.currentAt = this.steps;
    }
    return this.groupList[group]!.current;
  }

  get stepCount(): number {
    return this.steps;
  }

  get skippedSteps(): number {
    return this.skipped;
  }

  /** Whether {@link dispose} has run. */
  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected get where(): string {
    return this.def.name;
  }

  /**
   * Refuses `call` on a disposed optimizer, and while another call is in progress: an unfinished async call, or a
   * synchronous one whose gradient closure makes this call (re-entrancy would change the state under the outer
   * step). Read-only members that touch no device memory (`stepCount`, `skippedSteps`, `paramNames`, `spec`,
   * `groups()`, `optionsOf()`, …) do not call this and stay usable from a closure.
   */
  protected assertLive(call: string): void {
    if (this.disposed) throw new DescentError(`${this.where}: this optimizer was disposed`);
    if (this.busy) throw new DescentError(this.busyMessage(call, this.busy));
  }

  private busyMessage(call: string, busy: Busy): string {
    const at = `${this.where}: ${call}() was called`;
    if (busy.async) {
      const closure = busy.closure ? ' (its gradient closure is running: the call came from inside it, or ran concurrently)' : '';
      return `${at} while ${busy.call}() has not finished${closure}; await it before using the optimizer again; this call changed nothing`;
    }
    const from = busy.closure ? 'from inside the gradient closure of' : 'from code run by';
    return `${at} ${from} a ${busy.call}() in progress; a closure may only compute gradients (read-only members such as stepCount and optionsOf() are allowed); this call changed nothing`;
  }

  /** Runs a synchronous public call exclusively (see {@link assertLive}). */
  protected exclusive<R>(call: string, f: () => R): R {
    this.assertLive(call);
    this.busy = { call, async: false, closure: false };
    try {
      return f();
    } finally {
      this.busy = null;
    }
  }

  groups(): ReadonlyArray<ResolvedGroup<O>> {
    return this.groupList.map((g, index) =>
      Object.freeze({ index, isDefault: g.isDefault, options: this.currentOptions(index), params: Object.freeze([...g.params]) }),
    );
  }

  optionsOf(param: string): Readonly<O & CommonOptions> {
    const record = this.records.get(param);
    if (!record) throw new ParamError(`${this.where}: unknown parameter ${show(param)}`);
    return record.options();
  }

  setGroupOptions(group: number, patch: Partial<O>): void {
    this.exclusive('setGroupOptions', () => this.changeGroupOptions(group, patch));
  }

  private changeGroupOptions(group: number, patch: Partial<O>): void {
    const g = this.groupList[group];
    if (!Number.isInteger(group) || !g) throw new OptionError(`${this.where}: group ${show(group)} does not exist; there are ${this.groupList.length}`);
    const at = `${this.where}: group ${group}`;
    const spec = { name: this.spec.name, options: g.options } as OptimizerSpec<O>;
    const options = resolveGroupOptions(this.def, spec, patch, at);
    for (const name of g.params) {
      const r = this.records.get(name) as ParamRecord<O>;
      const slots = this.slotsFor(options, r.shape);
      const same = slots.length === r.slots.length && slots.every((s, i) => s.name === r.slots[i]!.name && sameShape(s.shape, r.slots[i]!.shape));
      if (!same) throw new OptionError(`${at}: this change alters the state layout of parameter ${show(name)}; create a new optimizer instead`);
    }
    // The per-shape rules of creation too (e.g. a matrixView naming an axis a parameter lacks), before any change.
    for (const name of g.params) {
      const shape = this.records.get(name)!.shape;
      const reason = this.def.rejectShape?.(shape, options);
      if (reason) throw new OptionError(`${at}: parameter ${show(name)} with shape ${showShape(shape)}: ${reason}`);
    }
    g.options = options;
    this.currentAt = -1;
  }

  /** Shape of a gradient tensor, or a message saying why it is not a tensor this backend accepts. */
  protected abstract gradShape(grad: T): readonly number[] | string;
  /** Index of the first non-finite element and its value, or undefined. Only called under `skip`/`throw`. */
  protected abstract findNonFinite(grads: ReadonlyMap<string, T>): { name: string; index: number; value: number } | undefined;
  /** Applies one validated step to the parameters that have gradients. */
  protected abstract applyStep(grads: ReadonlyMap<string, T>): void;
  /** The point at which a closure must evaluate gradients. */
  protected abstract evaluationPoint(): ReadonlyMap<string, T>;
  /** Reads one parameter's state as Float64. */
  protected abstract readParamState(name: string): DecodedParamState;
  /** Replaces all parameter state; receives fully validated data. */
  protected abstract writeState(states: ReadonlyMap<string, DecodedParamState>): void;
  /**
   * Frees the backend's resources (device tensors, textures, compiled kernels); called once by `dispose()`.
   */
  protected abstract release(): void;
  /** Applies the spec's gradient transforms; returns new gradients and never writes the caller's. */
  protected abstract transformGradients(grads: ReadonlyMap<string, T>): Map<string, T>;
  /** Lookahead synchronisation of every parameter: φ ← φ + α(θ − φ), θ ← φ (slot `slowParam`). */
  protected abstract syncLookahead(alpha: number): void;

  /**
   * The hooks above as {@link Work}s, which is how the step calls them. A backend whose readbacks may be
   * asynchronous overrides these (and implements the plain hooks by running them with {@link runWork}); by default
   * they call the plain hooks.
   */
  protected *applyStepWork(grads: ReadonlyMap<string, T>): Work {
    this.applyStep(grads);
  }

  /** `transformGradients` as a {@link Work}. */
  protected *transformWork(grads: ReadonlyMap<string, T>): Work<Map<string, T>> {
    return this.transformGradients(grads);
  }

  /** `evaluationPoint` as a {@link Work}. */
  protected *evaluationPointWork(): Work<ReadonlyMap<string, T>> {
    return this.evaluationPoint();
  }

  /** `readParamState` as a {@link Work}. */
  protected *readParamStateWork(name: string): Work<DecodedParamState> {
    return this.readParamState(name);
  }

  /** `syncLookahead` as a {@link Work}. */
  protected *syncLookaheadWork(alpha: number): Work {
    this.syncLookahead(alpha);
  }

  /**
   * The EMA wrapper's update of every parameter: θ̄ ← δ·θ̄ + (1 − δ)·θ (slot `emaParam`). A backend that cannot
   * average says so by name.
   */
  protected updateEma(decay: number): void {
    void decay;
    throw new UnsupportedError(`${this.where}: the ${this.backend} backend does not implement the ema wrapper`);
  }

  /** `updateEma` as a {@link Work}. */
  protected *updateEmaWork(decay: number): Work {
    this.updateEma(decay);
  }

  /** Answers a request of a {@link Work} synchronously. By default there are none. */
  protected answer(request: unknown): unknown {
    throw new DescentError(`${this.where}: the ${this.backend} backend made a request it cannot answer synchronously (${show(request)})`);
  }

  /** Answers a request of a {@link Work} asynchronously; by default as {@link answer} does. */
  protected answerAsync(request: unknown): Promise<unknown> {
    return Promise.resolve().then(() => this.answer(request));
  }

  /** Runs a {@link Work} to its end, answering its requests synchronously. */
  protected runWork<R>(work: Work<R>): R {
    let next = work.next();
    while (!next.done) {
      const request = next.value;
      if (request instanceof ClosurePromise) {
        void request.promise.catch(() => undefined);
        next = work.throw(new ParamError(`${this.where}: step: the gradient closure returned a Promise; use stepAsync for async closures`));
      } else {
        next = work.next(this.answer(request));
      }
    }
    return next.value;
  }

  /**
   * Runs a {@link Work} to its end, awaiting the answers to its requests; other calls are refused meanwhile. The
   * entry of every asynchronous call: a disposed or busy optimizer rejects (a generator's body has not started yet).
   */
  protected async runWorkAsync<R>(what: string, work: Work<R>): Promise<R> {
    this.assertLive(what);
    this.busy = { call: what, async: true, closure: false };
    try {
      let next = work.next();
      while (!next.done) {
        const request = next.value;
        let answer: unknown;
        try {
          answer = request instanceof ClosurePromise ? await request.promise : await this.answerAsync(request);
        } catch (e) {
          next = work.throw(e);
          continue;
        }
        next = work.next(answer);
      }
      return next.value;
    } finally {
      this.busy = null;
    }
  }

  /** Validates gradients against the parameters; returns those present, in parameter order. */
  protected checkGradients(grads: Gradients<T>): Map<string, T> {
    const where = `${this.where}: step`;
    if (grads === null || typeof grads !== 'object') throw new ParamError(`${where}: gradients must be an object keyed by parameter name, got ${show(grads)}`);
    const given = entriesOf(grads as NamedTensors<T | null | undefined>, `${where}: gradients`);
    const byName = new Map<string, T>();
    for (const [name, g] of given) {
      const record = this.records.get(name);
      if (!record) throw new ParamError(`${where}: gradient for unknown parameter ${show(name)}; parameters are ${this.paramNames.map((n) => show(n)).join(', ')}`);
      if (g === null || g === undefined) continue;
      const shape = this.gradShape(g);
      if (typeof shape === 'string') throw new ParamError(`${where}: gradient ${show(name)} ${shape}`);
      if (!sameShape(shape, record.shape)) throw new ParamError(`${where}: gradient ${show(name)} has shape ${showShape(shape)}, expected ${showShape(record.shape)}`);
      byName.set(name, g);
    }
    const ordered = new Map<string, T>();
    for (const name of this.paramNames) if (byName.has(name)) ordered.set(name, byName.get(name) as T);
    return ordered;
  }

  step(grads: Gradients<T> | GradientClosure<T>): StepOutcome {
    return this.exclusive('step', () => this.runWork(this.stepWork(grads)));
  }

  stepAsync(grads: Gradients<T> | AsyncGradientClosure<T>): Promise<StepOutcome> {
    return this.runWorkAsync('stepAsync', this.stepWork(grads));
  }

  /** One step as a {@link Work}: the evaluation point and closure, validation, non-finite policy, transforms, update. */
  protected *stepWork(grads: Gradients<T> | AsyncGradientClosure<T>): Work<StepOutcome> {
    if (typeof grads !== 'function') return yield* this.stepWith(grads);
    const point = yield* this.evaluationPointWork();
    let computed: Gradients<T> | undefined;
    // The closure is user code: calls it makes on this optimizer are refused with a message saying so.
    const busy = this.busy;
    try {
      if (busy) busy.closure = true;
      try {
        const returned = grads(point);
        computed = isThenable(returned) ? ((yield new ClosurePromise(returned)) as Gradients<T>) : returned;
      } finally {
        if (busy) busy.closure = false;
      }
      return yield* this.stepWith(computed);
    } finally {
      this.releaseClosure(point, computed);
    }
  }

  private *stepWith(grads: Gradients<T>): Work<StepOutcome> {
    const checked = this.checkGradients(grads);
    // A gradient that is a parameter's own memory would change as parameters are written: use a copy.
    const present = this.unaliasGradients(checked);
    try {
      return yield* this.stepChecked(present);
    } finally {
      if (present !== checked) this.releaseUnaliased([...present].filter(([n, g]) => checked.get(n) !== g).map(([, g]) => g));
    }
  }

  private *stepChecked(present: Map<string, T>): Work<StepOutcome> {
    const policy = this.spec.options.nonFinite;
    if (policy !== 'apply') {
      const bad = this.findNonFinite(present);
      if (bad) {
        if (policy === 'throw') {
          throw new ParamError(
            `${this.where}: step: gradient ${show(bad.name)} has a non-finite value (${show(bad.value)}) at index ${bad.index}; nothing was updated (nonFinite: "throw")`,
          );
        }
        this.skipped++;
        return 'skipped';
      }
    }
    if (this.spec.transforms?.length) {
      const transformed = yield* this.transformWork(present);
      try {
        yield* this.applyStepWork(transformed);
      } finally {
        this.releaseTransformed(transformed);
      }
    } else {
      yield* this.applyStepWork(present);
    }
    this.steps++;
    const la = this.spec.lookahead;
    if (la && this.steps % la.k === 0) yield* this.syncLookaheadWork(la.alpha);
    if (this.spec.ema) yield* this.updateEmaWork(emaDecay(this.spec.ema, this.steps));
    return 'applied';
  }

  /**
   * Frees what `step(closure)` made: the evaluation point and the gradients the closure returned (a backend
   * with device memory owns both once the closure has returned). Default: nothing to free.
   */
  protected releaseClosure(_point: ReadonlyMap<string, T>, _grads: Gradients<T> | undefined): void {}

  /**
   * Gradients that share memory with a parameter (the parameter's own tensor or buffer, or a view of it) replaced by
   * copies, so that a step reads each gradient as it was when `step` was called, whatever order the parameters are
   * written in. Returns `grads` itself when nothing is shared. Default: nothing is shared (a backend whose tensors
   * can alias overrides it).
   */
  protected unaliasGradients(grads: Map<string, T>): Map<string, T> {
    return grads;
  }

  /**
   * The step of a definition with `phases`, for a backend's `applyStepWork` to delegate to: `begin` on the host, the
   * first pass over every parameter with a gradient (group order, then parameter order), `finish` on the host with
   * every contribution, then the second pass. The groups' shared scalars are replaced once `finish` has run (a first
   * pass that throws leaves them as they were).
   */
  protected *phasedStepWork(grads: ReadonlyMap<string, T>, hooks: PhaseHooks<T>): Work {
    const phases = this.def.phases!;
    const groups = this.groupList.map((_, i) => ({ options: this.currentOptions(i) as O, scalars: { ...this.groupScalars[i]! } }));
    const constants = phases.begin(groups, `${this.where}: step`);
    const order = this.groupList.map((g) => g.params.filter((n) => grads.has(n)));
    const contributions: Array<Array<Record<string, number>>> = order.map(() => []);
    for (const [gi, names] of order.entries()) {
      for (const name of names) {
        const args = { group: { ...groups[gi]!.scalars }, constants: constants[gi]! };
        contributions[gi]!.push(yield* hooks.accumulate(name, grads.get(name)!, args));
      }
    }
    const move = phases.finish(groups.map((g, gi) => ({ ...g, constants: constants[gi]!, contributions: contributions[gi]! })));
    this.groupScalars = groups.map((g) => g.scalars);
    if (!move) return;
    for (const [gi, names] of order.entries()) {
      for (const name of names) yield* hooks.apply(name, grads.get(name)!, { group: { ...groups[gi]!.scalars }, constants: constants[gi]! });
    }
  }

  /** Frees the copies {@link unaliasGradients} made. Default: nothing to free. */
  protected releaseUnaliased(_copies: readonly T[]): void {}

  /** Frees gradients made by `transformGradients`. Default: nothing to free. */
  protected releaseTransformed(_grads: ReadonlyMap<string, T>): void {}

  /** Slot and scalar layout every parameter must have, as {@link decodeState} checks it. */
  protected expectedState(): Map<string, ExpectedParamState> {
    const out = new Map<string, ExpectedParamState>();
    for (const r of this.records.values()) out.set(r.name, { shape: r.shape, slots: r.slots, scalars: r.scalarNames });
    return out;
  }

  exportState(): PortableState {
    return this.exclusive('exportState', () => this.runWork(this.exportWork()));
  }

  exportStateAsync(): Promise<PortableState> {
    return this.runWorkAsync('exportStateAsync', this.exportWork());
  }

  private *exportWork(): Work<PortableState> {
    const params: Record<string, PortableParamState> = {};
    for (const r of this.records.values()) {
      const s = yield* this.readParamStateWork(r.name);
      const scalars: PortableParamState['scalars'] = {};
      for (const k of r.scalarNames) scalars[k] = encodeNumber(s.scalars[k] as number);
      const slots: PortableParamState['slots'] = {};
      for (const slot of r.slots) slots[slot.name] = { shape: [...slot.shape], data: encodeArray(s.slots[slot.name] as Float64Array) };
      // setEntry: a parameter may be named `__proto__`, which `params[name] = …` would not store.
      setEntry(params, r.name, { shape: [...r.shape], step: s.step, scalars, slots });
    }
    const state: PortableState = { format: STATE_FORMAT, version: STATE_VERSION, optimizer: this.def.name, stepCount: this.steps, skippedSteps: this.skipped, params };
    if (!this.def.phases) return state;
    // Group scalars of a phased step (Prodigy's d, …) live on the host in Float64 on every backend.
    const groups = this.groupScalars.map((g) => ({ scalars: Object.fromEntries(Object.entries(g).map(([k, v]) => [k, encodeNumber(v)])) }));
    return { ...state, groups };
  }

  importState(state: unknown): void {
    this.exclusive('importState', () => {
      const phases = this.def.phases;
      const expectedGroups = phases ? this.groupList.map((g) => Object.keys(phases.scalars(g.options))) : undefined;
      const decoded = decodeState(state, this.def.name, this.expectedState(), expectedGroups);
      this.writeState(decoded.params);
      this.groupScalars = decoded.groups;
      this.steps = decoded.stepCount;
      this.skipped = decoded.skippedSteps;
      this.currentAt = -1;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    if (this.busy) throw new DescentError(this.busyMessage('dispose', this.busy));
    this.release();
    this.disposed = true;
  }
}

/** Initial Float64 state of one parameter from its definition; `param` fills slots initialised from it. */
export function initialParamState<O extends object>(def: OptimizerDefinition<O>, options: O, record: ParamRecord<O>, param: ArrayLike<number>): DecodedParamState {
  // The layout is the record's; the fills come from the options given now (Rprop's step sizes start at the lr
  // in force at the parameter's first update, as in PyTorch's lazy state creation).
  const fills = new Map(def.slots(options, record.shape).map((s) => [s.name, s.init]));
  const slots: Record<string, Float64Array> = {};
  for (const s of record.slots) {
    const a = new Float64Array(sizeOf(s.shape));
    const init = fills.has(s.name) ? fills.get(s.name) : s.init;
    if (init === 'param') a.set(param);
    else if (typeof init === 'function') init(a);
    else if (init) a.fill(init);
    slots[s.name] = a;
  }
  return { step: 0, scalars: { ...(def.scalars?.(options) ?? {}) }, slots };
}

/**
 * The state a parameter starts from at its first update (step 0 → 1): PyTorch creates state lazily, from the options
 * in force then (Rprop's step sizes start at that step's lr), so every backend re-initialises at that point. The
 * slots initialised from the parameter (Lookahead's slow weights) are left out: they keep the value taken at
 * creation.
 */
export function firstUpdateState<O extends object>(def: OptimizerDefinition<O>, options: O, record: ParamRecord<O>): DecodedParamState {
  const fresh = initialParamState(def, options, record, []);
  for (const s of record.slots) if (s.init === 'param') delete fresh.slots[s.name];
  return fresh;
}
