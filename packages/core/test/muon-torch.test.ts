import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  OptionError,
  ParamError,
  createReference,
  createSpec,
  decodeNumber,
  getDefinition,
  matrix,
  muon,
  muonTorch,
  newtonSchulz,
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

/** Deterministic values in [−1, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

describe('muonTorch', () => {
  it("has torch.optim.Muon's defaults and is registered as a matrix optimizer", () => {
    expect(muonTorch().options).toEqual({
      lr: 1e-3,
      weightDecay: 0.1,
      momentum: 0.95,
      nesterov: true,
      nsA: 3.4445,
      nsB: -4.775,
      nsC: 2.0315,
      eps: 1e-7,
      nsSteps: 5,
      adjustLrFn: 'original',
      nonFinite: 'apply',
    });
    expect(getDefinition('muonTorch').kind).toBe('matrix');
  });

  it('validates its options with messages naming option and value', () => {
    expect(() => muonTorch({ adjustLrFn: 'match_rms_adamw' as never })).toThrow(OptionError);
    expect(() => muonTorch({ momentum: 1 })).toThrow(/option "momentum" must be a number in \[0, 1\), got 1/);
    expect(() => muonTorch({ nsSteps: 100 })).toThrow(/option "nsSteps" .*got 100/);
    expect(() => muonTorch({ nsSteps: 2.5 })).toThrow(/option "nsSteps"/);
    expect(() => muonTorch({ lr: -1 })).toThrow(/option "lr" .*got -1/);
    expect(() => muonTorch({ ns_steps: 3 } as never)).toThrow(/nsSteps/);
  });

  it('refuses parameters that are not 2-D, as PyTorch does', () => {
    const w = (): Tensor => tensor(new Float64Array(6), [2, 3]);
    expect(() => createReference(muonTorch(), { w: w(), bias: tensor([1, 2, 3]) })).toThrow(ParamError);
    expect(() => createReference(muonTorch(), { w: w(), bias: tensor([1, 2, 3]) })).toThrow(/muonTorch: parameter "bias" with shape \[3\]: torch\.optim\.Muon only supports 2D parameters, got 1 dimensions/);
    expect(() => createReference(muonTorch(), { conv: tensor(new Float64Array(8), [2, 2, 2]) })).toThrow(/got 3 dimensions/);
  });

  it('equals muon with the same options where ‖U‖_F ≫ ε (only the ε placement differs)', () => {
    const rand = uniform(7);
    const data = Float64Array.from({ length: 15 }, rand);
    const a = tensor(Float64Array.from(data), [5, 3]);
    const b = tensor(Float64Array.from(data), [5, 3]);
    const options = { lr: 0.05, weightDecay: 0.1, momentum: 0.9 } as const;
    const t = createReference(muonTorch({ ...options, eps: 1e-30, adjustLrFn: 'matchRmsAdamw' }), { w: a });
    const k = createReference(muon({ ...options, nsEps: 1e-30, adjustLr: 'matchRmsAdamw' }), { w: b });
    for (let step = 0; step < 5; step++) {
      const g = Float64Array.from({ length: 15 }, rand);
      t.step({ w: tensor(Float64Array.from(g), [5, 3]) });
      k.step({ w: tensor(Float64Array.from(g), [5, 3]) });
    }
    expect(relDiff(a.data, b.data)).toBeLessThan(1e-15);
  });

  it("matches the docstring's B = μB + g form up to ε: parameters agree, the buffer is the EMA (1 − μ) times it", () => {
    const rand = uniform(11);
    const mu = 0.9;
    const lr = 0.05;
    const theta = tensor(Float64Array.from({ length: 12 }, rand), [3, 4]);
    const manual = Float64Array.from(theta.data);
    const sumBuf = new Float64Array(12);
    const opt = createReference(muonTorch({ lr, momentum: mu, weightDecay: 0 }), { w: theta });
    for (let step = 0; step < 6; step++) {
      const g = Float64Array.from({ length: 12 }, rand);
      opt.step({ w: tensor(Float64Array.from(g), [3, 4]) });
      const u = new Float64Array(12);
      for (let i = 0; i < 12; i++) {
        sumBuf[i] = mu * (sumBuf[i] as number) + (g[i] as number);
        u[i] = (g[i] as number) + mu * (sumBuf[i] as number);
      }
      const o = newtonSchulz(matrix(u, 3, 4), { eps: 1e-7, normalize: 'clamp' }).data;
      for (let i = 0; i < 12; i++) manual[i] = (manual[i] as number) - lr * (o[i] as number);
    }
    expect(relDiff(theta.data, manual)).toBeLessThan(1e-13);
    const buf = (opt.exportState().params.w!.slots.momentumBuffer!.data as unknown[]).map((v) => decodeNumber(v)!);
    expect(relDiff(buf, Array.from(sumBuf, (x) => x * (1 - mu)))).toBeLessThan(1e-14);
  });
});

// Golden trajectories: tools/golden/muon_torch.py (PyTorch 2.9's _single_tensor_muon transcribed into torch 1.13
// ops, float64, no bfloat16). Every parameter after every step and the momentum buffer at the end are compared
// normwise, ‖x − ref‖/‖ref‖ per tensor. Not bitwise: torch's matmuls are OpenBLAS's dgemm (another summation
// order) and its norm another algorithm; measured worst over the committed fixtures: 6.2e-16.

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

const TOLERANCE = 1e-14;

describe('golden: PyTorch 2.9 torch.optim.Muon', () => {
  const base = new URL('./fixtures/muon-torch/', import.meta.url);
  const files = readdirSync(base).filter((f) => f.endsWith('.json')).sort();
  it('has fixtures', () => expect(files.length).toBeGreaterThan(5));
  let worst = 0;
  for (const file of files) {
    it(file, () => {
      const fx = JSON.parse(readFileSync(new URL(file, base), 'utf8')) as Fixture;
      const params: Record<string, Tensor> = {};
      for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
      const opt = createReference(createSpec(fx.optimizer, fx.options), params, fx.groups ? { groups: fx.groups } : undefined);
      const check = (what: string, actual: ArrayLike<number>, expected: readonly number[]): void => {
        expect(actual.length, what).toBe(expected.length);
        const zero = expected.every((x) => x === 0);
        const error = zero ? Math.max(0, ...Array.from(actual, Math.abs)) : relDiff(actual, expected);
        worst = Math.max(worst, error);
        if (!(error <= TOLERANCE)) expect.fail(`${file} ${what}: normwise error ${error}`);
      };
      fx.grads.forEach((stepGrads, k) => {
        const grads: Record<string, Tensor | null> = {};
        fx.params.forEach((p, i) => {
          const g = stepGrads[i];
          grads[p.name] = g ? tensor(Float64Array.from(g), p.shape) : null;
        });
        opt.step(grads);
        fx.params.forEach((p, i) => check(`step ${k + 1} ${p.name}`, params[p.name]!.data, fx.expected.steps[k]!.params[i]!));
      });
      const state = opt.exportState().params;
      for (const [name, want] of Object.entries(fx.expected.state)) {
        expect(state[name]!.step).toBe(want.step);
        expect(Object.keys(state[name]!.slots).sort()).toEqual(Object.keys(want.slots).sort());
        for (const [s, data] of Object.entries(want.slots)) {
          check(`state ${name}.${s}`, (state[name]!.slots[s]!.data as unknown[]).map((v) => decodeNumber(v)!), data);
        }
      }
      if (process.env.DESCENT_SHOW_TOLERANCE) console.log(`muonTorch golden worst so far: ${worst.toExponential(2)}`);
    });
  }
});
