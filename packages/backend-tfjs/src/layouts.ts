import { CHANNELS_LAST_VIEW, PYTORCH_VIEW, type GroupConfig, type MatrixView } from '@descent/core';

/**
 * Matrix views of tfjs-layers weights. Core's matrix optimizers (Muon, Muon with auxiliary Adam, Shampoo) read a
 * parameter in PyTorch's layouts, output axis first, unless the `matrixView` option says otherwise. TF.js layers
 * store their kernels output axis last: Dense [in, out], Conv1D/2D/3D [k…, in, out], the recurrent layers
 * [in, gates·units] and [units, gates·units]. {@link layersMatrixView} names the view of each, and
 * {@link withMatrixViews} writes those views into param groups, which is what `descentOptimizer` does with the
 * variables it binds.
 *
 * @packageDocumentation
 */

/** A view per parameter, or undefined to keep the group's (PyTorch's by default). */
export type MatrixViewRule = (name: string, shape: readonly number[]) => MatrixView | undefined;

/** Depthwise kernels [kh, kw, in, multiplier]: rows in·multiplier, as PyTorch's depthwise [in·mult, 1, kh, kw]. */
export const DEPTHWISE_VIEW: MatrixView = Object.freeze({ rows: Object.freeze([-2, -1]), cols: Object.freeze([]) });

/**
 * The matrix view of a tfjs-layers weight, from its variable name (`<layer>/<weight>`, with tfjs-layers'
 * uniquifying `_1`, `_2`, … suffix allowed) and rank:
 *
 * - `…/kernel`, `…/recurrent_kernel`, `…/pointwise_kernel` with 2 or more axes: `{ rows: [-1], cols: [-2] }`.
 *   Rows are the last axis (the outputs), columns the input axis then the kernel's spatial axes, which is
 *   PyTorch's layout of the same layer: Linear [out, in], Conv2d [out, in, kh, kw], LSTM [4·h, in]. For
 *   Conv2DTranspose ([kh, kw, out, in]) it gives PyTorch's ConvTranspose2d [in, out, kh, kw], whose first axis
 *   is the input channels.
 * - `…/depthwise_kernel` ([kh, kw, in, multiplier]): `{ rows: [-2, -1], cols: [] }`, the (in·multiplier) ×
 *   (kh·kw) matrix of PyTorch's depthwise [in·mult, 1, kh, kw]. (Shampoo keeps separate in and multiplier
 *   modes, so it matches PyTorch's only for a multiplier of 1.)
 * - anything else (embeddings [vocab, dim] are laid out as in PyTorch, biases and gains have one axis, and
 *   variables not made by tfjs-layers carry no layout in their names): undefined, the group's view.
 */
export function layersMatrixView(name: string, shape: readonly number[]): MatrixView | undefined {
  if (shape.length < 2) return undefined;
  const weight = (name.split('/').pop() ?? '').replace(/_\d+$/, '');
  if (weight === 'depthwise_kernel') return DEPTHWISE_VIEW;
  if (weight === 'kernel' || weight === 'recurrent_kernel' || weight === 'pointwise_kernel') return CHANNELS_LAST_VIEW;
  return undefined;
}

const sameView = (a: MatrixView, b: MatrixView): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Param groups with matrix views: every group (and the default group) is split by the view `rule` gives its
 * parameters, each part taking the group's options plus `matrixView`. Views already chosen are kept: a group
 * whose options set `matrixView` is left as it is, and nothing changes when the spec's own `matrixView`
 * (`specView`) is not PyTorch's. Malformed groups are passed on unchanged so that the optimizer reports them. Group indices shift
 * when a group is split (a group's parts stay together, in its place; new groups for the default group's
 * parameters come last).
 *
 * @example
 * ```ts
 * const shapes = new Map([['dense_Dense1/kernel', [784, 128]], ['dense_Dense1/bias', [128]]]);
 * withMatrixViews(muonRouting(shapes), shapes, layersMatrixView);
 * // [{ params: ['dense_Dense1/bias'], options: { use: 'adam' } },
 * //  { params: ['dense_Dense1/kernel'], options: { use: 'muon', matrixView: { rows: [-1], cols: [-2] } } }]
 * ```
 */
export function withMatrixViews<O extends object>(
  groups: ReadonlyArray<GroupConfig<O>>,
  shapes: ReadonlyMap<string, readonly number[]>,
  rule: MatrixViewRule,
  specView: MatrixView = PYTORCH_VIEW,
): Array<GroupConfig<O>> {
  // A spec with its own view: the user has chosen the layout, and every group without a view inherits it.
  if (!sameView(specView, PYTORCH_VIEW)) return [...groups];
  const viewOf = (name: string): MatrixView | undefined => {
    const shape = shapes.get(name);
    return shape && rule(name, shape);
  };
  /** Names split by view: `undefined` first (the names that keep their view), then each view as first met. */
  const split = (names: readonly string[]): Array<[MatrixView | undefined, string[]]> => {
    const parts: Array<[MatrixView | undefined, string[]]> = [[undefined, []]];
    for (const n of names) {
      const v = viewOf(n);
      const part = v === undefined ? parts[0] : parts.find(([w]) => w !== undefined && sameView(w, v));
      if (part) part[1].push(n);
      else parts.push([v, [n]]);
    }
    return parts.filter(([, ns]) => ns.length > 0);
  };
  const selected = new Set<string>();
  const out: Array<GroupConfig<O>> = [];
  for (const g of groups) {
    const wellFormed = g !== null && typeof g === 'object' && (g.options === undefined || (typeof g.options === 'object' && g.options !== null));
    const names = !wellFormed ? undefined : Array.isArray(g.params) ? (g.params as string[]) : typeof g.params === 'function' ? [...shapes].filter(([n, s]) => (g.params as (n: string, s: readonly number[]) => boolean)(n, s)).map(([n]) => n) : undefined;
    names?.forEach((n) => selected.add(n));
    if (!names || names.length === 0 || (g.options && 'matrixView' in g.options)) {
      out.push(g);
      continue;
    }
    const parts = split(names);
    if (parts.length === 1 && parts[0]![0] === undefined) {
      out.push(g);
      continue;
    }
    for (const [view, ns] of parts) out.push({ params: ns, options: view ? { ...g.options, matrixView: view } : { ...g.options } } as GroupConfig<O>);
  }
  const rest = [...shapes.keys()].filter((n) => !selected.has(n));
  for (const [view, ns] of split(rest)) if (view) out.push({ params: ns, options: { matrixView: view } as unknown as Partial<O> });
  return out;
}
