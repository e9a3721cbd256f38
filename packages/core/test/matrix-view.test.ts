import { describe, expect, it } from 'vitest';
import {
  CHANNELS_LAST_VIEW,
  OptionError,
  ParamError,
  createReference,
  muon,
  muonMatrixShape,
  muonWithAuxAdam,
  permuteAxes,
  resolveMatrixView,
  shampoo,
  tensor,
  type MatrixView,
  type OptimizerSpec,
} from '../src/index.js';

// Helpers written for the tests, independent of the code under test.

/** Seeded values in [−1, 1) (an LCG; only determinism matters). */
function seeded(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

/** Multi-indices of a shape in row-major order. */
function indices(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const d of shape) out = out.flatMap((prefix) => Array.from({ length: d }, (_, i) => [...prefix, i]));
  return out;
}

/** x transposed so that result axis j is axis perm[j] of x (numpy's `x.transpose(perm)`), by explicit offsets. */
function transposed(x: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): { data: Float64Array; shape: number[] } {
  const offset = (idx: readonly number[]): number => idx.reduce((o, i, a) => o * (shape[a] as number) + i, 0);
  const outShape = perm.map((a) => shape[a] as number);
  const data = Float64Array.from(indices(outShape), (j) => {
    const idx = new Array<number>(shape.length);
    perm.forEach((a, m) => (idx[a] = j[m] as number));
    return x[offset(idx)] as number;
  });
  return { data, shape: outShape };
}

const invert = (perm: readonly number[]): number[] => perm.map((_, i) => perm.indexOf(i));

/**
 * Steps a TF.js-layout parameter with `tfSpec` and the same values in PyTorch's layout (`toTorch` its axis order)
 * with `torchSpec` (`steps` seeded gradients); returns the largest |Δ| between the two, back in TF.js's layout,
 * relative to the largest move.
 */
function layoutGap(tfSpec: OptimizerSpec<object>, torchSpec: OptimizerSpec<object>, shape: number[], toTorch: number[], steps = 3): number {
  const n = shape.reduce((a, b) => a * b, 1);
  const w0 = seeded(n, 7);
  const tfOpt = createReference(tfSpec, { w: tensor(Float64Array.from(w0), shape) });
  const t0 = transposed(w0, shape, toTorch);
  const torchOpt = createReference(torchSpec, { w: tensor(Float64Array.from(t0.data), t0.shape) });
  for (let s = 0; s < steps; s++) {
    const g = seeded(n, 100 + s);
    tfOpt.step({ w: tensor(g, shape) });
    const gt = transposed(g, shape, toTorch);
    torchOpt.step({ w: tensor(gt.data, gt.shape) });
  }
  const mine = tfOpt.params.get('w')!.data;
  const back = transposed(torchOpt.params.get('w')!.data, t0.shape, invert(toTorch)).data;
  let gap = 0;
  let moved = 0;
  for (let i = 0; i < n; i++) {
    gap = Math.max(gap, Math.abs((mine[i] as number) - (back[i] as number)));
    moved = Math.max(moved, Math.abs((back[i] as number) - (w0[i] as number)));
  }
  return gap / moved;
}

const conv: [number[], number[]] = [[3, 3, 2, 4], [3, 2, 0, 1]]; // [kh, kw, in, out] → [out, in, kh, kw]
const dense: [number[], number[]] = [[12, 3], [1, 0]]; // [in, out] → [out, in]
const spec = (s: OptimizerSpec<object> | OptimizerSpec<never>): OptimizerSpec<object> => s as OptimizerSpec<object>;

