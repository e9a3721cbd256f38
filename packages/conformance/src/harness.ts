import {
  createReference,
  decodeNumber,
  emaDecay,
  encodeArray,
  firstUpdateState,
  getDefinition,
  setEntry,
  type OptimizerDefinition,
  type ParamRecord,
  tensor,
  type GroupConfig,
  type Optimizer,
  type OptimizerSpec,
  type PortableState,
  type StepOutcome,
  type Tensor,
} from '@descent/core';
import type { BackendOptimizer, ConformanceBackend, GradInput, GradInputs, ParamInput } from './adapter.js';
import type { Problem } from './arbitraries.js';
import { applyTransformBounds, Arith, at, BoundBuilder, inputBound, type BoundResult, type TensorBound, type Tracked } from './bounds/index.js';
import { boundFunctions, phaseBoundFunctions, pointBoundFunctions } from './bounds/index.js';
import { float32Values, mix, prng } from './random.js';
import { valueScales } from './arbitraries.js';

/**
 * Driving both sides: the Float64 reference and the backend under test, with the same inputs; snapshots of
 * parameters and state in Float64; the bounds of one step.
 *
 * @packageDocumentation
 */

/** Parameters and portable state at one moment, as Float64. */
export interface Snapshot {
  readonly params: ReadonlyMap<string, Float64Array>;
  readonly state: PortableState;
}

export type ReferenceOptimizer = Optimizer<Tensor> & { readonly params: ReadonlyMap<string, Tensor> };

/** A raised error, or a failure of the backend to raise one, as a comparable value. */
export class ConformanceFailure extends Error {
  override name = 'ConformanceFailure';
}

export function groupsOption(groups: GroupConfig[] | undefined): { groups?: GroupConfig[] } {
  return groups ? { groups } : {};
}

/** A reference optimizer on Float64 copies of the given values. */
export function referenceFor(spec: OptimizerSpec, groups: GroupConfig[] | undefined, params: ReadonlyMap<string, ArrayLike<number>>, shapes: ReadonlyMap<string, readonly number[]>): ReferenceOptimizer {
  const named = [...params].map(([name, values]) => [name, tensor(Float64Array.from(values), shapes.get(name) ?? [values.length])] as const);
  return createReference(spec, named, groupsOption(groups)) as ReferenceOptimizer;
}

export function shapesOf(problem: Problem): Map<string, readonly number[]> {
  return new Map(problem.params.map((p) => [p.name, p.shape]));
}

/** Float32 parameter inputs from values (rounded to float32). */
export function paramInputs(params: ReadonlyMap<string, ArrayLike<number>>, shapes: ReadonlyMap<string, readonly number[]>): ParamInput[] {
  return [...params].map(([name, values]) => ({ name, shape: shapes.get(name) ?? [values.length], data: Float32Array.from(values) }));
}

export function referenceSnapshot(opt: ReferenceOptimizer): Snapshot {
  const params = new Map<string, Float64Array>();
  for (const [name, t] of opt.params) params.set(name, Float64Array.from(t.data));
  return { params, state: opt.exportState() };
}

export async function backendSnapshot(opt: BackendOptimizer): Promise<Snapshot> {
  const read = await opt.readParams();
  const params = new Map<string, Float64Array>();
  for (const [name, values] of read) params.set(name, Float64Array.from(values));
  return { params, state: await opt.exportState() };
}

/** The same state with every slot value rounded to float32 (host scalars and counts stay as they are). */
export function roundState(state: PortableState): PortableState {
  const params: PortableState['params'] = {};
  for (const [name, p] of Object.entries(state.params)) {
    const slots: Record<string, { shape: number[]; data: ReturnType<typeof encodeArray> }> = {};
    for (const [slot, s] of Object.entries(p.slots)) slots[slot] = { shape: [...s.shape], data: encodeArray(Float32Array.from(s.data, (x) => decodeNumber(x) as number)) };
    setEntry(params, name, { ...p, slots });
  }
  return { ...state, params };
}

