import { describe, expect, it } from 'vitest';
import {
  createReference,
  getDefinition,
  isEmbeddingOrHead,
  muon,
  muonRouting,
  muonWithAuxAdam,
  OptionError,
  ParamError,
  tensor,
  type Tensor,
} from '../src/index.js';
import {
  CUBIC_COEFFICIENTS,
  MUON_COEFFICIENTS,
  at,
  frobeniusNorm,
  matmul,
  matrix,
  newtonSchulz,
  polarFactor,
  singularValues,
  symmetricEigen,
  transpose,
  type Matrix,
} from '../src/linalg/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Helpers written for the tests, independent of the code under test.

/** Deterministic standard normal samples (mulberry32 + Box–Muller). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const next = gaussian(seed);
  return matrix(Float64Array.from({ length: rows * cols }, next), rows, cols);
}

/** φᵏ(x) for φ(x) = ax + bx³ + cx⁵, iterated by hand. */
function quintic(x: number, [a, b, c]: readonly [number, number, number], steps: number): number {
  for (let i = 0; i < steps; i++) x = a * x + b * x * x * x + c * x * x * x * x * x;
  return x;
}

/** min and max of φᵏ over [lo, 1], on a fine grid plus the end points. */
function band(lo: number, coefficients: readonly [number, number, number], steps: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  const n = 100_000;
  for (let i = 0; i <= n; i++) {
    const y = quintic(lo + ((1 - lo) * i) / n, coefficients, steps);
    min = Math.min(min, y);
    max = Math.max(max, y);
  }
  return [min, max];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const copy = (t: Tensor): Float64Array => Float64Array.from(t.data);

// ---------------------------------------------------------------------------------------------------------------

describe('linalg helpers', () => {
  it('symmetricEigen: S = V·diag(λ)·Vᵀ with V orthogonal, λ descending', () => {
    const g = randomMatrix(12, 12, 1);
    const s = matmul(g, g.transpose(1, 0)); // symmetric positive semi-definite
    const { values, vectors } = symmetricEigen(s);
    for (let i = 1; i < values.length; i++) expect(values[i - 1]).toBeGreaterThanOrEqual(values[i] as number);
    const vtv = matmul(vectors.transpose(1, 0), vectors);
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) expect(at(vtv, i, j)).toBeCloseTo(i === j ? 1 : 0, 12);
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) {
        let sum = 0;
        for (let k = 0; k < 12; k++) sum += at(vectors, i, k) * (values[k] as number) * at(vectors, j, k);
        expect(Math.abs(sum - at(s, i, j))).toBeLessThan(1e-12 * frobeniusNorm(s));
      }
    }
  });

  it('singularValues of a matrix with known SVD (orthonormal columns scaled by 3, 2, 0.5)', () => {
    // Columns: (1,1,1,1)/2, (1,−1,1,−1)/2, (1,1,−1,−1)/2 — orthonormal — times 3, 2, 0.5; the 4 × 3 matrix and
    // its transpose have singular values 3, 2, 0.5.
    const q = [
      [1, 1, 1],
      [1, -1, 1],
      [1, 1, -1],
      [1, -1, -1],
    ];
    const sigma = [3, 2, 0.5];
    const data = q.flatMap((row) => row.map((x, j) => (x / 2) * (sigma[j] as number)));
    const a = matrix(data, 4, 3);
    for (const m of [a, a.transpose(1, 0)]) {
      const s = singularValues(m);
      expect(s).toHaveLength(3);
      for (let i = 0; i < 3; i++) expect(s[i]).toBeCloseTo(sigma[i] as number, 13);
    }
  });

  it('polarFactor P of a wide G: P·Pᵀ = I and G·Pᵀ symmetric positive definite (G = (G·Gᵀ)^½·P)', () => {
    const g = randomMatrix(6, 10, 2);
    const p = polarFactor(g);
    const ppt = matmul(p, p.transpose(1, 0));
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(at(ppt, i, j)).toBeCloseTo(i === j ? 1 : 0, 12);
    const h = matmul(g, p.transpose(1, 0));
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) expect(at(h, i, j)).toBeCloseTo(at(h, j, i), 12);
    expect(symmetricEigen(h).values[5]).toBeGreaterThan(0);
    // Tall: the factor of Gᵀ is the transpose of the factor of G.
    expect(maxAbsDiff(polarFactor(transpose(g)).data, transpose(p).data)).toBeLessThan(1e-12);
  });
});

