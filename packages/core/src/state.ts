import { StateError, show } from './errors.js';
import { ownEntry } from './records.js';
import { isShape, sizeOf, showShape } from './tensor.js';

/**
 * Portable optimizer state: versioned, backend-neutral, keyed by parameter name and slot name, and lossless
 * through `JSON.stringify`/`JSON.parse`. Numbers are JSON numbers (JavaScript prints the shortest text that
 * reads back to the same double), except the four values JSON cannot hold, which are strings:
 * `"NaN"`, `"Infinity"`, `"-Infinity"` and `"-0"`.
 *
 * @packageDocumentation
 */

/** The `format` field of every exported state. */
export const STATE_FORMAT = 'descent.state';
/** The `version` field of exported state; {@link decodeState} refuses other versions. */
export const STATE_VERSION = 1;

/** A number as stored in portable state and replay files. */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/** One state tensor. */
export interface PortableSlot {
  readonly shape: number[];
  readonly data: JsonNumber[];
}

/** The state of one parameter. */
export interface PortableParamState {
  /** Shape of the parameter the state belongs to. */
  readonly shape: number[];
  /** Updates this parameter has received (PyTorch's `state['step']`). */
  readonly step: number;
  /** Per-parameter host scalars (e.g. NAdam's `muProduct`), as Float64. */
  readonly scalars: Record<string, JsonNumber>;
  readonly slots: Record<string, PortableSlot>;
}

/** Everything needed to continue an optimizer exactly where it stopped, on any backend. */
export interface PortableState {
  readonly format: typeof STATE_FORMAT;
  readonly version: typeof STATE_VERSION;
  readonly optimizer: string;
  /** Applied steps of the whole optimizer (drives schedules). */
  readonly stepCount: number;
  /** Steps skipped under `nonFinite: "skip"`. */
  readonly skippedSteps: number;
  readonly params: Record<string, PortableParamState>;
  /**
   * Shared scalars of each param group, in group order (default group last), for optimizers whose step has phases
   * (Prodigy's d, dMax, dNumerator, k); absent for the others.
   */
  readonly groups?: Array<{ readonly scalars: Record<string, JsonNumber> }>;
}

/** Encodes one double losslessly for JSON. */
export function encodeNumber(x: number): JsonNumber {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return x;
}

/** Decodes a {@link JsonNumber}; returns undefined for anything else. */
export function decodeNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      return undefined;
  }
}

/** Numbers as lossless JSON: finite values stay numbers, NaN, ±Infinity and −0 become strings. */
export function encodeArray(values: ArrayLike<number>): JsonNumber[] {
  const out = new Array<JsonNumber>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = encodeNumber(values[i] as number);
  return out;
}

/** Decodes an array of {@link JsonNumber}s into a new Float64Array, or throws naming `where`. */
export function decodeArray(values: unknown, length: number, where: string): Float64Array {
  if (!Array.isArray(values)) throw new StateError(`${where}: data must be an array of numbers, got ${show(values)}`);
  if (values.length !== length) throw new StateError(`${where}: data has ${values.length} values, expected ${length}`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const x = decodeNumber(values[i]);
    if (x === undefined) throw new StateError(`${where}: data[${i}] is not a number, got ${show(values[i])}`);
    out[i] = x;
  }
  return out;
}

/** What a backend expects for one parameter when it imports state. */
export interface ExpectedParamState {
  readonly shape: readonly number[];
  readonly slots: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  readonly scalars: readonly string[];
}

/** A decoded parameter state: Float64 everywhere, ready for any backend to upload. */
export interface DecodedParamState {
  readonly step: number;
  readonly scalars: Record<string, number>;
  readonly slots: Record<string, Float64Array>;
}