export function roundParams(params: ReadonlyMap<string, Float64Array>): Map<string, Float64Array> {
  return new Map([...params].map(([n, v]) => [n, Float64Array.from(Float32Array.from(v))]));
}

export function slotValues(state: PortableState, param: string, slot: string): Float64Array {
  const s = state.params[param]?.slots[slot];
  return s ? Float64Array.from(s.data, (x) => decodeNumber(x) as number) : new Float64Array(0);
}

export function scalarValues(state: PortableState, param: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(state.params[param]?.scalars ?? {})) out[k] = decodeNumber(v) as number;
  return out;
}

/** A JSON round trip: what the backend imports is what a file would hold. */
export function viaJson<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/**
 * Gradients of step `index` of a problem: float32 values from the problem's seed; a parameter misses its gradient
 * with the problem's probability (as `null` or by leaving its name out, alternately).
 */
export function gradientsAt(problem: Problem, index: number, missing = problem.missing): Map<string, GradInput | null> {
  const next = prng(mix(problem.seed, 'grads', index));
  const scale = valueScales(problem.spec.name).grads;
  const out = new Map<string, GradInput | null>();
  for (const p of problem.params) {
    const data = float32Values(next, p.data.length, scale);
    if (next() < missing) {
      if (next() < 0.5) out.set(p.name, null);
      continue;
    }
    out.set(p.name, { shape: p.shape, data });
  }
  return out;
}

/** The reference's view of gradients. */
export function referenceGradients(grads: GradInputs): Map<string, Tensor | null> {
  const out = new Map<string, Tensor | null>();
  for (const [name, g] of grads) out.set(name, g ? tensor(Float64Array.from(g.data), g.shape) : null);
  return out;
}

/** Tracked state of one parameter: what a bound function takes in and gives out. */
export interface TrackedParam {
  readonly param: TensorBound;
  readonly slots: Readonly<Record<string, TensorBound>>;
  readonly scalars: Readonly<Record<string, number>>;
  readonly step: number;
}

/** Input bounds of every parameter from a snapshot (exact where values are float32, rounded once elsewhere). */
export function trackedFromSnapshot(snap: Snapshot): Map<string, TrackedParam> {
  const out = new Map<string, TrackedParam>();
  for (const [name, values] of snap.params) {
    const p = snap.state.params[name]!;
    const slots: Record<string, TensorBound> = {};
    for (const slot of Object.keys(p.slots)) slots[slot] = inputBound(slotValues(snap.state, name, slot));
    out.set(name, { param: inputBound(values), slots, scalars: scalarValues(snap.state, name), step: p.step });
  }
  return out;
}

/**
 * Shared group scalars (core's `GroupPhases`: Prodigy's d, …) with their budgets, attached to the map of parameter
 * bounds they belong with (so the signatures of the bound maps stay as they were): {@link stepBounds} reads the
 * groups' budgets before a step from its input map (exact host values from the reference when absent) and
 * attaches those after it to its output; `compareSnapshots` compares them.
 */
const groupTracked = new WeakMap<ReadonlyMap<string, TrackedParam>, ReadonlyArray<Readonly<Record<string, Tracked>>>>();

/** The group scalars' bounds attached to a map of parameter bounds (see {@link groupTracked}), if any. */
export function groupBoundsOf(bounds: ReadonlyMap<string, TrackedParam>): ReadonlyArray<Readonly<Record<string, Tracked>>> | undefined {
  return groupTracked.get(bounds);
}