describe('Newton–Schulz', () => {
  it("Keller's claim: φ⁵ of his coefficients maps [0.01, 1] into about (0.68, 1.13)", () => {
    const [lo, hi] = band(0.01, MUON_COEFFICIENTS, 5);
    expect(lo).toBeGreaterThan(0.68);
    expect(lo).toBeLessThan(0.69);
    expect(hi).toBeGreaterThan(1.13);
    expect(hi).toBeLessThan(1.14);
  });

  it.each([
    [32, 64],
    [64, 32],
    [48, 48],
  ])('singular values of NS₅(G), G random %i × %i, lie in φ⁵([σmin/‖G‖, 1]) and equal φ⁵ of those of G/‖G‖', (rows, cols) => {
    const g = randomMatrix(rows, cols, rows * 100 + cols);
    const eps = 1e-7;
    const normalized = singularValues(g).map((s) => s / (frobeniusNorm(g) + eps));
    const smallest = normalized[normalized.length - 1] as number;
    expect(smallest).toBeGreaterThan(0); // full rank, so the band below is meaningful
    const [lo, hi] = band(smallest, MUON_COEFFICIENTS, 5);
    const out = singularValues(newtonSchulz(g));
    for (const s of out) {
      expect(s).toBeGreaterThanOrEqual(lo - 1e-9);
      expect(s).toBeLessThanOrEqual(hi + 1e-9);
    }
    // Sharper: NS acts on each singular value by the scalar map (φ⁵ is not monotone, hence the sort).
    const expected = normalized.map((s) => quintic(s, MUON_COEFFICIENTS, 5)).sort((x, y) => y - x);
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-9);
  });

  it('the classic cubic (1.5, −0.5, 0) converges to the polar factor U·Vᵀ as steps grow', () => {
    const g = randomMatrix(12, 20, 7);
    const polar = polarFactor(g);
    const errors = [1, 2, 4, 8, 12, 16].map((steps) => {
      const x = newtonSchulz(g, { coefficients: CUBIC_COEFFICIENTS, steps });
      return frobeniusNorm(matrix(x.data.map((v, i) => v - (polar.data[i] as number)), 12, 20));
    });
    // Strictly decreasing until the error reaches rounding level (~1e-14), where it only has to stay there.
    for (let i = 1; i < errors.length; i++) {
      if ((errors[i - 1] as number) > 1e-12) expect(errors[i]).toBeLessThan(errors[i - 1] as number);
      else expect(errors[i]).toBeLessThan(1e-12);
    }
    expect(errors[0]).toBeGreaterThan(1); // far from orthogonal after one step…
    const converged = newtonSchulz(g, { coefficients: CUBIC_COEFFICIENTS, steps: 40 });
    expect(maxAbsDiff(converged.data, polar.data)).toBeLessThan(1e-12); // …exact after enough
  });

  it("Keller's quintic does not converge: many steps stay in the band, away from U·Vᵀ", () => {
    const g = randomMatrix(12, 20, 7);
    const out = singularValues(newtonSchulz(g, { steps: 50 }));
    expect(Math.max(...out.map((s) => Math.abs(s - 1)))).toBeGreaterThan(0.1);
    for (const s of out) expect(s).toBeGreaterThan(0.6);
  });

  it('transposition symmetry NS(Gᵀ) = NS(G)ᵀ, for a dense transpose and for a transposed view', () => {
    const g = randomMatrix(24, 40, 3);
    const expected = transpose(newtonSchulz(g));
    expect(newtonSchulz(transpose(g)).shape).toEqual([40, 24]);
    expect([...newtonSchulz(transpose(g)).data]).toEqual([...expected.data]); // same arithmetic, bit for bit
    expect([...newtonSchulz(g.transpose(1, 0)).data]).toEqual([...expected.data]);
    const square = randomMatrix(16, 16, 4); // no transposition inside: equal up to rounding
    expect(maxAbsDiff(newtonSchulz(transpose(square)).data, transpose(newtonSchulz(square)).data)).toBeLessThan(1e-12);
  });
});

