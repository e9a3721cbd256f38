import { OptionError, show } from './errors.js';
import type { MatrixView } from './linalg/matrix-view.js';

/**
 * Option schemas: every optimizer declares its options once, with defaults and ranges, and every backend,
 * the CLI and the param groups validate through the same code, so they raise the same messages.
 *
 * @packageDocumentation
 */

/** A closed or open interval bound. */
export interface Bound {
  readonly value: number;
  readonly open?: boolean;
}

/** A real-valued option in an interval. Integers only when `integer` is set. */
export interface NumberOption {
  readonly type: 'number';
  readonly default: number | null;
  readonly min?: Bound;
  readonly max?: Bound;
  readonly integer?: boolean;
  /**
   * Whether `null` is a value too (then it is the default): "not set", where the reference implementation's
   * default is `None` or ∞ (Prodigy's `beta3`, `growthRate`); the definition says what it stands for.
   */
  readonly nullable?: boolean;
  readonly doc: string;
}

/** A pair of reals such as `betas`, each element with its own interval. */
export interface PairOption {
  readonly type: 'pair';
  readonly default: readonly [number, number];
  readonly items: readonly [Omit<NumberOption, 'type' | 'default' | 'doc'>, Omit<NumberOption, 'type' | 'default' | 'doc'>];
  readonly doc: string;
}

/** A triple of reals such as AdEMAMix's `betas` (β₁, β₂, β₃), each element with its own interval. */
export interface TripleOption {
  readonly type: 'triple';
  readonly default: readonly [number, number, number];
  readonly items: readonly [
    Omit<NumberOption, 'type' | 'default' | 'doc'>,
    Omit<NumberOption, 'type' | 'default' | 'doc'>,
    Omit<NumberOption, 'type' | 'default' | 'doc'>,
  ];
  readonly doc: string;
}

/** A true/false option such as `amsgrad` or `nesterov`. */
export interface BooleanOption {
  readonly type: 'boolean';
  readonly default: boolean;
  readonly doc: string;
}

/** An option that takes one of a fixed list of strings, such as `nonFinite`. */
export interface EnumOption {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly default: string;
  readonly doc: string;
}

/**
 * A matrix view (see `MatrixView` in linalg/matrix-view.ts): `{ rows: [axes…], cols?: [axes…] }` with distinct
 * integer axes, negative counting from the end. Whether the axes exist is checked per parameter, against its shape.
 */
export interface ViewOption {
  readonly type: 'view';
  readonly default: MatrixView;
  readonly doc: string;
}

/** The schema of one option: its type, default, allowed range or values, and a one-line description. */
export type OptionSchema = NumberOption | PairOption | TripleOption | BooleanOption | EnumOption | ViewOption;
/** An optimizer's (or transform's, schedule's) options by name. */
export type OptionsSchema = Readonly<Record<string, OptionSchema>>;

/** A JSON value an option can hold. */
export type OptionValue = number | null | boolean | string | readonly [number, number] | readonly [number, number, number] | MatrixView;

/** `[0, ∞)`-style interval text for messages. */
export function describeInterval(o: { min?: Bound; max?: Bound; integer?: boolean }): string {
  const lo = o.min ? `${o.min.open ? '(' : '['}${show(o.min.value)}` : '(-∞';
  const hi = o.max ? `${show(o.max.value)}${o.max.open ? ')' : ']'}` : '∞)';
  return `${o.integer ? 'an integer' : 'a number'} in ${lo}, ${hi}`;
}

function inInterval(x: number, o: { min?: Bound; max?: Bound; integer?: boolean }): boolean {
  if (!Number.isFinite(x)) return false;
  if (o.integer && !Number.isInteger(x)) return false;
  if (o.min && (o.min.open ? !(x > o.min.value) : !(x >= o.min.value))) return false;
  if (o.max && (o.max.open ? !(x < o.max.value) : !(x <= o.max.value))) return false;
  return true;
}

