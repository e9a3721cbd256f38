import { describe, expect, it } from 'vitest';
import {
  adaptiveClip,
  adaptiveClipDefinition,
  centralize,
  centralizeDefinition,
  clipGradNorm,
  clipGradNormDefinition,
  clipGradValue,
  clipGradValueDefinition,
  createReference,
  sgd,
  softClip,
  softClipDefinition,
  specFromJSON,
  tensor,
  transformDefinitions,
  unitLayout,
  withTransforms,
  type AnyTransformDefinition,
  type Tensor,
  type TransformSpec,
} from '../src/index.js';

/**
 * Gradient transforms: each against values computed by hand (written out below), their order of application,
 * and the rule that the caller's gradients and the parameters are never written by a transform.
 */

type Named = Record<string, { shape: number[]; data: number[] }>;

/** Runs a transform's reference directly on copies; returns the transformed gradients as plain arrays. */
function run(def: AnyTransformDefinition, spec: TransformSpec, grads: Named, params: Named = grads): Record<string, number[]> {
  const g = new Map(Object.entries(grads).map(([n, t]) => [n, Float64Array.from(t.data)]));
  const p = new Map<string, Tensor>(Object.entries(params).map(([n, t]) => [n, tensor(t.data, t.shape)]));
  def.apply(spec.options, g, p);
  return Object.fromEntries([...g].map(([n, d]) => [n, [...d]]));
}

const t = (shape: number[], data: number[]) => ({ shape, data });

describe('unit layout', () => {
  it('rows of (shape[0], −1) for ≥ 2-D, the whole tensor otherwise', () => {
    expect(unitLayout([])).toEqual({ units: 1, size: 1 });
    expect(unitLayout([5])).toEqual({ units: 1, size: 5 });
    expect(unitLayout([2, 3])).toEqual({ units: 2, size: 3 });
    expect(unitLayout([4, 3, 2, 2])).toEqual({ units: 4, size: 12 });
    expect(unitLayout([0, 3])).toEqual({ units: 0, size: 0 });
  });
});

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  const grads = { a: t([2], [3, -4]), b: t([1], [12]) };
  it('p = 2: the norm of the per-tensor norms; coefficient maxNorm / (N + 1e-6)', () => {
    // ‖a‖ = 5, ‖b‖ = 12, N = 13.
    const c = 2 / (13 + 1e-6);
    expect(run(clipGradNormDefinition, clipGradNorm({ maxNorm: 2 }), grads)).toEqual({ a: [3 * c, -4 * c], b: [12 * c] });
  });
  it('p = 1 and p = 3', () => {
    const c1 = 2 / (19 + 1e-6); // 3 + 4 + 12
    expect(run(clipGradNormDefinition, clipGradNorm({ maxNorm: 2, normType: 1 }), grads)).toEqual({ a: [3 * c1, -4 * c1], b: [12 * c1] });
    const n3 = (27 + 64 + 1728) ** (1 / 3); // ≈ 12.21
    const out = run(clipGradNormDefinition, clipGradNorm({ maxNorm: 2, normType: 3 }), grads);
    const c3 = 2 / (n3 + 1e-6);
    expect(out.a![0]).toBeCloseTo(3 * c3, 14);
    expect(out.b![0]).toBeCloseTo(12 * c3, 14);
  });
  it('p = ∞ is the largest |g|, given as "inf" or Infinity (stored as "inf")', () => {
    const spec = clipGradNorm({ maxNorm: 6, normType: Infinity });
    expect(spec.options).toEqual({ maxNorm: 6, normType: 'inf' });
    expect(clipGradNorm({ maxNorm: 6, normType: 'inf' })).toEqual(spec);
    const c = 6 / (12 + 1e-6);
    expect(run(clipGradNormDefinition, spec, grads)).toEqual({ a: [3 * c, -4 * c], b: [12 * c] });
    expect(specFromJSON(JSON.parse(JSON.stringify(withTransforms(sgd(), spec)))).transforms).toEqual([spec]);
  });
  it('leaves gradients under the threshold alone, and zeroes them with maxNorm 0', () => {
    expect(run(clipGradNormDefinition, clipGradNorm({ maxNorm: 14 }), grads)).toEqual({ a: [3, -4], b: [12] });
    expect(run(clipGradNormDefinition, clipGradNorm({ maxNorm: 0 }), grads)).toEqual({ a: [0, -0], b: [0] });
  });
  it('propagates a NaN (PyTorch with error_if_nonfinite=False) and turns ∞ into NaN, the rest into 0', () => {
    const nan = run(clipGradNormDefinition, clipGradNorm({ maxNorm: 1 }), { a: t([2], [NaN, 1]), b: t([1], [2]) });
    expect([...nan.a!, ...nan.b!].every(Number.isNaN)).toBe(true);
    const inf = run(clipGradNormDefinition, clipGradNorm({ maxNorm: 1, normType: 'inf' }), { a: t([2], [Infinity, 1]) });
    expect(inf.a![0]).toBeNaN();
    expect(inf.a![1]).toBe(0);
  });
  it('validates its options', () => {
    expect(() => clipGradNorm({ maxNorm: 1, normType: -1 })).toThrow('clipGradNorm: option "normType" must be a number in (0, ∞) or "inf", got -1');
    expect(() => clipGradNorm({ maxNorm: 1, normType: 'max' as 'inf' })).toThrow(
      'clipGradNorm: option "normType" must be a number in (0, ∞) or "inf", got "max"',
    );
    expect(() => specFromJSON({ name: 'sgd', options: {}, transforms: [{ name: 'clipGradNorm', options: { maxNorm: 1, normType: Infinity } }] })).toThrow(
      'sgd: transforms[0] (clipGradNorm): option "normType" must be a number in (0, ∞) or "inf", got Infinity (write "inf": JSON has no Infinity)',
    );
    expect(() => specFromJSON({ name: 'sgd', options: {}, transforms: [{ name: 'clipGradNorm', options: {} }] })).toThrow(
      'sgd: transforms[0] (clipGradNorm): option "maxNorm" is required',
    );
    expect(() => clipGradNorm({ maxNorm: 1, norm_type: 2 } as never)).toThrow(
      'clipGradNorm: unknown option "norm_type" (did you mean "normType"?); known options: maxNorm, normType',
    );
  });
});