describe('muon', () => {
  it("has Keller Jordan's defaults and is registered as a matrix optimizer", () => {
    expect(muon().options).toEqual({
      lr: 0.02,
      momentum: 0.95,
      nesterov: true,
      weightDecay: 0,
      nsA: 3.4445,
      nsB: -4.775,
      nsC: 2.0315,
      nsSteps: 5,
      nsEps: 1e-7,
      adjustLr: 'original',
      matrixView: { rows: [0], cols: [] },
      nonFinite: 'apply',
    });
    expect(getDefinition('muon').kind).toBe('matrix');
    expect(() => muon({ adjustLr: 'match_rms_adamw' as never })).toThrow(OptionError);
    expect(() => muon({ momentum: 1 })).toThrow(/option "momentum" must be a number in \[0, 1\), got 1/);
    expect(() => muon({ nsSteps: 2.5 })).toThrow(/option "nsSteps"/);
  });

  it('refuses 1-D and 0-D parameters, pointing to AdamW and muonWithAuxAdam', () => {
    const message = /muon: parameter "bias" with shape \[3\]: Muon orthogonalizes matrices and needs a parameter with at least 2 dimensions, got 1; optimize biases, gains and scalars with AdamW instead, e\.g\. with muonWithAuxAdam/;
    expect(() => createReference(muon(), { w: tensor(new Float64Array(6), [2, 3]), bias: tensor([1, 2, 3]) })).toThrow(ParamError);
    expect(() => createReference(muon(), { w: tensor(new Float64Array(6), [2, 3]), bias: tensor([1, 2, 3]) })).toThrow(message);
    expect(() => createReference(muon(), { gain: tensor([1], []) })).toThrow(/shape \[\]: .* got 0;/);
  });

  /**
   * Hand case for the shape scale: G = c·[q₁ q₂] with orthonormal columns q₁ = (1, …, 1)/√m, q₂ = (1, −1, …)/√m has
   * both singular values c, so X₀ = G/(c√2 + ε) has both singular values s = c/(c√2 + ε) and NS₅(G) = φ⁵(s)·G/c.
   * With momentum 0 the orthogonalized matrix is NS₅(G) itself, and θ₁ = θ₀(1 − ηλ) − η·scale·φ⁵(s)·G/c.
   */
  function orthonormalColumnsCase(m: number, c: number): { g: Float64Array; unit: Float64Array; s: number } {
    const unit = new Float64Array(m * 2);
    for (let i = 0; i < m; i++) {
      unit[i * 2] = 1 / Math.sqrt(m);
      unit[i * 2 + 1] = (i % 2 === 0 ? 1 : -1) / Math.sqrt(m);
    }
    return { g: unit.map((x) => c * x), unit, s: c / (c * Math.SQRT2 + 1e-7) };
  }

  it.each([
    ['original, tall 8 × 2: √(8/2) = 2', [8, 2], 'original', 2],
    ['matchRmsAdamw, tall 8 × 2: 0.2·√8', [8, 2], 'matchRmsAdamw', 0.2 * Math.sqrt(8)],
    ['original, 3-D 6 × 1 × 2 viewed as 6 × 2: √3', [6, 1, 2], 'original', Math.sqrt(3)],
  ] as const)('shape scale, %s', (_label, shape, adjustLr, scale) => {
    const m = shape[0];
    const { g, unit, s } = orthonormalColumnsCase(m, 3);
    const theta0 = Float64Array.from({ length: m * 2 }, (_, i) => 0.1 * i - 0.5);
    const w = tensor(Float64Array.from(theta0), shape);
    const lr = 0.02;
    const lambda = 0.1;
    const opt = createReference(muon({ lr, momentum: 0, weightDecay: lambda, adjustLr }), { w });
    opt.step({ w: tensor(g, shape) });
    const phi5 = quintic(s, MUON_COEFFICIENTS, 5);
    const expected = theta0.map((t, i) => t * (1 - lr * lambda) - lr * scale * phi5 * (unit[i] as number));
    expect(maxAbsDiff(w.data, expected)).toBeLessThan(1e-13);
  });

  it('shape scale of a wide matrix is 1 (original) and 0.2·√max(m, n) (matchRmsAdamw)', () => {
    // Transpose of the 8 × 2 case: G = c·[q₁ q₂]ᵀ, NS₅(G) = φ⁵(s)·G/c.
    const { g, unit, s } = orthonormalColumnsCase(8, 2);
    const gT = transpose(matrix(g, 8, 2)).data;
    const unitT = transpose(matrix(unit, 8, 2)).data;
    const phi5 = quintic(s, MUON_COEFFICIENTS, 5);
    for (const [adjustLr, scale] of [
      ['original', 1],
      ['matchRmsAdamw', 0.2 * Math.sqrt(8)],
    ] as const) {
      const w = tensor(new Float64Array(16), [2, 8]);
      createReference(muon({ lr: 0.1, momentum: 0, adjustLr }), { w }).step({ w: tensor(Float64Array.from(gT), [2, 8]) });
      expect(maxAbsDiff(w.data, unitT.map((u) => -0.1 * scale * phi5 * u))).toBeLessThan(1e-13);
    }
  });

  it('views ≥3-D parameters as (dim0, −1): same trajectory as the 2-D reshape', () => {
    for (const [shape, flat] of [
      [[4, 2, 3], [4, 6]],
      [[3, 2, 2, 2], [3, 8]],
      [[6, 1, 2], [6, 2]],
    ] as const) {
      const n = flat[0] * flat[1];
      const init = randomMatrix(1, n, 11).data;
      const w3 = tensor(Float64Array.from(init), shape);
      const w2 = tensor(Float64Array.from(init), flat);
      const o3 = createReference(muon({ weightDecay: 0.01 }), { w: w3 });
      const o2 = createReference(muon({ weightDecay: 0.01 }), { w: w2 });
      for (let step = 0; step < 3; step++) {
        const g = randomMatrix(1, n, 20 + step).data;
        o3.step({ w: tensor(Float64Array.from(g), shape) });
        o2.step({ w: tensor(Float64Array.from(g), flat) });
      }
      expect([...w3.data]).toEqual([...w2.data]);
      expect(o3.exportState().params.w!.slots.momentumBuffer!.shape).toEqual([...shape]);
    }
  });

  /**
   * Momentum hand case on a 1 × 2 parameter. A 1 × n matrix u has one singular value ‖u‖, so
   * NS₅(u) = φ⁵(‖u‖/(‖u‖ + ε))·u/‖u‖. β = 0.9, g₁ = (3, 4), g₂ = (0, 1):
   *   B₁ = 0.1·g₁ = (0.3, 0.4);   Nesterov U₁ = 0.1·g₁ + 0.9·B₁ = (0.57, 0.76);   plain U₁ = B₁
   *   B₂ = 0.9·B₁ + 0.1·g₂ = (0.27, 0.46);   Nesterov U₂ = 0.1·g₂ + 0.9·B₂ = (0.243, 0.514);   plain U₂ = B₂
   */
  const momentumCase = {
    g: [
      [3, 4],
      [0, 1],
    ],
    buffers: [
      [0.3, 0.4],
      [0.27, 0.46],
    ],
    nesterov: [
      [0.57, 0.76],
      [0.243, 0.514],
    ],
  };

  function expectedRowStep(u: readonly number[], lr: number, scale: number): number[] {
    const norm = Math.hypot(...u);
    const phi5 = quintic(norm / (norm + 1e-7), MUON_COEFFICIENTS, 5);
    return u.map((x) => -lr * scale * phi5 * (x / norm));
  }

  it.each([true, false])('momentum buffer and Nesterov blend on a 1 × 2 hand case (nesterov %s)', (nesterov) => {
    const lr = 0.05;
    const w = tensor([1, -1], [1, 2]);
    const opt = createReference(muon({ lr, momentum: 0.9, nesterov }), { w });
    let theta = [1, -1];
    for (let t = 0; t < 2; t++) {
      const g = tensor(momentumCase.g[t] as number[], [1, 2]);
      const before = copy(g);
      opt.step({ w: g });
      expect([...g.data]).toEqual([...before]); // the gradient is never written (Keller's lerp_ writes p.grad)
      const u = (nesterov ? momentumCase.nesterov[t] : momentumCase.buffers[t]) as number[];
      theta = theta.map((x, i) => x + (expectedRowStep(u, lr, 1)[i] as number));
      expect(maxAbsDiff(w.data, theta)).toBeLessThan(1e-14);
      const buffer = opt.exportState().params.w!.slots.momentumBuffer!.data;
      expect(maxAbsDiff(buffer.map(Number), momentumCase.buffers[t] as number[])).toBeLessThan(1e-15);
    }
  });

  it('a 2 × 1 parameter moves like the 1 × 2 one, times the shape scale √2', () => {
    const w = tensor([0, 0], [2, 1]);
    const opt = createReference(muon({ lr: 0.05, momentum: 0.9 }), { w });
    opt.step({ w: tensor([3, 4], [2, 1]) });
    expect(maxAbsDiff(w.data, expectedRowStep(momentumCase.nesterov[0] as number[], 0.05, Math.SQRT2))).toBeLessThan(1e-14);
  });

  it('nsA/nsB/nsC and nsSteps reach the iteration (cubic, 40 steps → exact polar factor)', () => {
    const g = randomMatrix(5, 7, 9);
    const w = tensor(new Float64Array(35), [5, 7]);
    const [nsA, nsB, nsC] = CUBIC_COEFFICIENTS;
    createReference(muon({ lr: 1, momentum: 0, nsA, nsB, nsC, nsSteps: 40 }), { w }).step({ w: tensor(Float64Array.from(g.data), [5, 7]) });
    expect(maxAbsDiff(w.data, polarFactor(g).data.map((x) => -x))).toBeLessThan(1e-12);
  });

  it('exported state imports into a fresh optimizer and continues identically', () => {
    const init = randomMatrix(4, 3, 30).data;
    const a = tensor(Float64Array.from(init), [4, 3]);
    const first = createReference(muon(), { a });
    first.step({ a: tensor(Float64Array.from(randomMatrix(4, 3, 31).data), [4, 3]) });
    const b = tensor(Float64Array.from(a.data), [4, 3]);
    const second = createReference(muon(), { a: b });
    second.importState(JSON.parse(JSON.stringify(first.exportState())));
    const g = randomMatrix(4, 3, 32).data;
    first.step({ a: tensor(Float64Array.from(g), [4, 3]) });
    second.step({ a: tensor(Float64Array.from(g), [4, 3]) });
    expect([...b.data]).toEqual([...a.data]);
  });
});

