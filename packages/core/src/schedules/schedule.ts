import { OptionError, show } from '../errors.js';
import { readNamedSpec } from '../named-spec.js';
import { checkKnownKeys, opt, resolveOptions, type OptionValue, type OptionsSchema } from '../options.js';

/**
 * Learning-rate schedules. A schedule is data (`{ name, options }`); every group's learning rate at step n (the
 * number of steps applied so far, so the first update uses n = 0) is `lrAt(options, baseLr, n)`, where baseLr is
 * the group's configured `lr`. This is the closed form of the matching `torch.optim.lr_scheduler` class called
 * once per optimizer step. Computed on the host in Float64 and handed to every backend as a scalar.
 *
 * @packageDocumentation
 */

/** A validated, frozen, JSON-serializable schedule. */
export interface ScheduleSpec {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Validates an option the schema cannot express and returns the value to store: a fresh, JSON-plain copy (never
 * the caller's object, which must stay unfrozen). Receives `undefined` when the option is absent, and then
 * returns the default or throws {@link OptionError}.
 */
export type ExtraOptionParser = (value: unknown, where: string, key: string) => unknown;

/** The one definition of a schedule. */
export interface ScheduleDefinition<O extends object = Record<string, OptionValue>> {
  readonly name: string;
  readonly title: string;
  readonly schema: OptionsSchema;
  /**
   * Options a spec must give (PyTorch has no default for them, e.g. CosineAnnealingLR's `T_max`); their schema
   * default is only a placeholder.
   */
  readonly required?: readonly string[];
  /** Rules between options. */
  check?(options: O, where: string): void;
  /**
   * Options the schema cannot describe (lists such as milestones, the parts of a joined schedule), each with the
   * parser that validates and copies it. Listed so unknown-option detection still works.
   */
  readonly extraOptions?: Readonly<Record<string, ExtraOptionParser>>;
  /** The learning rate after n applied steps, for a group whose configured learning rate is baseLr. */
  lrAt(options: O, baseLr: number, n: number): number;
}

/** A schedule definition of any option type, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export type AnyScheduleDefinition = ScheduleDefinition<any>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates `given` against a schedule definition (required options, defaults, ranges) and returns a frozen
 * {@link ScheduleSpec}; each schedule factory calls it.
 */
export function makeScheduleSpec<O extends object>(def: ScheduleDefinition<O>, given: unknown, where = def.name): ScheduleSpec {
  if (given === undefined) given = {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new OptionError(`${where}: options must be an object, got ${show(given)}`);
  }
  const extraParsers = def.extraOptions ?? {};
  const known: OptionsSchema = { ...def.schema, ...Object.fromEntries(Object.keys(extraParsers).map((k) => [k, opt.flag(false, k)])) };
  checkKnownKeys(where, known, given);
  const record = given as Record<string, unknown>;
  for (const key of def.required ?? []) {
    if (record[key] === undefined) throw new OptionError(`${where}: option "${key}" is required`);
  }
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!Object.prototype.hasOwnProperty.call(extraParsers, k)) plain[k] = v;
  const options: Record<string, unknown> = resolveOptions(where, def.schema, plain);
  for (const [key, parse] of Object.entries(extraParsers)) options[key] = parse(record[key], where, key);
  def.check?.(options as unknown as O, where);
  return deepFreeze({ name: def.name, options });
}

/**
 * Parser for a list of integers such as milestones: every element a safe integer ≥ `min`, strictly increasing.
 * Returns a copy.
 */
export function integerList(min: number): ExtraOptionParser {
  return (value, where, key) => {
    if (!Array.isArray(value)) throw new OptionError(`${where}: option "${key}" must be a list of integers, got ${show(value)}`);
    const out: number[] = [];
    value.forEach((v: unknown, i) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
        throw new OptionError(`${where}: option "${key}[${i}]" must be an integer in [${min}, ∞), got ${show(v)}`);
      }
      const prev = out[i - 1];
      if (prev !== undefined && v <= prev) {
        throw new OptionError(`${where}: option "${key}" must be strictly increasing, got ${show(v)} after ${show(prev)} (${show(value)})`);
      }
      out.push(v);
    });
    return out;
  };
}

/** Validates a schedule given as JSON against the known definitions. */
export function checkScheduleSpec(defs: ReadonlyMap<string, AnyScheduleDefinition>, json: unknown, where: string): ScheduleSpec {
  const named = readNamedSpec('schedule', defs, json, where);
  return makeScheduleSpec(named.def, named.options, named.where);
}