/** A phased step (Prodigy) of every parameter at once, under the optimizer's phase bound function. */
function phasedStepBounds(ref: ReferenceOptimizer, before: ReadonlyMap<string, TrackedParam>, present: ReadonlyMap<string, TensorBound>, ar: Arith): Map<string, TrackedParam> {
  const name = ref.spec.name;
  const bound = phaseBoundFunctions[name];
  if (!bound) throw new ConformanceFailure(`the conformance kit has no error model for the phased step of optimizer "${name}"`);
  const def = getDefinition(name) as OptimizerDefinition<never>;
  const groups = ref.groups();
  const prior =
    groupTracked.get(before) ??
    (ref.exportState().groups ?? []).map((g) => Object.fromEntries(Object.entries(g.scalars).map(([k, v]) => [k, ar.exact(decodeNumber(v) as number)])));
  const params = [];
  for (const [gi, g] of groups.entries()) {
    for (const param of g.params) {
      const grad = present.get(param);
      const t = before.get(param);
      if (!grad || !t) continue;
      const shape = ref.params.get(param)!.shape;
      const options = ref.optionsOf(param);
      const start = t.step === 0 ? firstUpdate(def, options, shape, t) : t;
      params.push({ name: param, group: gi, options: options as never, shape, step: t.step + 1, param: t.param, grad, slots: start.slots, scalars: start.scalars });
    }
  }
  const r = bound({ ar, groups: groups.map((g, gi) => ({ options: g.options as never, scalars: prior[gi]! })), params });
  const out = new Map<string, TrackedParam>();
  for (const [param, t] of before) {
    const res = r.params.get(param);
    out.set(param, res ? { param: res.param, slots: { ...t.slots, ...res.slots }, scalars: { ...t.scalars, ...res.scalars }, step: t.step + 1 } : t);
  }
  groupTracked.set(out, r.groups);
  return out;
}

/** Carries the group bounds of `from` over to `to` (the wrappers' passes after a phased step). */
function keepGroups(from: ReadonlyMap<string, TrackedParam>, to: Map<string, TrackedParam>): Map<string, TrackedParam> {
  const g = groupTracked.get(from);
  if (g) groupTracked.set(to, g);
  return to;
}

/**
 * Bounds of one step of every parameter: the optimizer's bound function for those with a gradient; exact
 * (unchanged) for the others.
 */
export function stepBounds(
  ref: ReferenceOptimizer,
  before: ReadonlyMap<string, TrackedParam>,
  grads: GradInputs,
  ar: Arith,
  matrixFactor: number,
): Map<string, TrackedParam> {
  const name = ref.spec.name;
  const bound = boundFunctions[name];
  if (!bound && !phaseBoundFunctions[name]) throw new ConformanceFailure(`the conformance kit has no error model for optimizer "${name}"`);
  const def = getDefinition(name) as OptimizerDefinition<never>;
  // The gradients the update sees: exact, then through the spec's transforms (clipping, centralization).
  const present = new Map<string, TensorBound>();
  for (const [param] of before) {
    const g = grads.get(param);
    if (g) present.set(param, inputBound(g.data));
  }
  if (ref.spec.transforms?.length) {
    const params = new Map([...before].map(([n, t]) => [n, { shape: ref.params.get(n)!.shape, bound: t.param }] as const));
    applyTransformBounds(ar, ref.spec.transforms, present, params);
  }
  if (def.phases) {
    const out = phasedStepBounds(ref, before, present, ar);
    const la = ref.spec.lookahead;
    const synced = la && (ref.stepCount + 1) % la.k === 0 ? keepGroups(out, lookaheadBounds(ar, la.alpha, out)) : out;
    return ref.spec.ema ? keepGroups(synced, emaBounds(ar, emaDecay(ref.spec.ema, ref.stepCount + 1), synced)) : synced;
  }
  const out = new Map<string, TrackedParam>();
  for (const [param, t] of before) {
    const g = present.get(param);
    if (!g) {
      out.set(param, t);
      continue;
    }
    const shape = ref.params.get(param)!.shape;
    const options = ref.optionsOf(param);
    const start = t.step === 0 ? firstUpdate(def, options, shape, t) : t;
    const r: BoundResult = bound!({
      ar,
      options,
      shape,
      step: t.step + 1,
      param: t.param,
      grad: g,
      slots: start.slots,
      scalars: start.scalars,
      matrixFactor,
    });
    for (const s of def.slots(ref.optionsOf(param) as never, shape)) {
      if (!r.slots[s.name]) throw new ConformanceFailure(`the error model of "${name}" gives no bound for slot "${s.name}"`);
    }
    const masked = ref.spec.cautious ? cautiousBound(ar, t.param, r.param, g, (options as { maximize?: boolean }).maximize === true, ref.spec.cautious.eps) : r.param;
    // Lookahead's slow weights are not the optimizer's: they pass through its step unchanged.
    out.set(param, { param: masked, slots: { ...t.slots, ...r.slots }, scalars: { ...t.scalars, ...r.scalars }, step: t.step + 1 });
  }
  const la = ref.spec.lookahead;
  const synced = la && (ref.stepCount + 1) % la.k === 0 ? lookaheadBounds(ar, la.alpha, out) : out;
  return ref.spec.ema ? emaBounds(ar, emaDecay(ref.spec.ema, ref.stepCount + 1), synced) : synced;
}