describe('muonWithAuxAdam', () => {
  const shapes = {
    'embed.weight': [10, 4],
    'blocks.0.attn.weight': [4, 4],
    'blocks.0.attention.output.dense.weight': [4, 4],
    'blocks.0.bias': [4],
    scale: [],
    'lm_head.weight': [4, 10],
    'output.weight': [4, 10],
  } as const;

  function params(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    let seed = 40;
    for (const [name, shape] of Object.entries(shapes)) {
      const n = shape.reduce((x: number, y: number) => x * y, 1);
      out[name] = tensor(Float64Array.from(randomMatrix(1, n, seed++).data), shape);
    }
    return out;
  }

  const slotNames = (opt: { exportState(): { params: Record<string, { slots: Record<string, unknown> }> } }): Record<string, string[]> =>
    Object.fromEntries(Object.entries(opt.exportState().params).map(([n, p]) => [n, Object.keys(p.slots)]));

  it("has Keller Jordan's defaults for both halves", () => {
    const o = muonWithAuxAdam().options;
    expect(o).toMatchObject({ use: 'auto', lr: 0.02, momentum: 0.95, weightDecay: 0, adamLr: 3e-4, adamBetas: [0.9, 0.95], adamEps: 1e-10, adamWeightDecay: 0 });
    expect(() => muonWithAuxAdam({ use: 'sgd' as never })).toThrow(/option "use" must be one of "auto", "muon", "adam", got "sgd"/);
    expect(() => muonWithAuxAdam({ adam_lr: 1 } as never)).toThrow(/unknown option "adam_lr" \(did you mean "adamLr"\?\)/);
  });

  it('auto routing: ≥2-D to Muon (momentumBuffer), 0-D and 1-D to Adam (expAvg, expAvgSq), names ignored', () => {
    const opt = createReference(muonWithAuxAdam(), params());
    const muonSlots = ['momentumBuffer'];
    const adamSlots = ['expAvg', 'expAvgSq'];
    expect(slotNames(opt)).toEqual({
      'embed.weight': muonSlots,
      'blocks.0.attn.weight': muonSlots,
      'blocks.0.attention.output.dense.weight': muonSlots,
      'blocks.0.bias': adamSlots,
      scale: adamSlots,
      'lm_head.weight': muonSlots,
      'output.weight': muonSlots,
    });
  });

  it('isEmbeddingOrHead matches embeddings and output layers by path segment', () => {
    for (const name of ['embed.weight', 'model.embed_tokens.weight', 'tok_embeddings.weight', 'transformer.wte.weight', 'transformer.wpe.weight', 'lm_head.weight', 'head.weight', 'output.weight', 'classifier.weight']) {
      expect(isEmbeddingOrHead(name)).toBe(true);
    }
    for (const name of ['blocks.0.attn.weight', 'blocks.0.attention.output.dense.weight', 'layers.3.mlp.fc1.weight', 'header_proj.weight']) {
      expect(isEmbeddingOrHead(name)).toBe(false);
    }
  });

  it('muonRouting builds an Adam group (named + <2-D) and a Muon group, in parameter order', () => {
    const groups = muonRouting(shapes, { adamOptions: { adamLr: 0.008 }, muonOptions: { lr: 0.05, use: 'adam' } });
    expect(groups).toEqual([
      { params: ['embed.weight', 'blocks.0.bias', 'scale', 'lm_head.weight', 'output.weight'], options: { adamLr: 0.008, use: 'adam' } },
      { params: ['blocks.0.attn.weight', 'blocks.0.attention.output.dense.weight'], options: { lr: 0.05, use: 'muon' } },
    ]);
    // The brief's predicate also matches the inner "output" layer; tensors work as well as shapes.
    const custom = muonRouting(params(), { adam: (name) => /embed|head|lm_head|output/.test(name) });
    expect(custom.map((g) => g.params)).toEqual([
      ['embed.weight', 'blocks.0.attention.output.dense.weight', 'blocks.0.bias', 'scale', 'lm_head.weight', 'output.weight'],
      ['blocks.0.attn.weight'],
    ]);
    expect(muonRouting({ b: [3] })).toEqual([{ params: ['b'], options: { use: 'adam' } }]);
    expect(muonRouting(new Map([['w', [3, 3]]]))).toEqual([{ params: ['w'], options: { use: 'muon' } }]);
  });

  it('groups from muonRouting give each parameter the slots of its route', () => {
    const p = params();
    const opt = createReference(muonWithAuxAdam(), p, { groups: muonRouting(p) });
    const names = slotNames(opt);
    expect(names['embed.weight']).toEqual(['expAvg', 'expAvgSq']);
    expect(names['lm_head.weight']).toEqual(['expAvg', 'expAvgSq']);
    expect(names['blocks.0.attn.weight']).toEqual(['momentumBuffer']);
    expect(opt.groups().map((g) => g.options.use)).toEqual(['adam', 'muon']);
    expect(() => opt.setGroupOptions(0, { use: 'muon' })).toThrow(/alters the state layout/);
  });

  it('use: "muon" on a 1-D parameter is refused with a message naming the option', () => {
    expect(() => createReference(muonWithAuxAdam(), { b: tensor([1, 2]) }, { groups: [{ params: ['b'], options: { use: 'muon' } }] })).toThrow(
      /muonWithAuxAdam: parameter "b" with shape \[2\]: its group has use: "muon", but Muon orthogonalizes matrices and needs a parameter with at least 2 dimensions, got 1; give it use: "adam" or "auto"/,
    );
  });

  it("the Muon half is exactly muon with the same options", () => {
    const init = randomMatrix(6, 4, 50).data;
    const a = tensor(Float64Array.from(init), [6, 4]);
    const b = tensor(Float64Array.from(init), [6, 4]);
    const options = { lr: 0.03, momentum: 0.9, weightDecay: 0.05, adjustLr: 'matchRmsAdamw' } as const;
    const hybrid = createReference(muonWithAuxAdam(options), { w: a });
    const plain = createReference(muon(options), { w: b });
    for (let t = 0; t < 3; t++) {
      const g = randomMatrix(6, 4, 51 + t).data;
      hybrid.step({ w: tensor(Float64Array.from(g), [6, 4]) });
      plain.step({ w: tensor(Float64Array.from(g), [6, 4]) });
    }
    expect([...a.data]).toEqual([...b.data]);
  });

  it("the Adam half follows Keller's adam_update with decoupled weight decay (hand case, two steps)", () => {
    // η = 0.01, λ = 0.1, (β₁, β₂) = (0.9, 0.95), ε = 1e-10, θ₀ = (1, −2), g₁ = (0.5, −4), g₂ = (1, 0).
    // Step 1: m = 0.1·g₁, v = 0.05·g₁², m̂ = g₁, v̂ = g₁²: θ₁ = θ₀·(1 − 0.001) − 0.01·g₁/(|g₁| + ε).
    // Step 2: m = 0.09·g₁ + 0.1·g₂ = (0.145, −0.36), v = 0.0475·g₁² + 0.05·g₂² = (0.061875, 0.76),
    //         m̂ = m/(1 − 0.9²) = m/0.19, v̂ = v/(1 − 0.95²) = v/0.0975: θ₂ = θ₁·(1 − 0.001) − 0.01·m̂/(√v̂ + ε).
    const w = tensor([1, -2]);
    const opt = createReference(muonWithAuxAdam({ adamLr: 0.01, adamWeightDecay: 0.1 }), { w });
    opt.step({ w: tensor([0.5, -4]) });
    const theta1 = [1 * 0.999 - (0.01 * 0.5) / (0.5 + 1e-10), -2 * 0.999 - (0.01 * -4) / (4 + 1e-10)];
    expect(maxAbsDiff(w.data, theta1)).toBeLessThan(1e-15);
    opt.step({ w: tensor([1, 0]) });
    const theta2 = [
      (theta1[0] as number) * 0.999 - (0.01 * (0.145 / 0.19)) / (Math.sqrt(0.061875 / 0.0975) + 1e-10),
      (theta1[1] as number) * 0.999 - (0.01 * (-0.36 / 0.19)) / (Math.sqrt(0.76 / 0.0975) + 1e-10),
    ];
    expect(maxAbsDiff(w.data, theta2)).toBeLessThan(1e-15);
    const state = opt.exportState().params.w!;
    expect(state.step).toBe(2);
    expect(maxAbsDiff(state.slots.expAvg!.data.map(Number), [0.145, -0.36])).toBeLessThan(1e-15);
    expect(maxAbsDiff(state.slots.expAvgSq!.data.map(Number), [0.061875, 0.76])).toBeLessThan(1e-15);
  });

  it('one step over a whole model touches every parameter by its route and keeps gradients intact', () => {
    const p = params();
    const before = Object.fromEntries(Object.entries(p).map(([n, t]) => [n, copy(t)]));
    const grads = Object.fromEntries(Object.entries(p).map(([n, t], i) => [n, tensor(Float64Array.from(randomMatrix(1, t.data.length, 60 + i).data), t.shape)]));
    const gradCopies = Object.fromEntries(Object.entries(grads).map(([n, t]) => [n, copy(t)]));
    const opt = createReference(muonWithAuxAdam({ adamLr: 1e-3 }), p, { groups: muonRouting(p) });
    opt.step(grads);
    for (const [name, t] of Object.entries(p)) {
      expect([...grads[name]!.data]).toEqual([...gradCopies[name]!]);
      const moved = maxAbsDiff(t.data, before[name]!);
      if (t.shape.length < 2 || isEmbeddingOrHead(name)) {
        // Adam's first step moves every element by η·g/(|g| + ε) ≈ η.
        expect(moved).toBeCloseTo(1e-3, 9);
      } else {
        expect(moved).toBeGreaterThan(0);
      }
    }
  });
});
