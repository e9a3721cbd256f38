import { OptionError, show } from '../errors.js';
import { checkKnownKeys, resolveOptions, type OptionValue, type OptionsSchema } from '../options.js';
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
  check?(options: O, where: string): void;
  /**
   * The Float64 reference: rewrites `grads` in place. `grads` holds copies of the gradients present this
   * step (in parameter order); `params` the current parameters, read-only.
   */
  apply(options: O, grads: ReadonlyMap<string, Float64Array>, params: ReadonlyMap<string, Tensor>): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export type AnyTransformDefinition = TransformDefinition<any>;

export function makeTransformSpec<O extends object>(def: TransformDefinition<O>, given: unknown, where = def.name): TransformSpec {
  const options = resolveOptions(where, def.schema, given);
  def.check?.(options as unknown as O, where);
  for (const v of Object.values(options)) if (Array.isArray(v)) Object.freeze(v);
  return Object.freeze({ name: def.name, options: Object.freeze(options) });
}

/** Validates a transform given as JSON against the known definitions. */
export function checkTransformSpec(defs: ReadonlyMap<string, AnyTransformDefinition>, json: unknown, where: string): TransformSpec {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OptionError(`${where}: a transform must be an object { name, options }, got ${show(json)}`);
  }
  checkKnownKeys(where, { name: { type: 'boolean', default: false, doc: '' }, options: { type: 'boolean', default: false, doc: '' } }, json);
  const { name, options } = json as { name?: unknown; options?: unknown };
  const def = typeof name === 'string' ? defs.get(name) : undefined;
  if (!def) throw new OptionError(`${where}: unknown transform ${show(name)}; known transforms: ${[...defs.keys()].join(', ')}`);
  return makeTransformSpec(def, options, `${where} (${def.name})`);
}