/** Validates one option value against its schema; returns the (frozen) value or throws naming `where` and key. */
export function checkOption(where: string, key: string, schema: OptionSchema, value: unknown): OptionValue {
  const fail = (expected: string): never => {
    throw new OptionError(`${where}: option "${key}" must be ${expected}, got ${show(value)}`);
  };
  switch (schema.type) {
    case 'number':
      if (value === null && schema.nullable) return null;
      if (typeof value !== 'number' || !inInterval(value, schema)) fail(describeInterval(schema));
      return value as number;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      return value as boolean;
    case 'enum':
      if (typeof value !== 'string' || !schema.values.includes(value)) fail(`one of ${schema.values.map((v) => `"${v}"`).join(', ')}`);
      return value as string;
    case 'pair': {
      if (!Array.isArray(value) || value.length !== 2) fail(`a pair [${describeInterval(schema.items[0])}, ${describeInterval(schema.items[1])}]`);
      const pair = value as unknown[];
      for (let i = 0; i < 2; i++) {
        const item = pair[i];
        const rule = schema.items[i as 0 | 1];
        if (typeof item !== 'number' || !inInterval(item, rule)) {
          throw new OptionError(`${where}: option "${key}[${i}]" must be ${describeInterval(rule)}, got ${show(item)}`);
        }
      }
      return Object.freeze([pair[0] as number, pair[1] as number]) as readonly [number, number];
    }
    case 'view':
      return checkView(value, fail);
    case 'triple': {
      if (!Array.isArray(value) || value.length !== 3) fail(`a triple [${schema.items.map(describeInterval).join(', ')}]`);
      const triple = value as unknown[];
      for (let i = 0; i < 3; i++) {
        const item = triple[i];
        const rule = schema.items[i as 0 | 1 | 2];
        if (typeof item !== 'number' || !inInterval(item, rule)) {
          throw new OptionError(`${where}: option "${key}[${i}]" must be ${describeInterval(rule)}, got ${show(item)}`);
        }
      }
      return Object.freeze([triple[0] as number, triple[1] as number, triple[2] as number]) as readonly [number, number, number];
    }
  }
}

const VIEW_FORMAT = '{ rows: [axes…], cols?: [axes…] } with distinct integer axes (negative ones count from the end) and at least one row axis';

function checkView(value: unknown, fail: (expected: string) => never): MatrixView {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(VIEW_FORMAT);
  const v = value as Record<string, unknown>;
  if (Object.keys(v).some((k) => k !== 'rows' && k !== 'cols')) return fail(VIEW_FORMAT);
  const axes = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => Number.isSafeInteger(x));
  const rows = v.rows;
  const cols = v.cols ?? [];
  if (!axes(rows) || rows.length === 0 || !axes(cols)) return fail(VIEW_FORMAT);
  const all = [...rows, ...cols];
  if (new Set(all).size !== all.length) return fail(VIEW_FORMAT);
  return Object.freeze({ rows: Object.freeze([...rows]), cols: Object.freeze([...cols]) });
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Rejects option names the schema does not know, suggesting the camelCase spelling of a snake_case name. */
export function checkKnownKeys(where: string, schema: OptionsSchema, given: object): void {
  for (const key of Object.keys(given)) {
    if (Object.prototype.hasOwnProperty.call(schema, key)) continue;
    const camel = camelCase(key);
    const hint = camel !== key && Object.prototype.hasOwnProperty.call(schema, camel) ? ` (did you mean "${camel}"?)` : '';
    throw new OptionError(`${where}: unknown option "${key}"${hint}; known options: ${Object.keys(schema).join(', ')}`);
  }
}

/**
 * Fills defaults into user options and validates every value. `base` supplies values for keys the user left out
 * (group overrides fall back to the spec's resolved options).
 */