describe('matrix views', () => {
  it('resolve to rows first, listed columns next, the other axes ascending; negative axes count from the end', () => {
    expect(resolveMatrixView(CHANNELS_LAST_VIEW, [3, 3, 2, 4])).toEqual({ order: [3, 2, 0, 1], rowAxes: 1, rows: 4, cols: 18, identity: false });
    expect(resolveMatrixView(CHANNELS_LAST_VIEW, [12, 3])).toMatchObject({ order: [1, 0], rows: 3, cols: 12 });
    expect(resolveMatrixView({ rows: [-2, -1], cols: [] }, [3, 3, 5, 2])).toMatchObject({ order: [2, 3, 0, 1], rows: 10, cols: 9 });
    expect(resolveMatrixView({ rows: [0], cols: [] }, [4, 2, 3])).toMatchObject({ order: [0, 1, 2], identity: true, rows: 4, cols: 6 });
    // Below 2-D there is one order only.
    expect(resolveMatrixView(CHANNELS_LAST_VIEW, [5])).toMatchObject({ order: [0], identity: true });
    expect(muonMatrixShape([3, 3, 2, 4])).toEqual([3, 24]);
    expect(muonMatrixShape([3, 3, 2, 4], CHANNELS_LAST_VIEW)).toEqual([4, 18]);
  });

  it('permuteAxes reorders like numpy transpose, and its inverse undoes it', () => {
    const cases: Array<[number[], MatrixView]> = [
      [[3, 3, 2, 4], CHANNELS_LAST_VIEW],
      [[2, 5], CHANNELS_LAST_VIEW],
      [[2, 3, 4], { rows: [1], cols: [] }],
      [[2, 1, 3, 2], { rows: [-2, 0], cols: [] }],
    ];
    for (const [shape, view] of cases) {
      const x = seeded(shape.reduce((a, b) => a * b, 1), 3);
      const { order } = resolveMatrixView(view, shape);
      const y = permuteAxes(x, shape, order);
      expect(Array.from(y)).toEqual(Array.from(transposed(x, shape, order).data));
      expect(Array.from(permuteAxes(y, shape, order, true))).toEqual(Array.from(x));
    }
  });

  it('muon: a TF.js kernel under { rows: [-1], cols: [-2] } is updated exactly as its PyTorch layout (bitwise, conv and dense)', () => {
    for (const [shape, perm] of [conv, dense]) {
      expect(layoutGap(spec(muon({ matrixView: CHANNELS_LAST_VIEW })), spec(muon()), shape, perm)).toBe(0);
      expect(layoutGap(spec(muon({ matrixView: CHANNELS_LAST_VIEW, adjustLr: 'matchRmsAdamw' })), spec(muon({ adjustLr: 'matchRmsAdamw' })), shape, perm)).toBe(0);
      expect(layoutGap(spec(muonWithAuxAdam({ matrixView: CHANNELS_LAST_VIEW })), spec(muonWithAuxAdam()), shape, perm)).toBe(0);
    }
  });

  it('muon: without the view the same kernels get another update (conv: another matrix; dense: the scale √(12/3) = 2)', () => {
    expect(layoutGap(spec(muon()), spec(muon()), ...conv)).toBeGreaterThan(0.1);
    // Dense [12, 3] read as 12 × 3 is the transpose of the PyTorch matrix: msign commutes with it, only s differs.
    const gap = layoutGap(spec(muon()), spec(muon()), ...dense, 1);
    expect(gap).toBeCloseTo(1, 12); // θ₀ − 2ηO against θ₀ − ηO: the gap is the whole move
  });

  it('shampoo, statistics "code": the view gives the PyTorch update (to rounding), PyTorch\'s own view does not', () => {
    for (const [shape, perm] of [conv, dense]) {
      expect(layoutGap(spec(shampoo({ matrixView: CHANNELS_LAST_VIEW })), spec(shampoo()), shape, perm)).toBeLessThan(1e-12);
      expect(layoutGap(spec(shampoo()), spec(shampoo()), shape, perm)).toBeGreaterThan(1e-3);
    }
  });

  it('shampoo, statistics "paper": layout-equivariant, any view gives the PyTorch update (to rounding)', () => {
    for (const [shape, perm] of [conv, dense]) {
      for (const exponent of ['code', 'paper'] as const) {
        expect(layoutGap(spec(shampoo({ statistics: 'paper', exponent })), spec(shampoo({ statistics: 'paper', exponent })), shape, perm)).toBeLessThan(1e-12);
      }
    }
  });
});

