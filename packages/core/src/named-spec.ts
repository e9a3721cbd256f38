import { OptionError, show } from './errors.js';
import { checkKnownKeys, opt } from './options.js';

const NAMED_SPEC_KEYS = { name: opt.flag(false, 'name'), options: opt.flag(false, 'options') };

/**
 * Reads `{ name, options }` JSON naming one of `defs` (a transform or a schedule): checks its shape and keys and
 * finds the definition, or throws naming `where`, the kind and the known names. The caller validates `options`
 * against the definition, under the returned `where`.
 */
export function readNamedSpec<D extends { readonly name: string }>(
  kind: string,
  defs: ReadonlyMap<string, D>,
  json: unknown,
  where: string,
): { readonly def: D; readonly options: unknown; readonly where: string } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OptionError(`${where}: a ${kind} must be an object { name, options }, got ${show(json)}`);
  }
  checkKnownKeys(where, NAMED_SPEC_KEYS, json);
  const { name, options } = json as { name?: unknown; options?: unknown };
  const def = typeof name === 'string' ? defs.get(name) : undefined;
  if (!def) throw new OptionError(`${where}: unknown ${kind} ${show(name)}; known ${kind}s: ${[...defs.keys()].join(', ')}`);
  return { def, options, where: `${where} (${def.name})` };
}