describe('clipGradValue (torch.nn.utils.clip_grad_value_)', () => {
  it('clamps every element into [−c, c]; NaN stays NaN, ±∞ becomes ±c', () => {
    const out = run(clipGradValueDefinition, clipGradValue({ clipValue: 1 }), { w: t([2, 3], [-3, 0.2, 5, -0.1, Infinity, -Infinity]), b: t([1], [NaN]) });
    expect(out.w).toEqual([-1, 0.2, 1, -0.1, 1, -1]);
    expect(out.b![0]).toBeNaN();
  });
  it('validates clipValue', () => {
    expect(() => clipGradValue({ clipValue: -1 })).toThrow('clipGradValue: option "clipValue" must be a number in [0, ∞), got -1');
    expect(() => specFromJSON({ name: 'sgd', options: {}, transforms: [{ name: 'clipGradValue' }] })).toThrow(
      'sgd: transforms[0] (clipGradValue): option "clipValue" is required',
    );
  });
});

describe('adaptiveClip (AGC, timm formula)', () => {
  it('clips each row of a matrix against its own parameter norm', () => {
    // Row 0: ‖θ‖ = 5, λ = 0.05 → M = 0.25; ‖g‖ = 0.5 ≥ M → g · 0.25/0.5.
    // Row 1: θ = 0 → max(0, ε = 1e-3)·λ = 5e-5; ‖g‖ = 1e-5 < M → unchanged.
    const params = { w: t([2, 3], [3, 4, 0, 0, 0, 0]) };
    const grads = { w: t([2, 3], [0.3, 0.4, 0, 1e-5, 0, 0]) };
    expect(run(adaptiveClipDefinition, adaptiveClip({ clipping: 0.05 }), grads, params).w).toEqual([0.3 * 0.5, 0.4 * 0.5, 0, 1e-5, 0, 0]);
  });
  it('the ε floor lets a zero unit receive a gradient of norm λ·ε', () => {
    // θ = 0, ‖g‖ = 5 → M = 0.01 · 1e-3 = 1e-5, scale 1e-5 / 5.
    const out = run(adaptiveClipDefinition, adaptiveClip(), { b: t([2], [3, 4]) }, { b: t([2], [0, 0]) });
    const s = (1e-3 * 0.01) / 5;
    expect(out.b).toEqual([3 * s, 4 * s]);
  });
  it('a vector is one unit; a scalar too; a 3-D tensor has shape[0] units', () => {
    // Vector: ‖θ‖ = 3 → M = 0.15 (λ = 0.05); ‖g‖ = 0.2 → scale 0.75.
    expect(run(adaptiveClipDefinition, adaptiveClip({ clipping: 0.05 }), { b: t([3], [0.2, 0, 0]) }, { b: t([3], [1, 2, 2]) }).b).toEqual([
      0.2 * ((3 * 0.05) / 0.2),
      0,
      0,
    ]);
    // Scalar: |θ| = 2, λ = 0.5 → M = 1; g = −4 → −4 · 1/4.
    expect(run(adaptiveClipDefinition, adaptiveClip({ clipping: 0.5 }), { s: t([], [-4]) }, { s: t([], [2]) }).s).toEqual([-1]);
    // [2, 2, 1]: unit 0 = first 2 elements (‖θ‖ = 5, ‖g‖ = 10 → M = 2.5, scale 0.25), unit 1 (‖θ‖ = 1, ‖g‖ = 0.1 < 0.5 → kept).
    const out = run(adaptiveClipDefinition, adaptiveClip({ clipping: 0.5 }), { k: t([2, 2, 1], [6, 8, 0.1, 0]) }, { k: t([2, 2, 1], [3, 4, 1, 0]) });
    expect(out.k).toEqual([6 * 0.25, 8 * 0.25, 0.1, 0]);
  });
  it('clips at the boundary ‖g‖ = M, as timm (scale 1 up to rounding)', () => {
    // ‖θ‖ = 1 (exactly), λ = 0.5 → M = 0.5; g = [0.3, 0.4] → ‖g‖ = 0.5.
    expect(run(adaptiveClipDefinition, adaptiveClip({ clipping: 0.5 }), { b: t([2], [0.3, 0.4]) }, { b: t([2], [1, 0]) }).b).toEqual([
      0.3 * (0.5 / Math.sqrt(0.3 * 0.3 + 0.4 * 0.4)),
      0.4 * (0.5 / Math.sqrt(0.3 * 0.3 + 0.4 * 0.4)),
    ]);
  });
  it('validates its options', () => {
    expect(() => adaptiveClip({ clipping: 0 })).toThrow('adaptiveClip: option "clipping" must be a number in (0, ∞), got 0');
    expect(() => adaptiveClip({ eps: -1 })).toThrow('adaptiveClip: option "eps" must be a number in [0, ∞), got -1');
  });
});