/**
 * Cautious masking of one parameter's update (core's `applyCautious`): u = θ_before − θ_after, m = [u·d > 0],
 * θ = θ_before − u·(m / max(Σm/n, ε)). A mask element whose product u·d lies within its bound of 0 may come out
 * either way in float32 (allowance 1); the count, the mean and every rescaled element carry that allowance.
 */
function cautiousBound(ar: Arith, before: TensorBound, after: TensorBound, grad: TensorBound, maximize: boolean, eps: number): TensorBound {
  const n = after.v.length;
  if (n === 0) return after;
  const u: Tracked[] = [];
  const mask: Tracked[] = [];
  for (let i = 0; i < n; i++) {
    const ui = ar.sub(at(before, i), at(after, i));
    const gi = at(grad, i);
    const p = ar.mul(ui, maximize ? ar.neg(gi) : gi);
    const r = ar.radius(p);
    const m = p.v > 0 ? 1 : 0;
    u.push(ui);
    mask.push(Number.isNaN(p.v) ? ar.exact(0) : Math.abs(p.v) > r || r === 0 ? ar.exact(m) : { ...ar.exact(m), a: 1 });
  }
  const denom = ar.max(ar.div(ar.sum(mask), ar.exact(n)), ar.input(eps));
  const out = new BoundBuilder(n);
  for (let i = 0; i < n; i++) out.set(i, ar.sub(at(before, i), ar.mul(u[i]!, ar.div(mask[i]!, denom))));
  return out.build(after.extra, after.note);
}

/**
 * The EMA wrapper's update after every applied step (after Lookahead's synchronisation), of every parameter, in
 * the order core's reference evaluates it: θ̄ ← θ̄·δ + (1 − δ)·θ, with δ and 1 − δ Float64 host scalars rounded once.
 */
function emaBounds(ar: Arith, decay: number, params: ReadonlyMap<string, TrackedParam>): Map<string, TrackedParam> {
  const d = ar.input(decay);
  const d1 = ar.input(1 - decay);
  const out = new Map<string, TrackedParam>();
  for (const [name, t] of params) {
    const avg = t.slots.emaParam;
    if (!avg) throw new ConformanceFailure(`parameter "${name}" has no emaParam slot under the ema wrapper`);
    const next = new BoundBuilder(avg.v.length);
    for (let i = 0; i < avg.v.length; i++) next.set(i, ar.add(ar.mul(at(avg, i), d), ar.mul(d1, at(t.param, i))));
    // A normwise allowance of θ (matrix updates) reaches the average scaled by 1 − δ; its own one by δ.
    out.set(name, { ...t, slots: { ...t.slots, emaParam: next.build((1 - decay) * t.param.extra + decay * avg.extra, t.param.note) } });
  }
  return out;
}

/**
 * A parameter's state at its first update: created then from the options in force (a schedule may have moved the
 * learning rate that Rprop's step sizes start from), as core's backends do (`firstUpdateState`); exact values.
 */
