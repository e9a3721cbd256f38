/**
 * Errors raised by descent. Every error names the optimizer, the option or parameter at fault and the value it
 * got, and is raised before anything is mutated: parameters and optimizer state are bitwise unchanged after it.
 *
 * @packageDocumentation
 */

/** Base class of every error descent raises on purpose; `instanceof DescentError` separates them from bugs. */
export class DescentError extends Error {
  override name = 'DescentError';
}

/** An optimizer option (or a group's override of one) is unknown, of the wrong type or out of range. */
export class OptionError extends DescentError {
  override name = 'OptionError';
}

/** Parameters, groups or gradients do not fit: unknown or duplicate names, wrong shapes, non-finite values. */
export class ParamError extends DescentError {
  override name = 'ParamError';
}

/** Portable state that cannot be imported: other optimizer, other parameters, other shapes, bad numbers. */
export class StateError extends DescentError {
  override name = 'StateError';
}

/** A backend was asked for something it does not implement (an optimizer, a mode); the message names it. */
export class UnsupportedError extends DescentError {
  override name = 'UnsupportedError';
}

/** Formats a user-supplied value for an error message: numbers as JS prints them, everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
