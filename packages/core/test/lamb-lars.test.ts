import { describe, expect, it } from 'vitest';
import { adam, createReference, createSpec, lamb, lars, sgd, tensor, type OptimizerSpec, type Tensor } from '../src/index.js';

/**
 * LAMB (torch-optimizer's `Lamb`) and LARS (timm's `Lars`). Expected values are worked out by hand from the
 * formulas in the comments, or follow from invariants of the trust ratio (step length η·min(‖θ‖, c) for LAMB,
 * γ·η·‖θ‖ for LARS without decay), or from another optimizer the options reduce to.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any optimizer's spec
type AnySpec = OptimizerSpec<any>;

/** Runs `grads.length` steps on named parameters and returns the optimizer (parameters are updated in place). */
function run(spec: AnySpec, params: Record<string, number[]>, grads: Array<Record<string, number[]>>) {
  const tensors: Record<string, Tensor> = {};
  for (const [n, v] of Object.entries(params)) tensors[n] = tensor(v);
  const opt = createReference(spec, tensors);
  for (const g of grads) {
    const gt: Record<string, Tensor> = {};
    for (const [n, v] of Object.entries(g)) gt[n] = tensor(v);
    opt.step(gt);
  }
  return { opt, p: (name: string) => [...tensors[name]!.data] };
}

const norm = (x: readonly number[]) => Math.sqrt(x.reduce((s, xi) => s + xi * xi, 0));
const sub = (a: readonly number[], b: readonly number[]) => a.map((ai, i) => ai - (b[i] as number));

function expectClose(actual: readonly number[], expected: readonly number[], digits = 12) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i] as number, digits));
}

/** |a − e| ≤ tol·|e| for each element. */
function expectRel(actual: number, expected: number, tol = 1e-12) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.abs(expected));
}