function firstUpdate(def: OptimizerDefinition<never>, options: object, shape: readonly number[], t: TrackedParam): TrackedParam {
  const record = { shape, slots: def.slots(options as never, shape) } as unknown as ParamRecord<never>;
  const fresh = firstUpdateState(def, options as never, record);
  const slots: Record<string, TensorBound> = { ...t.slots };
  for (const [name, values] of Object.entries(fresh.slots)) slots[name] = inputBound(values);
  return { ...t, slots, scalars: fresh.scalars };
}

/**
 * Bounds of the point `step(closure)` hands the closure, for every parameter: the optimizer's evaluation point
 * (NAG's look-ahead point) under its error model, or else the parameters themselves, which must arrive unchanged.
 */
export function pointBounds(ref: ReferenceOptimizer, before: ReadonlyMap<string, TrackedParam>, ar: Arith, matrixFactor: number): Map<string, TensorBound> {
  const name = ref.spec.name;
  const bound = pointBoundFunctions[name];
  if (getDefinition(name).evaluationPoint && !bound) throw new ConformanceFailure(`the conformance kit has no error model for the evaluation point of optimizer "${name}"`);
  const out = new Map<string, TensorBound>();
  for (const [param, t] of before) {
    const shape = ref.params.get(param)!.shape;
    out.set(param, bound ? bound({ ar, options: ref.optionsOf(param), shape, param: t.param, slots: t.slots, scalars: t.scalars, matrixFactor }) : t.param);
  }
  return out;
}

/**
 * Lookahead's synchronisation after every k-th applied step, of every parameter (with a gradient or not), in the
 * order core's reference evaluates it: φ ← φ + α(θ − φ), θ ← φ.
 */
function lookaheadBounds(ar: Arith, alpha: number, params: ReadonlyMap<string, TrackedParam>): Map<string, TrackedParam> {
  const a = ar.input(alpha);
  const out = new Map<string, TrackedParam>();
  for (const [name, t] of params) {
    const slow = t.slots.slowParam;
    if (!slow) throw new ConformanceFailure(`parameter "${name}" has no slowParam slot under Lookahead`);
    const phi = new BoundBuilder(slow.v.length);
    for (let i = 0; i < slow.v.length; i++) {
      const p = at(slow, i);
      phi.set(i, ar.add(p, ar.mul(a, ar.sub(at(t.param, i), p))));
    }
    // A normwise allowance of θ (matrix updates) reaches φ scaled by α; φ's own one carries over.
    const synced = phi.build(alpha * t.param.extra + slow.extra, t.param.note);
    out.set(name, { ...t, param: synced, slots: { ...t.slots, slowParam: synced } });
  }
  return out;
}

/** Creates a backend optimizer, importing `state` when given. Disposes it again if the import throws. */
export async function backendFor(
  backend: ConformanceBackend,
  spec: OptimizerSpec,
  groups: GroupConfig[] | undefined,
  params: ReadonlyMap<string, ArrayLike<number>>,
  shapes: ReadonlyMap<string, readonly number[]>,
  state?: PortableState,
): Promise<BackendOptimizer> {
  const opt = await backend.create(spec, paramInputs(params, shapes), groupsOption(groups));
  if (state) {
    try {
      await opt.importState(viaJson(state));
    } catch (e) {
      await opt.dispose();
      throw e;
    }
  }
  return opt;
}

/** Runs `f` with a backend optimizer and disposes it afterwards. */
export async function using<T>(opt: BackendOptimizer, f: (opt: BackendOptimizer) => Promise<T>): Promise<T> {
  try {
    return await f(opt);
  } finally {
    await opt.dispose();
  }
}

/** Checks the step outcome a backend returned (when it returns one). */
export function checkOutcome(got: StepOutcome | void, want: StepOutcome): void {
  if (got !== undefined && got !== want) throw new ConformanceFailure(`step returned ${JSON.stringify(got)}, the reference ${JSON.stringify(want)}`);
}

/** The message of what `f` throws, or undefined when it does not. */
export async function thrown(f: () => unknown): Promise<{ message: string; name: string } | undefined> {
  try {
    await f();
    return undefined;
  } catch (e) {
    return { message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : typeof e };
  }
}