describe('softClip (seed 003: gradient RMS capped at the parameter RMS, per row)', () => {
  it('scales rows whose gradient RMS exceeds the parameter RMS; others are unchanged', () => {
    // Row 0: rms θ = √12.5, rms g = √50 → g · √12.5/√50 = g · 0.5. Row 1: rms g = 0.5 < rms θ = 1 → unchanged.
    const out = run(softClipDefinition, softClip(), { w: t([2, 2], [6, 8, 0.5, -0.5]) }, { w: t([2, 2], [3, 4, 1, -1]) });
    const s = Math.max(Math.sqrt(12.5), 1e-12) / Math.sqrt(50);
    expect(s).toBeCloseTo(0.5, 15);
    expect(out.w).toEqual([6 * s, 8 * s, 0.5, -0.5]);
  });
  it('a zero parameter caps the gradient at RMS ε; a vector is one unit', () => {
    const out = run(softClipDefinition, softClip({ eps: 1e-6 }), { b: t([2], [3, 4]) }, { b: t([2], [0, 0]) });
    const s = 1e-6 / Math.sqrt(12.5);
    expect(out.b).toEqual([3 * s, 4 * s]);
    // Whole vector: rms θ = 1, rms g = √((4 + 0 + 0 + 0)/4) = 1 → not above → unchanged; doubling g → rms 2 → halved.
    expect(run(softClipDefinition, softClip(), { v: t([4], [2, 0, 0, 0]) }, { v: t([4], [1, 1, -1, 1]) }).v).toEqual([2, 0, 0, 0]);
    expect(run(softClipDefinition, softClip(), { v: t([4], [4, 0, 0, 0]) }, { v: t([4], [1, 1, -1, 1]) }).v).toEqual([2, 0, 0, 0]);
  });
  it('a zero gradient stays zero (both RMS floored at ε)', () => {
    expect(run(softClipDefinition, softClip(), { w: t([1, 2], [0, 0]) }, { w: t([1, 2], [0, 0]) }).w).toEqual([0, 0]);
  });
  it('validates eps', () => {
    expect(() => softClip({ eps: 0 })).toThrow('softClip: option "eps" must be a number in (0, ∞), got 0');
  });
});

