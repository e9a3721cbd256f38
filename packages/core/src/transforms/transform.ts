import { OptionError, show } from '../errors.js';
import { readNamedSpec } from '../named-spec.js';
import { checkKnownKeys, opt, resolveOptions, type OptionValue, type OptionsSchema } from '../options.js';
import type { Tensor } from '../tensor.js';

/**
 * Gradient transforms: functions of the gradients (and parameters) applied, in order, after the gradients are
 * validated and before the optimizer's update — where PyTorch users call `clip_grad_norm_` between `backward()`
 * and `step()`. Like optimizers, a transform is data (`{ name, options }`) defined once here; the reference
 * applies it in Float64 to copies of the gradients (the caller's arrays are never changed), and backends
 * supply their own kernels for the same names.
 *
 * @packageDocumentation
 */

/** A validated, frozen, JSON-serializable gradient transform. */
export interface TransformSpec {
  readonly name: string;
  readonly options: Readonly<Record<string, OptionValue>>;
}

/** The one definition of a gradient transform. */
export interface TransformDefinition<O extends object = Record<string, OptionValue>> {
  readonly name: string;
  readonly title: string;
  /** `global`: needs every gradient at once (global-norm clipping); `tensor`: one tensor at a time. */
  readonly scope: 'global' | 'tensor';
  readonly schema: OptionsSchema;
  /** Options a spec must give (PyTorch has no default for them, e.g. `max_norm`); their schema default is a placeholder. */
  readonly required?: readonly string[];
  /**
   * Options the schema cannot describe (e.g. a norm order that may be `"inf"`), each with the parser that
   * validates the given value (`undefined` when absent) and returns the value to store or its default.
   */
  readonly extraOptions?: Readonly<Record<string, (value: unknown, where: string, key: string) => OptionValue>>;
  /** Rules between options; throws an {@link OptionError} prefixed with `where`. */
  check?(options: O, where: string): void;
  /**
   * The Float64 reference: rewrites `grads` in place. `grads` holds copies of the gradients present this
   * step (in parameter order); `params` the current parameters, read-only.
   */
  apply(options: O, grads: ReadonlyMap<string, Float64Array>, params: ReadonlyMap<string, Tensor>): void;
}

/** A transform definition of any option type, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export type AnyTransformDefinition = TransformDefinition<any>;

/**
 * Validates `given` against a transform definition (required options, extra parsers, defaults, ranges) and
 * returns a frozen {@link TransformSpec}; each transform factory calls it.
 */
export function makeTransformSpec<O extends object>(def: TransformDefinition<O>, given: unknown, where = def.name): TransformSpec {
  if (given === undefined) given = {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new OptionError(`${where}: options must be an object, got ${show(given)}`);
  }
  const extraParsers = def.extraOptions ?? {};
  const isExtra = (k: string) => Object.prototype.hasOwnProperty.call(extraParsers, k);
  const known: OptionsSchema = { ...def.schema, ...Object.fromEntries(Object.keys(extraParsers).map((k) => [k, opt.flag(false, k)])) };
  checkKnownKeys(where, known, given);
  const record = given as Record<string, unknown>;
  for (const key of def.required ?? []) {
    if (record[key] === undefined) throw new OptionError(`${where}: option "${key}" is required`);
  }
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!isExtra(k)) plain[k] = v;
  const options = resolveOptions(where, def.schema, plain);
  for (const [key, parse] of Object.entries(extraParsers)) options[key] = parse(record[key], where, key);
  def.check?.(options as unknown as O, where);
  for (const v of Object.values(options)) if (Array.isArray(v)) Object.freeze(v);
  return Object.freeze({ name: def.name, options: Object.freeze(options) });
}

/** Validates a transform given as JSON against the known definitions. */
export function checkTransformSpec(defs: ReadonlyMap<string, AnyTransformDefinition>, json: unknown, where: string): TransformSpec {
  const named = readNamedSpec('transform', defs, json, where);
  return makeTransformSpec(named.def, named.options, named.where);
}

/**
 * The units of unit-wise transforms (adaptive clipping, soft clipping, gradient centralization): a tensor of
 * two or more dimensions is viewed as a (shape[0], −1) matrix whose rows are the units (the output units of a
 * linear or convolution weight in PyTorch's layout); a vector or scalar is one unit. Element i of unit u is
 * element u·size + i of the row-major data.
 */
export function unitLayout(shape: readonly number[]): { readonly units: number; readonly size: number } {
  let n = 1;
  for (const d of shape) n *= d;
  if (shape.length <= 1) return { units: 1, size: n };
  const units = shape[0] as number;
  return { units, size: units === 0 ? 0 : n / units };
}