describe('lamb', () => {
  it('has torch-optimizer’s defaults and validates its options', () => {
    expect(lamb().options).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-6,
      weightDecay: 0,
      clampValue: 10,
      adam: false,
      debias: false,
      nonFinite: 'apply',
    });
    expect(() => lamb({ clampValue: -1 })).toThrow('lamb: option "clampValue" must be a number in [0, ∞), got -1');
    expect(() => createSpec('lamb', { clamp_value: 5 })).toThrow('lamb: unknown option "clamp_value" (did you mean "clampValue"?)');
    expect(() => createSpec('lamb', { debias: 'yes' })).toThrow('lamb: option "debias" must be true or false, got "yes"');
    const opt = createReference(lamb(), { w: tensor([1, 2]) });
    opt.step({ w: tensor([1, 1]) });
    expect(Object.keys(opt.exportState().params.w!.slots)).toEqual(['expAvg', 'expAvgSq']);
  });

  it('one step by hand: θ = (3, 4), g = (1, −2), lr 0.1, ε 0', () => {
    // m = 0.1·g = (0.1, −0.2); v = 0.001·g² = (0.001, 0.004); √v = (√0.001, 2√0.001)
    // u = m/√v = (0.1/√0.001, −0.2/(2√0.001)) = (√10, −√10); ‖u‖ = √20
    // ‖θ‖ = 5 (< clamp 10), r = 5/√20 = √5/2
    // Δθ = −0.1·(√5/2)·√10·(1, −1) = −(√50/20)·(1, −1) = −(√2/4)·(1, −1)
    const { p } = run(lamb({ lr: 0.1, eps: 0 }), { w: [3, 4] }, [{ w: [1, -2] }]);
    expectClose(p('w'), [3 - Math.SQRT2 / 4, 4 + Math.SQRT2 / 4]);
  });

  it('two steps by hand with weight decay: betas (0.5, 0.75), λ 0.5, lr 0.1, ε 0', () => {
    const spec = lamb({ lr: 0.1, betas: [0.5, 0.75], weightDecay: 0.5, eps: 0 });
    // Step 1, θ0 = (0.6, 0.8) (‖θ0‖ = 1), g1 = (2, −1):
    //   m1 = 0.5·g1 = (1, −0.5); v1 = 0.25·g1² = (1, 0.25); m1/√v1 = (1, −1)
    //   u1 = (1, −1) + 0.5·(0.6, 0.8) = (1.3, −0.6); ‖u1‖ = √(1.69 + 0.36) = √2.05; r1 = 1/√2.05
    //   θ1 = θ0 − 0.1·u1/√2.05
    const s1 = Math.sqrt(2.05);
    const theta1 = [0.6 - 0.13 / s1, 0.8 + 0.06 / s1];
    const one = run(spec, { w: [0.6, 0.8] }, [{ w: [2, -1] }]);
    expectClose(one.p('w'), theta1);
    // Step 2, g2 = (−2, 1):
    //   m2 = 0.5·m1 + 0.5·g2 = (−0.5, 0.25); v2 = 0.75·v1 + 0.25·g2² = (1.75, 0.4375) = (7/4, 7/16)
    //   m2/√v2 = (−0.5·2/√7, 0.25·4/√7) = (−1/√7, 1/√7)
    //   u2 = (−1/√7, 1/√7) + 0.5·θ1; r2 = ‖θ1‖/‖u2‖ (‖θ1‖ < 10); θ2 = θ1 − 0.1·r2·u2
    const r7 = 1 / Math.sqrt(7);
    const u2 = [-r7 + 0.5 * (theta1[0] as number), r7 + 0.5 * (theta1[1] as number)];
    const r2 = norm(theta1) / norm(u2);
    const two = run(spec, { w: [0.6, 0.8] }, [{ w: [2, -1] }, { w: [-2, 1] }]);
    expectClose(two.p('w'), [(theta1[0] as number) - 0.1 * r2 * (u2[0] as number), (theta1[1] as number) - 0.1 * r2 * (u2[1] as number)]);
    const slots = two.opt.exportState().params.w!.slots;
    expect(slots.expAvg!.data).toEqual([-0.5, 0.25]); // exact binary fractions
    expect(slots.expAvgSq!.data).toEqual([1.75, 0.4375]);
  });

  it('debias scales the step by √(1−β₂ᵗ)/(1−β₁ᵗ) (steps 1 and 2 by hand)', () => {
    const spec = lamb({ lr: 0.1, eps: 0, debias: true });
    // Step 1: u = √10·(1, −1) as in the first case, s1 = √0.001/0.1 = 1/√10, so the step of length
    // 0.1·‖θ‖ = 0.5 shrinks to 0.5/√10: Δθ = −(√2/4)/√10·(1, −1) = −1/(4√5)·(1, −1).
    const d1 = 1 / (4 * Math.sqrt(5));
    const theta1 = [3 - d1, 4 + d1];
    expectClose(run(spec, { w: [3, 4] }, [{ w: [1, -2] }]).p('w'), theta1);
    // Step 2, same gradient: m2 = 0.19·(1, −2), v2 = 0.001999·(1, 4), so u2 = (0.19/√0.001999)·(1, −1) still
    // points along (1, −1); r2·‖u2‖ = ‖θ1‖ and s2 = √(1 − 0.999²)/(1 − 0.9²) = √0.001999/0.19.
    // Each coordinate moves by 0.1·s2·‖θ1‖/√2.
    const s2 = Math.sqrt(0.001999) / 0.19;
    const d2 = (0.1 * s2 * norm(theta1)) / Math.SQRT2;
    expectClose(run(spec, { w: [3, 4] }, [{ w: [1, -2] }, { w: [1, -2] }]).p('w'), [(theta1[0] as number) - d2, (theta1[1] as number) + d2]);
  });

  it('ε is added to √v, outside the square root', () => {
    // betas (0, 0): m = g, v = g², u = g/(|g| + ε). g = (1, −3), ε 1: u = (1/2, −3/4), ‖u‖ = √13/4,
    // r = 5/(√13/4) = 20/√13, Δθ = −0.1·(20/√13)·(1/2, −3/4) = (−1/√13, 1.5/√13).
    // (ε inside the root would give u = (1/√2, −3/√10), another direction.)
    const r13 = 1 / Math.sqrt(13);
    expectClose(run(lamb({ lr: 0.1, betas: [0, 0], eps: 1 }), { w: [3, 4] }, [{ w: [1, -3] }]).p('w'), [3 - r13, 4 + 1.5 * r13]);
  });

  it('debias corrects the step size, not √v: ε meets the uncorrected √v', () => {
    // betas (0.5, 0.75), t = 1: s = √0.25/0.5 = 1, m = 0.5·g, √v = 0.5·|g|; g = (1, −3), ε 0.5:
    // u = (0.5/(0.5 + 0.5), −1.5/(1.5 + 0.5)) = (0.5, −0.75); adam → r = 1: Δθ = −0.1·(0.5, −0.75).
    // (The paper's m̂/(√v̂ + ε) = g/(|g| + 0.5) would give (2/3, −6/7).)
    const spec = lamb({ lr: 0.1, betas: [0.5, 0.75], eps: 0.5, adam: true, debias: true });
    expectClose(run(spec, { w: [3, 4] }, [{ w: [1, -3] }]).p('w'), [2.95, 4.075]);
  });

  it('adam: true fixes the ratio at 1 whatever ‖θ‖', () => {
    // u = √10·sign(g) on the first step (ε 0), so Δθ = −0.1·√10·sign(g) for any θ.
    const d = 0.1 * Math.sqrt(10);
    for (const theta of [[3, 4], [30, 40], [0.003, 0.004]]) {
      const { p } = run(lamb({ lr: 0.1, eps: 0, adam: true }), { w: theta }, [{ w: [1, -2] }]);
      expectClose(p('w'), [(theta[0] as number) - d, (theta[1] as number) + d]);
    }
  });

  it('adam: true with debias and ε 0 is torch.optim.Adam with ε 0 (5 steps)', () => {
    const grads = [[0.5, -1, 2], [0.25, 1.5, -0.5], [-1, 0.1, 0.3], [2, -2, 1], [0.7, 0.2, -0.9]];
    const theta = [1, -2, 0.5];
    const a = run(lamb({ lr: 0.05, eps: 0, adam: true, debias: true }), { w: theta }, grads.map((g) => ({ w: g })));
    const b = run(adam({ lr: 0.05, eps: 0 }), { w: theta }, grads.map((g) => ({ w: g })));
    a.p('w').forEach((x, i) => expectRel(x, b.p('w')[i] as number, 1e-13));
  });

  it('trust ratio is 1 when ‖θ‖ = 0', () => {
    // u = √10·(1, −1), r = 1: Δθ = −0.1·√10·(1, −1)
    const d = 0.1 * Math.sqrt(10);
    expectClose(run(lamb({ lr: 0.1, eps: 0 }), { w: [0, 0] }, [{ w: [1, -2] }]).p('w'), [-d, d]);
  });

  it('trust ratio is 1 when the Adam step is 0 (no 0/0, no NaN)', () => {
    // g = 0: m = v = 0, u = 0/(0 + ε) = 0, ‖u‖ = 0 → r = 1 and θ stays put; 5/0·0 would be NaN.
    const { p } = run(lamb({ lr: 0.1 }), { w: [3, 4] }, [{ w: [0, 0] }, { w: [0, 0] }]);
    expect(p('w')).toEqual([3, 4]);
  });

  it('weight decay enters the Adam step before its norm: g = 0 gives θ ← (1 − lr)·θ', () => {
    // g = 0 → u = λθ, ‖u‖ = λ‖θ‖, r = ‖θ‖/(λ‖θ‖) = 1/λ, Δθ = −lr·(1/λ)·λθ = −lr·θ (‖θ‖ = 5 < 10).
    expectClose(run(lamb({ lr: 0.1, weightDecay: 0.01 }), { w: [3, 4] }, [{ w: [0, 0] }]).p('w'), [2.7, 3.6]);
  });

  it('clamps the weight norm at clampValue', () => {
    // ‖θ‖ = 50, u along (1, −1): the step has length lr·min(50, c) along −(1, −1)/√2.
    const theta = [30, 40];
    const grads = [{ w: [1, -2] }];
    for (const [clampValue, length] of [[10, 0.1 * 10], [100, 0.1 * 50], [50, 0.1 * 50]] as const) {
      const d = length / Math.SQRT2;
      expectClose(run(lamb({ lr: 0.1, eps: 0, clampValue }), { w: theta }, grads).p('w'), [30 - d, 40 + d]);
    }
    // clampValue 0: the clamped norm is 0, so the ratio is 1: Δθ = −0.1·√10·(1, −1).
    const d0 = 0.1 * Math.sqrt(10);
    expectClose(run(lamb({ lr: 0.1, eps: 0, clampValue: 0 }), { w: theta }, grads).p('w'), [30 - d0, 40 + d0]);
  });

  it('step length is lr·min(‖θ‖, clampValue), invariant to the scale of θ up to the clamp', () => {
    const unit = [0.48, 0.6, 0.64]; // ‖unit‖ = 1
    const g = [0.3, -5, 2];
    for (const c of [1e-3, 0.1, 1, 5, 9.99, 10, 10.01, 100, 1e4]) {
      const theta = unit.map((x) => c * x);
      const { p } = run(lamb({ lr: 0.01 }), { w: theta }, [{ w: g }]);
      // θ − Δθ rounds each element to within 2⁻⁵³·|θ_i|, so the measured length is only good to about 2⁻⁵³·c·√3.
      const length = norm(sub(p('w'), theta));
      expect(Math.abs(length - 0.01 * Math.min(c, 10))).toBeLessThanOrEqual(1e-14 * (0.01 * Math.min(c, 10)) + 8 * 2 ** -53 * c);
    }
  });

  it('the step does not depend on the scale of the gradient (ε 0)', () => {
    const theta = [1, -2, 0.5];
    const base = run(lamb({ lr: 0.01, eps: 0, weightDecay: 0.1 }), { w: theta }, [{ w: [0.3, -5, 2] }, { w: [1, 1, -1] }]).p('w');
    for (const k of [1e-4, 1e3]) {
      const scaled = run(lamb({ lr: 0.01, eps: 0, weightDecay: 0.1 }), { w: theta }, [{ w: [0.3 * k, -5 * k, 2 * k] }, { w: [k, k, -k] }]).p('w');
      scaled.forEach((x, i) => expectRel(x, base[i] as number, 1e-13));
    }
  });

  it('norms are per parameter: each tensor gets its own ratio', () => {
    // Same gradient, so the same u for all three; step lengths 0.1·min(‖θ‖, 10): 0.5, 0.05 and 1 (clamped).
    const { p } = run(
      lamb({ lr: 0.1, eps: 0 }),
      { a: [3, 4], b: [0.3, 0.4], c: [30, 40] },
      [{ a: [1, -2], b: [1, -2], c: [1, -2] }],
    );
    expectRel(norm(sub(p('a'), [3, 4])), 0.5);
    expectRel(norm(sub(p('b'), [0.3, 0.4])), 0.05);
    expectRel(norm(sub(p('c'), [30, 40])), 1);
  });

  it('a parameter without a gradient keeps its state, and does not enter another parameter’s norm', () => {
    const { opt, p } = run(lamb({ lr: 0.1, eps: 0 }), { a: [3, 4], b: [300, 400] }, [{ a: [1, -2] }]);
    expectClose(p('a'), [3 - Math.SQRT2 / 4, 4 + Math.SQRT2 / 4]);
    expect(p('b')).toEqual([300, 400]);
    expect(opt.exportState().params.b!.step).toBe(0);
  });
});

