import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  OptionError,
  createReference,
  createSpec,
  decodeNumber,
  getDefinition,
  householderQ,
  soap,
  soapLayout,
  soapMergeDims,
  soapRefreshBasis,
  tensor,
  type OptionValue,
  type Tensor,
} from '../src/index.js';

/** ‖a − b‖_F / ‖b‖_F. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

const slot = (slots: Record<string, { data: unknown[] }>, name: string): number[] => slots[name]!.data.map((v) => decodeNumber(v)!);

function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, transposeA = false): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (transposeA ? (a[k * n + i] as number) : (a[i * n + k] as number)) * (b[k * n + j] as number);
      out[i * n + j] = s;
    }
  }
  return out;
}

describe('householderQ', () => {
  const a = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 10]);
  it('is torch.linalg.qr\'s Q (LAPACK dgeqrf/dorgqr, float64, printed by torch 1.13)', () => {
    const torchQ = [
      -0.12309149097933281, 0.9045340337332914, 0.4082482904638621, -0.492365963917331, 0.30151134457776285, -0.8164965809277264,
      -0.8616404368553292, -0.3015113445777631, 0.4082482904638634,
    ];
    expect(relDiff(householderQ(a, 3), torchQ)).toBeLessThan(1e-14);
    // A column with a zero tail gets no reflection (τ = 0), so R's diagonal may be negative there, as in LAPACK.
    const b = Float64Array.from([-2, 2, 3, 0, 5, 6, 0, 8, 10]);
    expect(relDiff(householderQ(b, 3), [1, 0, 0, 0, -0.5299989400031799, -0.847998304005088, 0, -0.847998304005088, 0.5299989400031799])).toBeLessThan(1e-14);
  });
  it('is orthogonal, QᵀA is upper triangular, and flipping columns of A does not change Q', () => {
    const q = householderQ(a, 3);
    expect(relDiff(matmul(q, q, 3, true), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-15);
    const r = matmul(q, a, 3, true);
    for (const [i, j] of [[1, 0], [2, 0], [2, 1]] as const) expect(Math.abs(r[i * 3 + j]!)).toBeLessThan(1e-14);
    const flipped = Float64Array.from(a, (x, k) => (k % 3 === 1 ? -x : x));
    expect(householderQ(flipped, 3)).toEqual(q);
  });
  it('refuses a wrong size and an aliased output', () => {
    expect(() => householderQ(a, 2)).toThrow(RangeError);
    expect(() => householderQ(a, 3, a)).toThrow(/alias/);
  });
});

describe('soap', () => {
  it('has nikhilvyas/SOAP\'s defaults and is a matrix optimizer', () => {
    expect(soap().options).toEqual({
      lr: 3e-3,
      betas: [0.95, 0.95],
      shampooBeta: -1,
      eps: 1e-8,
      weightDecay: 0.01,
      preconditionFrequency: 10,
      maxPrecondDim: 10000,
      mergeDims: false,
      precondition1d: false,
      normalizeGrads: false,
      dataFormat: 'channelsFirst',
      correctBias: true,
      nonFinite: 'apply',
    });
    expect(getDefinition('soap').kind).toBe('matrix');
  });

  it('names the option and value of bad input', () => {
    expect(() => soap({ shampooBeta: -0.5 })).toThrow(OptionError);
    expect(() => soap({ shampooBeta: -0.5 })).toThrow(/option "shampooBeta" must be -1 \(use betas\[1\]\) or in \[0, 1\), got -0.5/);
    expect(() => soap({ shampooBeta: 1 })).toThrow(/option "shampooBeta"/);
    expect(() => soap({ preconditionFrequency: 0 })).toThrow(/option "preconditionFrequency"/);
    expect(() => soap({ maxPrecondDim: 1.5 })).toThrow(/option "maxPrecondDim"/);
    expect(() => soap({ dataFormat: 'channels_last' as 'channelsLast' })).toThrow(/option "dataFormat"/);
    expect(() => soap({ betas: [0.9, 1] })).toThrow(/option "betas\[1\]"/);
    expect(() => soap({ precondition_frequency: 3 } as never)).toThrow(/preconditionFrequency/);
  });

  it('merges dimensions as upstream\'s merge_dims', () => {
    expect(soapMergeDims([2, 3, 4], 12)).toEqual([6, 4]);
    expect(soapMergeDims([20000, 3], 10000)).toEqual([20000, 3]);
    expect(soapMergeDims([1, 5], 10000)).toEqual([5]);
    expect(soapMergeDims([], 10000)).toEqual([1]);
    expect(soapMergeDims([3, 3], 4)).toEqual([3, 3]);
    const o = soap({ mergeDims: true, maxPrecondDim: 4, dataFormat: 'channelsLast' }).options;
    expect(soapLayout(o, [2, 3, 1, 2])).toEqual({ shape: [4, 3], permutation: [0, 3, 1, 2], modes: [0, 1] });
    expect(soapLayout(soap().options, [5])).toEqual({ shape: [5], permutation: null, modes: [] });
    expect(soapLayout(soap({ precondition1d: true }).options, [5]).modes).toEqual([0]);
    expect(soapLayout(soap({ maxPrecondDim: 3 }).options, [4, 3]).modes).toEqual([1]);
  });

  it('keeps expAvg, expAvgSq and GG<i>, Q<i> per preconditioned mode', () => {
    const opt = createReference(soap(), { w: tensor(new Float64Array(6), [2, 3]), b: tensor([1, 2]), c: tensor([1], []) });
    const params = opt.exportState().params;
    expect(Object.keys(params.w!.slots)).toEqual(['expAvg', 'expAvgSq', 'GG0', 'Q0', 'GG1', 'Q1']);
    expect(Object.keys(params.b!.slots)).toEqual(['expAvg', 'expAvgSq']);
    expect(Object.keys(params.c!.slots)).toEqual(['expAvg', 'expAvgSq']);
  });

  it('only initialises on the first step: θ unchanged, GG = (1 − β)·GGᵀ, Q its eigenvectors by eigenvalue descending', () => {
    const w = tensor([1, 2, 3, 4], [2, 2]);
    const opt = createReference(soap({ weightDecay: 0.5 }), { w });
    const g = [3, 0, 0, 1];
    opt.step({ w: tensor(g, [2, 2]) });
    expect(Array.from(w.data)).toEqual([1, 2, 3, 4]);
    const slots = opt.exportState().params.w!.slots;
    // G Gᵀ = diag(9, 1) and Gᵀ G = diag(9, 1): eigenvalues 0.45 and 0.05 with the unit vectors (up to sign).
    expect(slot(slots, 'GG0').map((x) => +x.toFixed(12))).toEqual([0.45, 0, 0, 0.05]);
    expect(slot(slots, 'Q0').map(Math.abs)).toEqual([1, 0, 0, 1]);
    expect(slot(slots, 'expAvg')).toEqual([0, 0, 0, 0]);
  });

  it('is AdamW (decay after the step) with a skipped first step on a vector', () => {
    const lr = 0.1;
    const lambda = 0.2;
    const b = tensor([1, -2], [2]);
    const opt = createReference(soap({ lr, weightDecay: lambda, betas: [0.9, 0.99], eps: 1e-3 }), { b });
    opt.step({ b: tensor([5, 5], [2]) });
    const g = [0.5, -1];
    opt.step({ b: tensor(g, [2]) });
    const expected = [1, -2].map((x, i) => {
      const m = 0.1 * g[i]!;
      const v = 0.01 * g[i]! ** 2;
      const stepped = x - ((lr * Math.sqrt(1 - 0.99)) / (1 - 0.9)) * (m / (Math.sqrt(v) + 1e-3));
      return stepped - lr * lambda * stepped;
    });
    expect(relDiff(b.data, expected)).toBeLessThan(1e-15);
  });

  it('treats its modes alike: the transposed problem gives the transposed trajectory (no matrix view needed)', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const [r, c] = [2, 3];
    const transpose = (x: ArrayLike<number>): Float64Array => Float64Array.from({ length: r * c }, (_, k) => x[(k % r) * c + Math.floor(k / r)] as number);
    const w0 = Float64Array.from({ length: r * c }, rand);
    const a = tensor(Float64Array.from(w0), [r, c]);
    const b = tensor(transpose(w0), [c, r]);
    const spec = soap({ lr: 0.05, preconditionFrequency: 2 });
    const oa = createReference(spec, { a });
    const ob = createReference(spec, { b });
    for (let k = 0; k < 9; k++) {
      const g = Float64Array.from({ length: r * c }, rand);
      oa.step({ a: tensor(g, [r, c]) });
      ob.step({ b: tensor(transpose(g), [c, r]) });
    }
    expect(relDiff(transpose(a.data), b.data)).toBeLessThan(1e-13);
  });

  it('refreshes: sorts the basis by diag(QᵀGGQ) descending and orthogonalises GG·Q', () => {
    const gg = Float64Array.from([2, 1, 1, 3]);
    const { order, q } = soapRefreshBasis(gg, [1, 0, 0, 1], 2);
    expect(order).toEqual([1, 0]);
    expect(relDiff(q, householderQ(Float64Array.from([1, 2, 3, 1]), 2))).toBeLessThan(1e-15);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Golden trajectories: tools/golden/soap.py (nikhilvyas/SOAP soap.py @ f42d296 transcribed, torch 1.13 float64).
// Every parameter after every step and every state slot at the end is compared normwise, ‖x − ref‖/‖ref‖ per
// tensor. The tolerance covers the different rounding of LAPACK's eigh/QR and the reference's Jacobi and
// Householder loops; measured worst (printed by the last test): 1.5e-15 on parameters, 3.7e-15 on the state.

interface Fixture {
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly groups?: ReadonlyArray<{ readonly params: string[]; readonly options: Record<string, OptionValue> }>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][] }>;
    readonly state: Readonly<Record<string, { readonly step: number; readonly slots: Record<string, number[]> }>>;
  };
}

const TOLERANCE = 1e-13;

describe('golden: nikhilvyas/SOAP', () => {
  const base = new URL('./fixtures/soap/', import.meta.url);
  const files = readdirSync(base).filter((f) => f.endsWith('.json')).sort();
  const worst = { params: 0, state: 0, abs: 0 };
  it('has fixtures', () => expect(files.length).toBeGreaterThan(8));
  for (const file of files) {
    it(file, () => {
      const fx = JSON.parse(readFileSync(new URL(file, base), 'utf8')) as Fixture;
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const opt = createReference(createSpec(fx.optimizer, fx.options), params, fx.groups ? { groups: fx.groups } : undefined);
      const check = (what: string, kind: 'params' | 'state', actual: ArrayLike<number>, expected: readonly number[]): void => {
        expect(actual.length, what).toBe(expected.length);
        let abs = 0;
        for (let i = 0; i < expected.length; i++) abs = Math.max(abs, Math.abs((actual[i] as number) - (expected[i] as number)));
        const zero = expected.every((x) => x === 0);
        const error = zero ? abs : relDiff(actual, expected);
        worst[kind] = Math.max(worst[kind], error);
        worst.abs = Math.max(worst.abs, abs);
        if (!(error <= TOLERANCE)) expect.fail(`${file} ${what}: normwise error ${error}`);
      };
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        fx.params.forEach((p, i) => check(`step ${k + 1} ${p.name}`, 'params', params[p.name]!.data, fx.expected.steps[k]!.params[i]!));
      });
      const state = opt.exportState().params;
      for (const [name, want] of Object.entries(fx.expected.state)) {
        expect(state[name]!.step).toBe(want.step);
        expect(Object.keys(state[name]!.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [s, data] of Object.entries(want.slots)) check(`state ${name}.${s}`, 'state', slot(state[name]!.slots, s), data);
      }
    });
  }
  it('reports the worst errors', () => {
    console.log(`soap golden: worst normwise error, parameters ${worst.params.toExponential(2)}, state ${worst.state.toExponential(2)}; worst absolute ${worst.abs.toExponential(2)}`);
  });
});
