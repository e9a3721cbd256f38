import ndarray from 'ndarray';
import { ParamError, show } from './errors.js';

/**
 * A dense, row-major Float64 tensor: the reference's view of a parameter or a gradient. Any object with a
 * `shape` and a `Float64Array` `data` of matching length qualifies, so `ndarray` arrays can be passed as they are.
 * The reference updates `data` in place, as PyTorch updates `param.data`.
 */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Named tensors, in the order given: a plain object, a `Map`, or any iterable of `[name, tensor]` pairs. */
export type NamedTensors<T = Tensor> = Readonly<Record<string, T>> | ReadonlyMap<string, T> | Iterable<readonly [string, T]>;

/** Number of elements of a shape (1 for a scalar shape `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether a value is a valid shape: an array of non-negative safe integers. */
export function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** `[2, 3]` → `"[2, 3]"`, the way shapes appear in error messages. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** True when two shapes have the same dimensions in the same order. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Makes a Float64 `ndarray` view (the package the reference uses for shape-aware work such as transposes and
 * matrix views). Copies nothing: `data` is shared.
 */
export function tensor(data: Float64Array | readonly number[], shape?: readonly number[]): ndarray.NdArray<Float64Array> {
  const values = data instanceof Float64Array ? data : Float64Array.from(data);
  const dims = shape ? [...shape] : [values.length];
  if (!isShape(dims)) throw new ParamError(`tensor: shape must be an array of non-negative integers, got ${show(shape)}`);
  if (sizeOf(dims) !== values.length) {
    throw new ParamError(`tensor: shape ${showShape(dims)} holds ${sizeOf(dims)} values, got ${values.length}`);
  }
  return ndarray(values, dims);
}

/** Reads named tensors into an ordered list of entries; rejects duplicate names. */
export function entriesOf<T>(named: NamedTensors<T>, what: string): Array<[string, T]> {
  const out: Array<[string, T]> = [];
  if (!(named instanceof Map) && !(Symbol.iterator in (named as object))) {
    // `{ __proto__: t }` in an object literal sets the prototype rather than adding an entry named "__proto__",
    // which would then be missing without a word; a prototype that holds a tensor can only come from that.
    const proto: unknown = Object.getPrototypeOf(named);
    if (proto !== null && typeof proto === 'object' && proto !== Object.prototype && 'shape' in proto) {
      throw new ParamError(
        `${what}: the object's prototype is a tensor, so it was probably written { __proto__: … }, which sets the prototype instead of adding an entry named "__proto__"; write { ["__proto__"]: … } or use a Map`,
      );
    }
  }
  const iterable: Iterable<readonly [string, T]> =
    named instanceof Map
      ? (named as ReadonlyMap<string, T>).entries()
      : Symbol.iterator in (named as object)
        ? (named as Iterable<readonly [string, T]>)
        : Object.entries(named as Record<string, T>);
  const seen = new Set<string>();
  for (const entry of iterable) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw new ParamError(`${what} must be [name, tensor] pairs, got ${show(entry)}`);
    }
    const [name, value] = entry as [string, T];
    if (seen.has(name)) throw new ParamError(`${what}: duplicate name ${show(name)}`);
    seen.add(name);
    out.push([name, value]);
  }
  return out;
}

/**
 * A test of whether a typed array shares memory with any of `views` (the same buffer, overlapping bytes): how a
 * backend finds a gradient that is, or is a view of, a parameter's own storage.
 */
export function overlapTest(views: Iterable<ArrayBufferView>): (view: ArrayBufferView) => boolean {
  const byBuffer = new Map<ArrayBufferLike, ArrayBufferView[]>();
  for (const v of views) {
    if (v.byteLength === 0) continue;
    const list = byBuffer.get(v.buffer);
    if (list) list.push(v);
    else byBuffer.set(v.buffer, [v]);
  }
  return (view) =>
    view.byteLength > 0 &&
    (byBuffer.get(view.buffer)?.some((o) => view.byteOffset < o.byteOffset + o.byteLength && o.byteOffset < view.byteOffset + view.byteLength) ?? false);
}
