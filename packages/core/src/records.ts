/**
 * Plain objects keyed by names a user chose (parameter names in portable state, gradients given as objects).
 * Such a name may be `__proto__`, `constructor`, `toString`…: assigning `obj[name] = v` with `__proto__` sets the
 * prototype instead of adding an entry (silently lost by `JSON.stringify` and `Object.keys`), and reading
 * `obj[name]` finds `Object.prototype`'s members for names that are absent. These helpers only ever touch own
 * properties.
 *
 * @packageDocumentation
 */

/** Adds (or replaces) an own, enumerable entry, whatever the key (`__proto__` included). */
export function setEntry<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The value of an own property, or undefined (never an inherited member such as `constructor`). */
export function ownEntry(record: object, key: string): unknown {
  return Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined;
}

