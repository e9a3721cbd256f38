import { makeSpec, type OptimizerDefinition, type OptimizerSpec } from './definition.js';
import { OptionError, show } from './errors.js';
import { adamDefinition } from './optimizers/adam.js';
import { sgdDefinition } from './optimizers/sgd.js';

/**
 * Every optimizer core defines, by name. Backends look definitions up here; nothing registers itself as a
 * side effect of an import.
 *
 * @packageDocumentation
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
type AnyDefinition = OptimizerDefinition<any>;

const list: readonly AnyDefinition[] = [
  sgdDefinition,
  adamDefinition,
];

/** All optimizer definitions, by name, in a stable order. */
export const definitions: ReadonlyMap<string, AnyDefinition> = new Map(list.map((d) => [d.name, d]));

/** The definition of an optimizer, or an error listing the known names. */
export function getDefinition(name: unknown): AnyDefinition {
  const def = typeof name === 'string' ? definitions.get(name) : undefined;
  if (!def) throw new OptionError(`unknown optimizer ${show(name)}; known optimizers: ${[...definitions.keys()].join(', ')}`);
  return def;
}

/** Builds a validated spec from a name and options, e.g. from JSON: `createSpec('adam', { lr: 1e-3 })`. */
export function createSpec(name: unknown, options?: unknown): OptimizerSpec {
  return makeSpec(getDefinition(name), options as Record<string, never>) as OptimizerSpec;
}

/** Rebuilds a spec from its JSON form `{ name, options }`, validating everything again. */
export function specFromJSON(json: unknown): OptimizerSpec {
  if (json === null || typeof json !== 'object') throw new OptionError(`an optimizer spec must be an object { name, options }, got ${show(json)}`);
  const { name, options } = json as { name?: unknown; options?: unknown };
  return createSpec(name, options);
}