describe('matrixView validation', () => {
  const format = 'must be { rows: [axes…], cols?: [axes…] } with distinct integer axes (negative ones count from the end) and at least one row axis';
  it('a malformed view is refused by the factory, naming the option and the value', () => {
    expect(() => muon({ matrixView: { rows: [0.5], cols: [] } })).toThrow(new OptionError(`muon: option "matrixView" ${format}, got {"rows":[0.5],"cols":[]}`));
    expect(() => shampoo({ matrixView: { rows: [1], cols: [1] } })).toThrow(`shampoo: option "matrixView" ${format}, got {"rows":[1],"cols":[1]}`);
    expect(() => muon({ matrixView: { rows: [] } as never })).toThrow(`option "matrixView" ${format}, got {"rows":[]}`);
    expect(() => muon({ matrixView: [0] as never })).toThrow(`option "matrixView" ${format}, got [0]`);
    expect(() => muon({ matrixView: { rows: [0], columns: [1] } as never })).toThrow(`got {"rows":[0],"columns":[1]}`);
  });

  it('a view naming an axis the parameter lacks, or one axis twice, is refused at creation', () => {
    expect(() => createReference(muon({ matrixView: { rows: [2], cols: [] } }), { w: tensor(new Float64Array(6), [2, 3]) })).toThrow(
      new ParamError('muon: parameter "w" with shape [2, 3]: option "matrixView" {"rows":[2],"cols":[]} names axis 2, which a 2-D parameter does not have (axes are -2 … 1)'),
    );
    expect(() => createReference(shampoo({ matrixView: { rows: [1], cols: [-1] } }), { w: tensor(new Float64Array(6), [2, 3]) })).toThrow(
      'shampoo: parameter "w" with shape [2, 3]: option "matrixView" {"rows":[1],"cols":[-1]} names axis 1 of this 2-D parameter twice',
    );
    // Shampoo's view does not apply below 2-D, so a vector or scalar is accepted under any view.
    expect(() => createReference(shampoo({ matrixView: { rows: [3], cols: [] } }), { b: tensor([1, 2]) })).not.toThrow();
    // muonWithAuxAdam checks the view only on the parameters its Muon half takes.
    expect(() => createReference(muonWithAuxAdam({ matrixView: { rows: [2], cols: [] } }), { b: tensor([1, 2]) })).not.toThrow();
    expect(() => createReference(muonWithAuxAdam({ matrixView: { rows: [2], cols: [] } }), { w: tensor(new Float64Array(6), [2, 3]) })).toThrow(/names axis 2/);
  });

  it('setGroupOptions refuses a view that does not fit, leaving options, parameters and state bitwise as they were', () => {
    const opt = createReference(muon(), { w: tensor(seeded(6, 1), [2, 3]) });
    opt.step({ w: tensor(seeded(6, 2), [2, 3]) });
    const before = JSON.stringify(opt.exportState());
    const param = Array.from(opt.params.get('w')!.data);
    expect(() => opt.setGroupOptions(0, { matrixView: { rows: [-3], cols: [] } })).toThrow(
      new OptionError('muon: group 0: parameter "w" with shape [2, 3]: option "matrixView" {"rows":[-3],"cols":[]} names axis -3, which a 2-D parameter does not have (axes are -2 … 1)'),
    );
    expect(JSON.stringify(opt.exportState())).toBe(before);
    expect(Array.from(opt.params.get('w')!.data)).toEqual(param);
    expect(opt.optionsOf('w').matrixView).toEqual({ rows: [0], cols: [] });
    // A view that fits may be changed between steps (the state layout does not depend on it).
    opt.setGroupOptions(0, { matrixView: CHANNELS_LAST_VIEW });
    expect(opt.optionsOf('w').matrixView).toEqual(CHANNELS_LAST_VIEW);
  });
});
