import { OptionError, show } from '../errors.js';
import { checkKnownKeys, resolveOptions, type OptionValue, type OptionsSchema } from '../options.js';

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

/** The one definition of a schedule. */
export interface ScheduleDefinition<O extends object = Record<string, OptionValue>> {
  readonly name: string;
  readonly title: string;
  readonly schema: OptionsSchema;
  /** Rules between options, and validation of options the schema cannot express (nested schedules). */
  check?(options: O, where: string): void;
  /**
   * Options the schema does not describe (e.g. the parts of a joined schedule); they are validated by `check`.
   * Listed so unknown-option detection still works.
   */
  readonly extraOptions?: readonly string[];
  /** The learning rate after n applied steps, for a group whose configured learning rate is baseLr. */
  lrAt(options: O, baseLr: number, n: number): number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export type AnyScheduleDefinition = ScheduleDefinition<any>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function makeScheduleSpec<O extends object>(def: ScheduleDefinition<O>, given: unknown, where = def.name): ScheduleSpec {
  const extra: Record<string, unknown> = {};
  let plain = given;
  if (def.extraOptions && given !== null && typeof given === 'object' && !Array.isArray(given)) {
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(given)) (def.extraOptions.includes(k) ? extra : rest)[k] = v;
    plain = rest;
  }
  const options = { ...resolveOptions(where, def.schema, plain), ...extra };
  def.check?.(options as unknown as O, where);
  return deepFreeze({ name: def.name, options });
}

/** Validates a schedule given as JSON against the known definitions. */
export function checkScheduleSpec(defs: ReadonlyMap<string, AnyScheduleDefinition>, json: unknown, where: string): ScheduleSpec {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OptionError(`${where}: a schedule must be an object { name, options }, got ${show(json)}`);
  }
  checkKnownKeys(where, { name: { type: 'boolean', default: false, doc: '' }, options: { type: 'boolean', default: false, doc: '' } }, json);
  const { name, options } = json as { name?: unknown; options?: unknown };
  const def = typeof name === 'string' ? defs.get(name) : undefined;
  if (!def) throw new OptionError(`${where}: unknown schedule ${show(name)}; known schedules: ${[...defs.keys()].join(', ')}`);
  return makeScheduleSpec(def, options, `${where} (${def.name})`);
}