/** A decoded {@link PortableState}. */
export interface DecodedState {
  readonly stepCount: number;
  readonly skippedSteps: number;
  readonly params: Map<string, DecodedParamState>;
  /** Shared scalars of each group (see {@link PortableState.groups}); empty when the optimizer has none. */
  readonly groups: Array<Record<string, number>>;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks portable state against what an optimizer expects and decodes it, touching nothing: a backend calls
 * this first and swaps the result in only when it returned. Every backend shares it, so they reject the same
 * inputs with the same messages.
 */
export function decodeState(
  state: unknown,
  optimizer: string,
  expected: ReadonlyMap<string, ExpectedParamState>,
  /** Names of the shared scalars of each group, for optimizers whose step has phases; undefined for the others. */
  expectedGroups?: ReadonlyArray<readonly string[]>,
): DecodedState {
  const where = `${optimizer}: importState`;
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new StateError(`${where}: state must be an object, got ${show(state)}`);
  }
  const s = state as Record<string, unknown>;
  if (s.format !== STATE_FORMAT) throw new StateError(`${where}: format must be "${STATE_FORMAT}", got ${show(s.format)}`);
  if (s.version !== STATE_VERSION) throw new StateError(`${where}: version ${show(s.version)} is not supported (this is version ${STATE_VERSION})`);
  if (s.optimizer !== optimizer) throw new StateError(`${where}: state is from optimizer ${show(s.optimizer)}, not "${optimizer}"`);
  if (!isCount(s.stepCount)) throw new StateError(`${where}: stepCount must be a non-negative integer, got ${show(s.stepCount)}`);
  if (!isCount(s.skippedSteps)) throw new StateError(`${where}: skippedSteps must be a non-negative integer, got ${show(s.skippedSteps)}`);
  const params = s.params;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new StateError(`${where}: params must be an object keyed by parameter name, got ${show(params)}`);
  }
  const given = params as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!expected.has(name)) throw new StateError(`${where}: state has parameter ${show(name)}, which this optimizer does not have`);
  }
  const out = new Map<string, DecodedParamState>();
  for (const [name, want] of expected) {
    const at = `${where}: parameter ${show(name)}`;
    // Own properties only: a parameter named `constructor` or `toString` must not find Object.prototype's member.
    const p = ownEntry(given, name);
    if (p === undefined) throw new StateError(`${at} is missing from the state`);
    if (p === null || typeof p !== 'object') throw new StateError(`${at} must be an object, got ${show(p)}`);
    const ps = p as Record<string, unknown>;
    if (!isShape(ps.shape) || ps.shape.length !== want.shape.length || ps.shape.some((d, i) => d !== want.shape[i])) {
      throw new StateError(`${at} has shape ${isShape(ps.shape) ? showShape(ps.shape) : show(ps.shape)} in the state, expected ${showShape(want.shape)}`);
    }
    if (!isCount(ps.step)) throw new StateError(`${at}: step must be a non-negative integer, got ${show(ps.step)}`);
    const scalarsIn = (ps.scalars ?? {}) as Record<string, unknown>;
    if (typeof scalarsIn !== 'object' || Array.isArray(scalarsIn)) throw new StateError(`${at}: scalars must be an object, got ${show(ps.scalars)}`);
    const scalars: Record<string, number> = {};
    for (const key of Object.keys(scalarsIn)) {
      if (!want.scalars.includes(key)) throw new StateError(`${at}: unknown scalar ${show(key)}; expected ${want.scalars.length ? want.scalars.join(', ') : 'none'}`);
    }
    for (const key of want.scalars) {
      const x = decodeNumber(ownEntry(scalarsIn, key));
      if (x === undefined) throw new StateError(`${at}: scalar "${key}" must be a number, got ${show(ownEntry(scalarsIn, key))}`);
      scalars[key] = x;
    }
    const slotsIn = ps.slots;
    if (slotsIn === null || typeof slotsIn !== 'object' || Array.isArray(slotsIn)) throw new StateError(`${at}: slots must be an object, got ${show(slotsIn)}`);
    const slotsGiven = slotsIn as Record<string, unknown>;
    const wantNames = want.slots.map((w) => w.name);
    for (const key of Object.keys(slotsGiven)) {
      if (!wantNames.includes(key)) throw new StateError(`${at}: unknown slot ${show(key)}; expected ${wantNames.length ? wantNames.join(', ') : 'none'}`);
    }
    const slots: Record<string, Float64Array> = {};
    for (const w of want.slots) {
      const slot = ownEntry(slotsGiven, w.name) as Record<string, unknown> | undefined;
      if (slot === undefined || slot === null || typeof slot !== 'object') throw new StateError(`${at}: slot "${w.name}" is missing`);
      if (!isShape(slot.shape) || slot.shape.length !== w.shape.length || slot.shape.some((d, i) => d !== w.shape[i])) {
        throw new StateError(`${at}: slot "${w.name}" has shape ${isShape(slot.shape) ? showShape(slot.shape) : show(slot.shape)}, expected ${showShape(w.shape)}`);
      }
      slots[w.name] = decodeArray(slot.data, sizeOf(w.shape), `${at}: slot "${w.name}"`);
    }
    out.set(name, { step: ps.step, scalars, slots });
  }
  return { stepCount: s.stepCount, skippedSteps: s.skippedSteps, params: out, groups: decodeGroups(s.groups, expectedGroups, where) };
}

function decodeGroups(given: unknown, expected: ReadonlyArray<readonly string[]> | undefined, where: string): Array<Record<string, number>> {
  if (!expected) {
    if (given !== undefined) throw new StateError(`${where}: state has group scalars (groups), which this optimizer does not have`);
    return [];
  }
  if (!Array.isArray(given) || given.length !== expected.length) {
    throw new StateError(`${where}: groups must be a list of ${expected.length} group state${expected.length === 1 ? '' : 's'} ({ scalars }), got ${show(given)}`);
  }
  return expected.map((names, i) => {
    const at = `${where}: group ${i}`;
    const g = given[i] as unknown;
    const scalarsIn = g !== null && typeof g === 'object' ? (g as Record<string, unknown>).scalars : undefined;
    if (scalarsIn === null || typeof scalarsIn !== 'object' || Array.isArray(scalarsIn)) throw new StateError(`${at}: scalars must be an object, got ${show(scalarsIn)}`);
    for (const key of Object.keys(scalarsIn)) {
      if (!names.includes(key)) throw new StateError(`${at}: unknown scalar ${show(key)}; expected ${names.join(', ')}`);
    }
    const out: Record<string, number> = {};
    for (const key of names) {
      const x = decodeNumber(ownEntry(scalarsIn as Record<string, unknown>, key));
      if (x === undefined) throw new StateError(`${at}: scalar "${key}" must be a number, got ${show(ownEntry(scalarsIn as Record<string, unknown>, key))}`);
      out[key] = x;
    }
    return out;
  });
}