describe('centralize (gradient centralization)', () => {
  it('removes the mean of each row of a ≥ 2-D gradient', () => {
    expect(run(centralizeDefinition, centralize(), { w: t([2, 3], [1, 2, 3, 4, 4, 4]) }).w).toEqual([-1, 0, 1, 0, 0, 0]);
    // [2, 1, 2]: rows of 2 elements.
    expect(run(centralizeDefinition, centralize(), { k: t([2, 1, 2], [1, 3, -2, 2]) }).k).toEqual([-1, 1, -2, 2]);
  });
  it('leaves vectors and scalars alone; convOnly leaves everything under 4-D alone', () => {
    expect(run(centralizeDefinition, centralize(), { b: t([3], [1, 2, 3]), s: t([], [5]) })).toEqual({ b: [1, 2, 3], s: [5] });
    expect(run(centralizeDefinition, centralize({ convOnly: true }), { w: t([2, 2], [1, 3, 5, 9]) }).w).toEqual([1, 3, 5, 9]);
    expect(run(centralizeDefinition, centralize({ convOnly: true }), { c: t([1, 1, 2, 2], [1, 3, 5, 11]) }).c).toEqual([-4, -2, 0, 6]);
  });
  it('validates its options', () => {
    expect(() => centralize({ convOnly: 1 as unknown as boolean })).toThrow('centralize: option "convOnly" must be true or false, got 1');
  });
});