export function resolveOptions(
  where: string,
  schema: OptionsSchema,
  given: unknown,
  base?: Readonly<Record<string, OptionValue>>,
): Record<string, OptionValue> {
  if (given === undefined) given = {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new OptionError(`${where}: options must be an object, got ${show(given)}`);
  }
  checkKnownKeys(where, schema, given);
  const out: Record<string, OptionValue> = {};
  for (const [key, rule] of Object.entries(schema)) {
    const value = (given as Record<string, unknown>)[key];
    if (value === undefined) out[key] = base ? (base[key] as OptionValue) : rule.default;
    else out[key] = checkOption(where, key, rule, value);
  }
  return out;
}

/** Schema shorthands used by the optimizer definitions. */
export const opt = {
  /** A number ≥ 0 (learning rates, weight decay, eps). */
  nonNegative: (def: number, doc: string): NumberOption => ({ type: 'number', default: def, min: { value: 0 }, doc }),
  /** A number > 0. */
  positive: (def: number, doc: string): NumberOption => ({ type: 'number', default: def, min: { value: 0, open: true }, doc }),
  /** A number in [0, 1) (decay rates such as betas or momentum). */
  unitHalfOpen: (def: number, doc: string): NumberOption => ({ type: 'number', default: def, min: { value: 0 }, max: { value: 1, open: true }, doc }),
  /** A number in [0, 1]. */
  unitClosed: (def: number, doc: string): NumberOption => ({ type: 'number', default: def, min: { value: 0 }, max: { value: 1 }, doc }),
  /** A positive integer. */
  count: (def: number, doc: string): NumberOption => ({ type: 'number', default: def, min: { value: 1 }, integer: true, doc }),
  /** A number in an arbitrary interval (`range`: `min`, `max`, `integer`). */
  number: (def: number, doc: string, range: Omit<NumberOption, 'type' | 'default' | 'doc'> = {}): NumberOption => ({ type: 'number', default: def, ...range, doc }),
  /** A number in an interval, or `null` (the default) for "not set" (see {@link NumberOption.nullable}). */
  nullableNumber: (doc: string, range: Omit<NumberOption, 'type' | 'default' | 'doc' | 'nullable'> = {}): NumberOption => ({ type: 'number', default: null, ...range, nullable: true, doc }),
  /** A boolean option. */
  flag: (def: boolean, doc: string): BooleanOption => ({ type: 'boolean', default: def, doc }),
  /** One of a list of strings. */
  oneOf: (values: readonly string[], def: string, doc: string): EnumOption => ({ type: 'enum', values, default: def, doc }),
  /** A matrix view (rows and columns as axes of the parameter). */
  view: (def: MatrixView, doc: string): ViewOption => ({ type: 'view', default: def, doc }),
  /** Adam-style `betas`: both in [0, 1). */
  betas: (def: readonly [number, number], doc = 'Decay rates (β₁, β₂) of the first and second moment estimates.'): PairOption => ({
    type: 'pair',
    default: def,
    items: [
      { min: { value: 0 }, max: { value: 1, open: true } },
      { min: { value: 0 }, max: { value: 1, open: true } },
    ],
    doc,
  }),
  /** A pair of numbers, each with its own interval. */
  pair: (def: readonly [number, number], items: PairOption['items'], doc: string): PairOption => ({ type: 'pair', default: def, items, doc }),
  /** A triple of numbers, each with its own interval. */
  triple: (def: readonly [number, number, number], items: TripleOption['items'], doc: string): TripleOption => ({ type: 'triple', default: def, items, doc }),
  /** Three decay rates such as AdEMAMix's `betas`: each in [0, 1). */
  betas3: (def: readonly [number, number, number], doc: string): TripleOption => ({
    type: 'triple',
    default: def,
    items: [
      { min: { value: 0 }, max: { value: 1, open: true } },
      { min: { value: 0 }, max: { value: 1, open: true } },
      { min: { value: 0 }, max: { value: 1, open: true } },
    ],
    doc,
  }),
} as const;