describe('lars', () => {
  it('has the documented defaults and validates its options', () => {
    expect(lars().options).toEqual({
      lr: 1,
      momentum: 0.9,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      trustCoefficient: 0.001,
      eps: 1e-8,
      trustClip: false,
      alwaysAdapt: true,
      nonFinite: 'apply',
    });
    expect(() => lars({ nesterov: true, momentum: 0 })).toThrow(
      'lars: option "nesterov" requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0',
    );
    expect(() => lars({ trustCoefficient: -0.001 })).toThrow('lars: option "trustCoefficient" must be a number in [0, ∞), got -0.001');
    expect(() => createSpec('lars', { trust_coefficient: 0.01 })).toThrow('lars: unknown option "trust_coefficient" (did you mean "trustCoefficient"?)');
    const withMomentum = createReference(lars(), { w: tensor([1, 2]) });
    withMomentum.step({ w: tensor([1, 1]) });
    expect(Object.keys(withMomentum.exportState().params.w!.slots)).toEqual(['momentumBuffer']);
    const plain = createReference(lars({ momentum: 0 }), { w: tensor([1, 2]) });
    plain.step({ w: tensor([1, 1]) });
    expect(Object.keys(plain.exportState().params.w!.slots)).toEqual([]);
  });

  // θ0 = (3, 4) (‖θ0‖ = 5), g1 = (0.6, −0.8) (‖g1‖ = 1), λ 0.1, η 0.01, ε 0:
  //   r1 = 0.01·5/(1 + 0.1·5) = 0.05/1.5 = 1/30
  //   d1 = r1·(g1 + λθ0) = ((0.6, −0.8) + (0.3, 0.4))/30 = (0.9, −0.4)/30 = (0.03, −1/75)
  const base = { weightDecay: 0.1, trustCoefficient: 0.01, eps: 0 } as const;
  const d1 = [0.03, -1 / 75];

  it('two steps by hand with momentum 0.9, lr 1', () => {
    const spec = lars({ ...base, lr: 1, momentum: 0.9 });
    // Step 1: b1 = d1, θ1 = θ0 − 1·b1 = (2.97, 4 + 1/75)
    const theta1 = [2.97, 4 + 1 / 75];
    const one = run(spec, { w: [3, 4] }, [{ w: [0.6, -0.8] }]);
    expectClose(one.p('w'), theta1);
    expectClose([...one.opt.exportState().params.w!.slots.momentumBuffer!.data] as number[], d1);
    // Step 2, g2 = (0, 1) (‖g2‖ = 1): r2 = 0.01·‖θ1‖/(1 + 0.1·‖θ1‖), d2 = r2·((0, 1) + 0.1·θ1),
    //   b2 = 0.9·b1 + d2, θ2 = θ1 − b2
    const n1 = norm(theta1);
    const r2 = (0.01 * n1) / (1 + 0.1 * n1);
    const d2 = [r2 * (0 + 0.1 * (theta1[0] as number)), r2 * (1 + 0.1 * (theta1[1] as number))];
    const b2 = [0.9 * (d1[0] as number) + (d2[0] as number), 0.9 * (d1[1] as number) + (d2[1] as number)];
    const two = run(spec, { w: [3, 4] }, [{ w: [0.6, -0.8] }, { w: [0, 1] }]);
    expectClose(two.p('w'), sub(theta1, b2));
    expectClose([...two.opt.exportState().params.w!.slots.momentumBuffer!.data] as number[], b2);
  });

  it('nesterov: θ1 = θ0 − lr·(d1 + μ·d1)', () => {
    const { p } = run(lars({ ...base, lr: 1, momentum: 0.9, nesterov: true }), { w: [3, 4] }, [{ w: [0.6, -0.8] }]);
    expectClose(p('w'), [3 - 1.9 * 0.03, 4 + 1.9 / 75]);
  });

  it('dampening scales the scaled gradient entering the buffer after the first step', () => {
    // λ 0, ε 0, η 0.01, lr 1, μ 0.9, τ 0.5, g = (0.6, −0.8) twice (‖g‖ = 1), θ0 = (3, 4):
    //   r1 = 0.01·5/1 = 0.05, d1 = 0.05·g = (0.03, −0.04), b1 = d1, θ1 = θ0 − b1 = (2.97, 4.04)
    //   r2 = 0.01·‖θ1‖, d2 = r2·g, b2 = 0.9·b1 + 0.5·d2, θ2 = θ1 − b2
    const g = [0.6, -0.8];
    const theta1 = [2.97, 4.04];
    const r2 = 0.01 * norm(theta1);
    const b2 = [0.9 * 0.03 + 0.5 * r2 * 0.6, 0.9 * -0.04 + 0.5 * r2 * -0.8];
    const { p } = run(lars({ lr: 1, momentum: 0.9, dampening: 0.5, trustCoefficient: 0.01, eps: 0 }), { w: [3, 4] }, [{ w: g }, { w: g }]);
    expectClose(p('w'), sub(theta1, b2));
  });

  it('trustClip makes the effective rate min(r, lr)', () => {
    // lr 0.01 < r = 1/30: r/lr = 10/3 clips to 1, so d = g + λθ = (0.9, −0.4): θ1 = θ0 − 0.01·(0.9, −0.4)
    const clipped = run(lars({ ...base, lr: 0.01, momentum: 0, trustClip: true }), { w: [3, 4] }, [{ w: [0.6, -0.8] }]);
    expectClose(clipped.p('w'), [3 - 0.009, 4 + 0.004]);
    // lr 0.1 > r: r/lr = 1/3 stays, effective rate 0.1/3 = 1/30 = r, the same step as unclipped with lr 1.
    const unclipped = run(lars({ ...base, lr: 0.1, momentum: 0, trustClip: true }), { w: [3, 4] }, [{ w: [0.6, -0.8] }]);
    expectClose(unclipped.p('w'), [3 - 0.03, 4 + 1 / 75]);
  });

  it('ratio is 1 when ‖θ‖ = 0 or ‖g‖ = 0, and the weight decay still applies', () => {
    // θ = 0: r = 1, d = g + λ·0 = g, θ1 = −0.5·g
    expectClose(run(lars({ ...base, lr: 0.5, momentum: 0 }), { w: [0, 0] }, [{ w: [0.6, -0.8] }]).p('w'), [-0.3, 0.4]);
    // g = 0: r = 1, d = λθ = (0.3, 0.4), θ1 = θ − 0.5·d = (2.85, 3.8)
    expectClose(run(lars({ ...base, lr: 0.5, momentum: 0 }), { w: [3, 4] }, [{ w: [0, 0] }]).p('w'), [2.85, 3.8]);
    // g = 0 and λ = 0: nothing moves, no NaN.
    expect(run(lars({ lr: 0.5 }), { w: [3, 4] }, [{ w: [0, 0] }, { w: [0, 0] }]).p('w')).toEqual([3, 4]);
  });

  it('alwaysAdapt: false with weightDecay 0 is torch SGD with momentum (timm’s default)', () => {
    const grads = [[0.5, -1, 2], [0.25, 1.5, -0.5], [-1, 0.1, 0.3]].map((g) => ({ w: g }));
    const a = run(lars({ lr: 0.1, momentum: 0.9, dampening: 0.2, alwaysAdapt: false }), { w: [1, -2, 0.5] }, grads);
    const b = run(sgd({ lr: 0.1, momentum: 0.9, dampening: 0.2 }), { w: [1, -2, 0.5] }, grads);
    expect(a.p('w')).toEqual(b.p('w'));
    // …but adapts a group with weight decay: same result as the hand case's first step.
    const c = run(lars({ ...base, lr: 1, alwaysAdapt: false }), { w: [3, 4] }, [{ w: [0.6, -0.8] }]);
    expectClose(c.p('w'), [2.97, 4 + 1 / 75]);
  });

  it('first step length is lr·η·‖θ‖ whatever the gradient scale (λ 0, ε 0)', () => {
    const theta = [0.48, 0.6, 0.64].map((x) => 7 * x); // ‖θ‖ = 7
    for (const k of [1e-6, 1, 1e6]) {
      const { p } = run(lars({ lr: 2, eps: 0 }), { w: theta }, [{ w: [0.3 * k, -5 * k, 2 * k] }]);
      expectRel(norm(sub(p('w'), theta)), 2 * 0.001 * 7);
    }
  });

  it('norms are per parameter: each tensor gets its own local rate', () => {
    // λ 0, ε 0, same unit gradient: step lengths lr·η·‖θ‖ = 1·0.001·(5, 0.5).
    const { p } = run(lars({ lr: 1, eps: 0, momentum: 0 }), { a: [3, 4], b: [0.3, 0.4] }, [{ a: [0.6, -0.8], b: [0.6, -0.8] }]);
    expectRel(norm(sub(p('a'), [3, 4])), 0.005);
    expectRel(norm(sub(p('b'), [0.3, 0.4])), 0.0005);
  });
});