describe('transforms in the optimizer', () => {
  it('apply in the order given', () => {
    // g = [3, 0.5]. Value first: [1, 0.5], then norm √1.25 > 1 → · 1/(√1.25 + 1e-6).
    // Norm first: · 1/(√9.25 + 1e-6) → [0.986…, 0.164…], then nothing exceeds 1.
    const stepWith = (...ts: TransformSpec[]) => {
      const w = tensor([0, 0]);
      createReference(withTransforms(sgd({ lr: 1 }), ...ts), { w }).step({ w: tensor([3, 0.5]) });
      return [...w.data].map((x) => -x);
    };
    const c1 = 1 / (Math.sqrt(1.25) + 1e-6);
    expect(stepWith(clipGradValue({ clipValue: 1 }), clipGradNorm({ maxNorm: 1 }))).toEqual([1 * c1, 0.5 * c1]);
    const c2 = 1 / (Math.sqrt(9.25) + 1e-6);
    expect(stepWith(clipGradNorm({ maxNorm: 1 }), clipGradValue({ clipValue: 1 }))).toEqual([3 * c2, 0.5 * c2]);
  });
  it('centralize then clip differs from clip then centralize', () => {
    const stepWith = (...ts: TransformSpec[]) => {
      const w = tensor([0, 0], [1, 2]);
      createReference(withTransforms(sgd({ lr: 1 }), ...ts), { w }).step({ w: tensor([4, 0], [1, 2]) });
      return [...w.data].map((x) => -x);
    };
    // centralize: [2, −2], clip to 1: [1, −1].   clip: [1, 0], centralize: [0.5, −0.5].
    expect(stepWith(centralize(), clipGradValue({ clipValue: 1 }))).toEqual([1, -1]);
    expect(stepWith(clipGradValue({ clipValue: 1 }), centralize())).toEqual([0.5, -0.5]);
  });
  it('never writes the caller\'s gradients, and reads the parameters before the update', () => {
    const w = tensor([3, 4, 1, -1], [2, 2]);
    const b = tensor([0.5, 0.5]);
    const spec = withTransforms(
      sgd({ lr: 0.1 }),
      centralize(),
      softClip(),
      adaptiveClip({ clipping: 0.1 }),
      clipGradValue({ clipValue: 2 }),
      clipGradNorm({ maxNorm: 1 }),
    );
    const opt = createReference(spec, { w, b });
    const gw = tensor([6, 8, 0.5, -0.5], [2, 2]);
    const gb = tensor([10, -10]);
    const before = [...gw.data, ...gb.data];
    opt.step({ w: gw, b: gb });
    expect([...gw.data, ...gb.data]).toEqual(before);
    // The same chain applied by hand to copies with the original parameters gives the update.
    const params = { w: t([2, 2], [3, 4, 1, -1]), b: t([2], [0.5, 0.5]) };
    let g: Named = { w: t([2, 2], [6, 8, 0.5, -0.5]), b: t([2], [10, -10]) };
    for (const ts of spec.transforms!) {
      const out = run(transformDefinitions.get(ts.name)!, ts, g, params);
      g = { w: t([2, 2], out.w!), b: t([2], out.b!) };
    }
    expect([...w.data]).toEqual(params.w.data.map((x, i) => x - 0.1 * g.w!.data[i]!));
    expect([...b.data]).toEqual(params.b.data.map((x, i) => x - 0.1 * g.b!.data[i]!));
  });
  it('round-trip through JSON with every transform', () => {
    const spec = withTransforms(
      sgd(),
      clipGradNorm({ maxNorm: 1, normType: 'inf' }),
      clipGradValue({ clipValue: 3 }),
      adaptiveClip(),
      softClip(),
      centralize({ convOnly: true }),
    );
    expect(spec.transforms!.map((x) => x.options)).toEqual([
      { maxNorm: 1, normType: 'inf' },
      { clipValue: 3 },
      { clipping: 0.01, eps: 1e-3 },
      { eps: 1e-12 },
      { convOnly: true },
    ]);
    expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect([...transformDefinitions.keys()]).toEqual(['clipGradNorm', 'clipGradValue', 'adaptiveClip', 'softClip', 'centralize']);
  });
  it('runs only on the gradients present this step', () => {
    // b has no gradient: clipGradNorm's global norm counts only w, and b's parameter does not move.
    const w = tensor([0, 0]);
    const b = tensor([7]);
    createReference(withTransforms(sgd({ lr: 1 }), clipGradNorm({ maxNorm: 1 }), adaptiveClip()), { w, b }).step({ w: tensor([3, 4]) });
    // AGC on w: θ = 0 → M = 1e-5; after clipGradNorm ‖g‖ ≈ 1 → scaled to 1e-5.
    const c = 1 / (5 + 1e-6);
    const gn = Math.sqrt((3 * c) ** 2 + (4 * c) ** 2);
    const s = 1e-5 / gn;
    expect([...w.data]).toEqual([-(3 * c * s), -(4 * c * s)]);
    expect([...b.data]).toEqual([7]);
  });
});
