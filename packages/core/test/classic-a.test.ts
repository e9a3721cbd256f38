import { describe, expect, it } from 'vitest';
import {
  OptionError,
  adadelta,
  adagrad,
  adam,
  adamw,
  createReference,
  createSpec,
  decodeNumber,
  definitions,
  nag,
  rmsprop,
  sgd,
  specFromJSON,
  tensor,
  type OptimizerSpec,
} from '../src/index.js';

/*
 * Classic optimizers, part A: NAG, Adagrad, Adadelta, RMSprop, AdamW.
 * Expected values are worked out by hand in the comments next to them (the expressions repeat that arithmetic),
 * or follow from closed forms and invariants; none was copied from the code's output.
 */

type Vec = readonly number[];

/** |a − e| ≤ rel·max(1, |e|) elementwise. */
function expectClose(actual: ArrayLike<number>, expected: Vec, rel = 1e-14): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= rel * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, rel ${rel})`);
    }
  }
}

/** Creates a reference optimizer over one parameter `w`. */
function make<O extends object>(spec: OptimizerSpec<O>, theta0: Vec) {
  const w = tensor([...theta0]);
  return { w, opt: createReference(spec, { w }) };
}

/** A state slot of `w`, decoded to numbers. */
function slot(opt: { exportState(): ReturnType<ReturnType<typeof createReference>['exportState']> }, name: string): number[] {
  const s = opt.exportState().params.w!.slots[name];
  if (!s) throw new Error(`no slot ${name}`);
  return s.data.map((x) => decodeNumber(x) as number);
}

/** Runs the given gradient sequence; returns final parameters and every slot. */
function run<O extends object>(spec: OptimizerSpec<O>, theta0: Vec, grads: readonly Vec[]) {
  const { w, opt } = make(spec, theta0);
  for (const g of grads) opt.step({ w: tensor([...g]) });
  const slots: Record<string, number[]> = {};
  for (const name of Object.keys(opt.exportState().params.w!.slots)) slots[name] = slot(opt, name);
  return { theta: [...w.data], slots };
}

/** A fixed, non-trivial gradient sequence (no zeros, mixed signs and magnitudes). */
function gradSeq(steps: number, n: number): Vec[] {
  const out: Vec[] = [];
  for (let t = 0; t < steps; t++) out.push(Array.from({ length: n }, (_, i) => Math.sin(1.7 * t + 0.9 * i + 0.3) * (1 + i) + 0.05 * (i + 1)));
  return out;
}

describe('nag', () => {
  it('two hand-computed steps, gradients given at the look-ahead point', () => {
    // lr η = 0.1, γ = 0.5, θ₀ = [1, −2], v₀ = 0.
    // step 1: g₁ = [2, 4]; v₁ = 0.5·0 + 0.1·g₁ = [0.2, 0.4]; θ₁ = θ₀ − v₁ = [0.8, −2.4]
    //         look-ahead φ₁ = θ₁ − 0.5·v₁ = [0.7, −2.6]
    // step 2: g₂ = [1, −2]; v₂ = 0.5·[0.2, 0.4] + 0.1·[1, −2] = [0.2, 0]; θ₂ = [0.8 − 0.2, −2.4 − 0] = [0.6, −2.4]
    const { w, opt } = make(nag({ lr: 0.1, momentum: 0.5 }), [1, -2]);
    const grads = [
      [2, 4],
      [1, -2],
    ];
    const points: number[][] = [];
    for (const g of grads) {
      opt.step((point) => {
        points.push([...point.get('w')!.data]);
        return { w: tensor(g) };
      });
    }
    expectClose(points[0]!, [1, -2]);
    expectClose(points[1]!, [0.7, -2.6]);
    expectClose(w.data, [0.6, -2.4]);
    expectClose(slot(opt, 'velocity'), [0.2, 0]);
  });

  it('step(grads) is step(closure) with the same gradients', () => {
    const g = gradSeq(5, 3);
    const a = make(nag({ lr: 0.05, momentum: 0.8 }), [1, 2, 3]);
    const b = make(nag({ lr: 0.05, momentum: 0.8 }), [1, 2, 3]);
    for (const gt of g) {
      a.opt.step({ w: tensor([...gt]) });
      b.opt.step(() => ({ w: tensor([...gt]) }));
    }
    expect([...a.w.data]).toEqual([...b.w.data]);
  });

  it('weight decay is taken at the look-ahead point: λ·(θ − γv)', () => {
    // η = 0.1, γ = 0.5, λ = 0.5, θ₀ = 1.
    // step 1: φ₀ = 1; g = 2 + 0.5·1 = 2.5; v₁ = 0.25; θ₁ = 0.75; φ₁ = 0.75 − 0.5·0.25 = 0.625
    // step 2: g = 1 + 0.5·0.625 = 1.3125; v₂ = 0.5·0.25 + 0.1·1.3125 = 0.25625; θ₂ = 0.75 − 0.25625 = 0.49375
    // (decay at θ instead would give g = 1 + 0.5·0.75 = 1.375, θ₂ = 0.4875)
    const r = run(nag({ lr: 0.1, momentum: 0.5, weightDecay: 0.5 }), [1], [[2], [1]]);
    expectClose(r.theta, [0.49375]);
    expectClose(r.slots.velocity!, [0.25625]);
  });

  it('momentum 0 is plain gradient descent', () => {
    const g = gradSeq(6, 4);
    expect(run(nag({ lr: 0.03, momentum: 0 }), [1, -1, 2, 0.5], g).theta).toEqual(run(sgd({ lr: 0.03 }), [1, -1, 2, 0.5], g).theta);
  });

  // The requirement: NAG's look-ahead points φ_t = θ_t − γv_t are the iterates of PyTorch's Nesterov SGD
  // with buffer b = v/η (derivation in nagDefinition's TSDoc). Quadratic J(x) = ½xᵀAx − bᵀx, A = [[3, 1], [1, 2]].
  for (const weightDecay of [0, 0.1]) {
    it(`traces sgd({ nesterov: true }) under φ = θ − γv over 60 steps (weightDecay ${weightDecay})`, () => {
      const lr = 0.05;
      const gamma = 0.9;
      const gradAt = (x: Float64Array) => tensor([3 * (x[0] as number) + (x[1] as number) - 1, (x[0] as number) + 2 * (x[1] as number) + 1]);
      const n = make(nag({ lr, momentum: gamma, weightDecay }), [2, -3]);
      const s = make(sgd({ lr, momentum: gamma, nesterov: true, weightDecay }), [2, -3]);
      const nagPoints: number[][] = [];
      const sgdPoints: number[][] = [];
      for (let t = 0; t < 60; t++) {
        n.opt.step((p) => {
          nagPoints.push([...p.get('w')!.data]);
          return { w: gradAt(p.get('w')!.data) };
        });
        s.opt.step((p) => {
          sgdPoints.push([...p.get('w')!.data]);
          return { w: gradAt(p.get('w')!.data) };
        });
      }
      for (let t = 0; t < 60; t++) expectClose(nagPoints[t]!, sgdPoints[t]!, 1e-12);
      // After the last step: sgd's parameters are NAG's θ − γv, and NAG's velocity is η·(sgd's buffer).
      const v = slot(n.opt, 'velocity');
      expectClose([0, 1].map((i) => (n.w.data[i] as number) - gamma * (v[i] as number)), [...s.w.data], 1e-12);
      expectClose(v, slot(s.opt, 'momentumBuffer').map((b) => lr * b), 1e-12);
      if (weightDecay === 0) {
        // Not trivial: g(θ₀) = [3·2 − 3 − 1, 2 − 6 + 1] = [2, −3]; v₁ = 0.05·g = [0.1, −0.15]; θ₁ = [1.9, −2.85];
        // the second gradient is taken at φ₁ = θ₁ − 0.9·v₁ = [1.81, −2.715], away from θ₁.
        expectClose(nagPoints[1]!, [1.81, -2.715]);
        // The run went somewhere: towards the minimizer A⁻¹[1, −1] = [0.6, −0.8] (|θ₀ − x*| ≈ 2.5).
        expect(Math.hypot((s.w.data[0] as number) - 0.6, (s.w.data[1] as number) + 0.8)).toBeLessThan(0.25);
      }
    });
  }

  it('state export/import resumes the same trajectory (the look-ahead depends on the velocity)', () => {
    const g = gradSeq(6, 2);
    const full = run(nag({ lr: 0.1, momentum: 0.9 }), [1, 1], g);
    const first = make(nag({ lr: 0.1, momentum: 0.9 }), [1, 1]);
    for (const gt of g.slice(0, 3)) first.opt.step({ w: tensor([...gt]) });
    const second = make(nag({ lr: 0.1, momentum: 0.9 }), [...first.w.data]);
    second.opt.importState(JSON.parse(JSON.stringify(first.opt.exportState())));
    for (const gt of g.slice(3)) second.opt.step({ w: tensor([...gt]) });
    expect([...second.w.data]).toEqual(full.theta);
  });
});

describe('adagrad', () => {
  it('two hand-computed steps with lrDecay', () => {
    // η = 0.1, δ = 0.5, ε = 1e-10 (default), θ₀ = [1, −2]
    // step 1 (t = 1): clr = 0.1 / (1 + 0·0.5) = 0.1; g = [3, 4]; s = [9, 16]; √s + ε = [3 + ε, 4 + ε]
    //   θ₁ = [1 − 0.1·3/(3 + ε), −2 − 0.1·4/(4 + ε)] ≈ [0.9, −2.1]
    // step 2 (t = 2): clr = 0.1 / (1 + 1·0.5) = 0.1/1.5; g = [4, −3]; s = [9 + 16, 16 + 9] = [25, 25]
    //   θ₂ = θ₁ − (0.1/1.5)·[4, −3]/(5 + ε) ≈ [0.9 − 0.05333…, −2.1 + 0.04] = [0.84666…, −2.06]
    const eps = 1e-10;
    const th1 = [1 - (0.1 * 3) / (3 + eps), -2 - (0.1 * 4) / (4 + eps)];
    const th2 = [th1[0]! - (0.1 / 1.5) * (4 / (5 + eps)), th1[1]! - (0.1 / 1.5) * (-3 / (5 + eps))];
    const r = run(adagrad({ lr: 0.1, lrDecay: 0.5 }), [1, -2], [
      [3, 4],
      [4, -3],
    ]);
    expectClose(r.theta, th2);
    expectClose(r.theta, [0.9 - 0.16 / 3, -2.06], 1e-9);
    expectClose(r.slots.sum!, [25, 25]);
  });

  it('initialAccumulatorValue seeds the sum', () => {
    // η = 1, ε = 0, s₀ = 7, θ₀ = 0; g = 3: s = 16, θ₁ = −3/4; g = 3: s = 25, θ₂ = −3/4 − 3/5 = −1.35
    const { opt } = make(adagrad({ lr: 1, eps: 0, initialAccumulatorValue: 7 }), [0]);
    expect(slot(opt, 'sum')).toEqual([7]);
    const r = run(adagrad({ lr: 1, eps: 0, initialAccumulatorValue: 7 }), [0], [[3], [3]]);
    expectClose(r.theta, [-1.35]);
    expect(r.slots.sum).toEqual([25]);
  });

  it('invariants: sum = s₀ + Σg² and, with ε = 0, the trajectory is invariant to scaling gradients by 2ᵏ', () => {
    const g = gradSeq(8, 3);
    const r = run(adagrad({ lr: 0.1, initialAccumulatorValue: 0.5 }), [1, 2, 3], g);
    const expected = [0, 1, 2].map((i) => g.reduce((acc, gt) => acc + (gt[i] as number) ** 2, 0.5));
    expectClose(r.slots.sum!, expected);
    const a = run(adagrad({ lr: 0.1, eps: 0 }), [1, 2, 3], g);
    const b = run(adagrad({ lr: 0.1, eps: 0 }), [1, 2, 3], g.map((gt) => gt.map((x) => x * 8)));
    expect(b.theta).toEqual(a.theta);
  });
});

describe('adadelta', () => {
  it('two hand-computed steps; the learning rate does not enter accDelta', () => {
    // η = 0.5, ρ = 0.5, ε = 1, θ₀ = 1, g₁ = g₂ = 4
    // step 1: s₁ = 0.5·0 + 0.5·16 = 8; √(s₁ + 1) = 3; Δ₁ = √(0 + 1)/3·4 = 4/3
    //         a₁ = 0.5·0 + 0.5·(16/9) = 8/9; θ₁ = 1 − 0.5·4/3 = 1/3
    // step 2: s₂ = 0.5·8 + 0.5·16 = 12; √(s₂ + 1) = √13; Δ₂ = √(8/9 + 1)/√13·4 = 4√17/(3√13)
    //         a₂ = 0.5·8/9 + 0.5·Δ₂² = 4/9 + 0.5·16·17/(9·13) = 4/9 + 136/117 = 188/117
    //         θ₂ = 1/3 − 0.5·4√17/(3√13) = 1/3 − 2√17/(3√13)
    const r = run(adadelta({ lr: 0.5, rho: 0.5, eps: 1 }), [1], [[4], [4]]);
    expectClose(r.theta, [1 / 3 - (2 * Math.sqrt(17)) / (3 * Math.sqrt(13))]);
    expectClose(r.slots.squareAvg!, [12]);
    expectClose(r.slots.accDelta!, [188 / 117]);
  });

  it('first step with the defaults moves by about √(ε/(1−ρ))', () => {
    // ρ = 0.9, ε = 1e-6, η = 1, g = 100: Δ₁ = √ε/√(0.1·100² + ε)·100 = 1e-3·100/√(1000 + 1e-6) ≈ √(1e-5) ≈ 3.162e-3
    const r = run(adadelta(), [0], [[100]]);
    expectClose(r.theta, [-(1e-3 * 100) / Math.sqrt(1000 + 1e-6)]);
    expectClose(r.theta, [-Math.sqrt(1e-5)], 1e-8);
  });

  it('invariants: displacement is linear in lr, squareAvg is the closed-form EMA of g²', () => {
    const g = gradSeq(7, 3);
    const a = run(adadelta({ rho: 0.8 }), [0, 0, 0], g);
    const b = run(adadelta({ rho: 0.8, lr: 0.25 }), [0, 0, 0], g);
    // From θ₀ = 0, θ_t = −η ΣΔ_k and Δ does not depend on η; scaling by 2⁻² is exact in binary.
    expect(b.theta).toEqual(a.theta.map((x) => x * 0.25));
    // s_t = (1 − ρ) Σ_k ρ^{t−k} g_k²
    const ema = [0, 1, 2].map((i) => g.reduce((acc, gt, k) => acc + 0.2 * 0.8 ** (g.length - 1 - k) * (gt[i] as number) ** 2, 0));
    expectClose(a.slots.squareAvg!, ema, 1e-13);
  });
});

describe('rmsprop', () => {
  // Common to the hand cases: η = 0.01, α = 0.5, θ₀ = 1, g₁ = g₂ = 2.
  it('two hand-computed steps, plain', () => {
    // ε = 0. step 1: s₁ = 0.5·4 = 2; θ₁ = 1 − 0.01·2/√2 = 1 − 0.01√2
    //        step 2: s₂ = 0.5·2 + 0.5·4 = 3; θ₂ = θ₁ − 0.01·2/√3
    const r = run(rmsprop({ lr: 0.01, alpha: 0.5, eps: 0 }), [1], [[2], [2]]);
    expectClose(r.theta, [1 - 0.01 * Math.SQRT2 - (0.01 * 2) / Math.sqrt(3)]);
    expectClose(r.slots.squareAvg!, [3]);
  });

  it('ε is added after the square root', () => {
    // One step, ε = 1e-8 (default): θ₁ = 1 − 0.01·2/(√2 + 1e-8)
    const r = run(rmsprop({ lr: 0.01, alpha: 0.5 }), [1], [[2]]);
    expectClose(r.theta, [1 - (0.01 * 2) / (Math.SQRT2 + 1e-8)], 1e-15);
    expect(Math.abs((r.theta[0] as number) - (1 - (0.01 * 2) / Math.sqrt(2 + 1e-8)))).toBeGreaterThan(1e-12);
  });

  it('two hand-computed steps, centered', () => {
    // ε = 0. step 1: s₁ = 2, ḡ₁ = 0.5·2 = 1, d₁ = √(2 − 1) = 1, θ₁ = 1 − 0.01·2 = 0.98
    //        step 2: s₂ = 3, ḡ₂ = 0.5·1 + 0.5·2 = 1.5, d₂ = √(3 − 2.25) = √0.75, θ₂ = 0.98 − 0.01·2/√0.75
    const r = run(rmsprop({ lr: 0.01, alpha: 0.5, eps: 0, centered: true }), [1], [[2], [2]]);
    expectClose(r.theta, [0.98 - (0.01 * 2) / Math.sqrt(0.75)]);
    expectClose(r.slots.gradAvg!, [1.5]);
  });

  it('two hand-computed steps, momentum', () => {
    // ε = 0, μ = 0.9. step 1: b₁ = 2/√2 = √2, θ₁ = 1 − 0.01√2
    //                 step 2: b₂ = 0.9√2 + 2/√3, θ₂ = θ₁ − 0.01·b₂
    const r = run(rmsprop({ lr: 0.01, alpha: 0.5, eps: 0, momentum: 0.9 }), [1], [[2], [2]]);
    const b2 = 0.9 * Math.SQRT2 + 2 / Math.sqrt(3);
    expectClose(r.slots.momentumBuffer!, [b2]);
    expectClose(r.theta, [1 - 0.01 * Math.SQRT2 - 0.01 * b2]);
  });

  it('invariant: with ε = 0 the trajectory is invariant to scaling gradients by 2ᵏ (every variant)', () => {
    const g = gradSeq(8, 3);
    for (const o of [{}, { centered: true }, { momentum: 0.9 }, { centered: true, momentum: 0.5 }]) {
      const a = run(rmsprop({ lr: 0.01, eps: 0, ...o }), [1, 2, 3], g);
      const b = run(rmsprop({ lr: 0.01, eps: 0, ...o }), [1, 2, 3], g.map((gt) => gt.map((x) => x * 4)));
      expect(b.theta).toEqual(a.theta);
    }
  });

  it('alpha = 1 never accumulates: the step is g/ε', () => {
    // s stays 0, so θ₁ = θ₀ − η·g/(0 + ε) = 1 − 1e-9·3/1e-8 = 0.7
    const r = run(rmsprop({ lr: 1e-9, alpha: 1 }), [1], [[3]]);
    expectClose(r.theta, [0.7]);
    expect(r.slots.squareAvg).toEqual([0]);
  });
});

describe('adamw', () => {
  it('two hand-computed steps with decoupled decay', () => {
    // η = 0.1, β = (0.5, 0.75), ε = 0, λ = 0.5, θ₀ = 2
    // step 1: θ' = 2·(1 − 0.1·0.5) = 1.9; g = 1: m = 0.5, v = 0.25; 1 − β₁ = 0.5, √(1 − β₂) = 0.5
    //         step size 0.1/0.5 = 0.2; denom = √0.25/0.5 = 1; θ₁ = 1.9 − 0.2·0.5/1 = 1.8
    // step 2: θ' = 1.8·0.95 = 1.71; g = −1: m = 0.25 − 0.5 = −0.25, v = 0.75·0.25 + 0.25·1 = 0.4375
    //         1 − β₁² = 0.75, √(1 − β₂²) = √0.4375, denom = √0.4375/√0.4375 = 1
    //         θ₂ = 1.71 − (0.1/0.75)·(−0.25) = 1.71 + 1/30 = 1.74333…
    const r = run(adamw({ lr: 0.1, betas: [0.5, 0.75], eps: 0, weightDecay: 0.5 }), [2], [[1], [-1]]);
    expectClose(r.theta, [1.71 + 1 / 30]);
    expectClose(r.slots.expAvg!, [-0.25]);
    expectClose(r.slots.expAvgSq!, [0.4375]);
  });

  it('two hand-computed steps with amsgrad', () => {
    // Same η, β, ε, λ, θ₀ = 2; g₁ = 2, g₂ = 0.
    // step 1: θ' = 1.9; m = 1, v = 0.25·4 = 1, v̂ = 1; denom = 1/0.5 = 2; θ₁ = 1.9 − 0.2·1/2 = 1.8
    // step 2: θ' = 1.71; m = 0.5, v = 0.75, v̂ = max(1, 0.75) = 1; denom = 1/√0.4375
    //         θ₂ = 1.71 − (0.1/0.75)·0.5·√0.4375   (without amsgrad: denom = √0.75/√0.4375)
    const o = { lr: 0.1, betas: [0.5, 0.75] as const, eps: 0, weightDecay: 0.5 };
    const r = run(adamw({ ...o, amsgrad: true }), [2], [[2], [0]]);
    expectClose(r.theta, [1.71 - (0.1 / 0.75) * 0.5 * Math.sqrt(0.4375)]);
    expectClose(r.slots.maxExpAvgSq!, [1]);
    expectClose(r.slots.expAvgSq!, [0.75]);
    const plain = run(adamw(o), [2], [[2], [0]]);
    expectClose(plain.theta, [1.71 - ((0.1 / 0.75) * 0.5 * Math.sqrt(0.4375)) / Math.sqrt(0.75)]);
  });

  it('weightDecay 0 is exactly Adam (and adam() keeps its L2 default of 0)', () => {
    const g = gradSeq(10, 3);
    for (const amsgrad of [false, true]) {
      const a = run(adamw({ lr: 0.01, weightDecay: 0, amsgrad }), [1, -2, 3], g);
      const b = run(adam({ lr: 0.01, amsgrad }), [1, -2, 3], g);
      // The moments never see θ, so they agree exactly; θ may differ in the last bit because AdamW divides
      // (η̂·m)/d as PyTorch's addcdiv does (adam.ts writes η̂·(m/d)).
      expect(a.slots).toEqual(b.slots);
      expectClose(a.theta, b.theta, 1e-15);
    }
    expect(adam().options.weightDecay).toBe(0);
  });

  it('decay formula: with zero gradients θ_t = θ₀(1 − ηλ)ᵗ', () => {
    const r = run(adamw({ lr: 0.1, weightDecay: 0.5 }), [2, -3], Array.from({ length: 10 }, () => [0, 0]));
    expectClose(r.theta, [2 * 0.95 ** 10, -3 * 0.95 ** 10]);
  });

  it('decay is decoupled: θ_t = θ_{t−1}(1 − ηλ) − u_t with u_t the Adam step, which ignores θ', () => {
    const g = gradSeq(12, 3);
    const lr = 0.02;
    const lambda = 0.3;
    const adamRun = make(adam({ lr }), [0, 0, 0]);
    const adamwRun = make(adamw({ lr, weightDecay: lambda }), [1, -2, 3]);
    for (const gt of g) {
      const before = [...adamRun.w.data];
      const thetaPrev = [...adamwRun.w.data];
      adamRun.opt.step({ w: tensor([...gt]) });
      adamwRun.opt.step({ w: tensor([...gt]) });
      const u = before.map((x, i) => x - (adamRun.w.data[i] as number));
      expectClose(adamwRun.w.data, thetaPrev.map((x, i) => x * (1 - lr * lambda) - (u[i] as number)), 1e-13);
    }
    // Coupled L2 (Adam with weightDecay) goes elsewhere.
    const coupled = run(adam({ lr, weightDecay: lambda }), [1, -2, 3], g);
    expect(Math.abs((coupled.theta[0] as number) - (adamwRun.w.data[0] as number))).toBeGreaterThan(1e-5);
  });
});

// A configuration of each optimizer that exercises every branch of its update.
const busy: Array<[string, (o: { maximize?: boolean; weightDecay?: number }) => OptimizerSpec<object>]> = [
  ['nag', (o) => nag({ lr: 0.05, momentum: 0.8, weightDecay: 0.1, ...o })],
  ['adagrad', (o) => adagrad({ lr: 0.1, lrDecay: 0.2, initialAccumulatorValue: 0.3, weightDecay: 0.1, ...o })],
  ['adadelta', (o) => adadelta({ lr: 0.9, rho: 0.7, weightDecay: 0.1, ...o })],
  ['rmsprop', (o) => rmsprop({ lr: 0.01, alpha: 0.9, weightDecay: 0.1, ...o })],
  ['rmsprop centered momentum', (o) => rmsprop({ lr: 0.01, alpha: 0.9, momentum: 0.7, centered: true, weightDecay: 0.1, ...o })],
  ['adamw', (o) => adamw({ lr: 0.01, betas: [0.8, 0.9], weightDecay: 0.1, ...o })],
  ['adamw amsgrad', (o) => adamw({ lr: 0.01, amsgrad: true, weightDecay: 0.1, ...o })],
];

describe('shared behaviour', () => {
  for (const [label, spec] of busy) {
    it(`${label}: maximize on g is minimize on −g, and flips the direction of the first step`, () => {
      const g = gradSeq(6, 3);
      const up = run(spec({ maximize: true }), [1, -2, 3], g);
      const down = run(spec({}), [1, -2, 3], g.map((gt) => gt.map((x) => -x)));
      expect(up).toEqual(down);
      // f(θ) = Σθ has gradient 1 everywhere: one step without decay goes down, and up with maximize.
      const min = run(spec({ weightDecay: 0 }), [0, 0, 0], [[1, 1, 1]]);
      const max = run(spec({ weightDecay: 0, maximize: true }), [0, 0, 0], [[1, 1, 1]]);
      for (let i = 0; i < 3; i++) {
        expect(min.theta[i]).toBeLessThan(0);
        expect(max.theta[i]).toBeGreaterThan(0);
      }
    });
  }

  // L2 weight decay: running with λ equals running with λ = 0 on gradients g + λ·(the point the gradient is
  // taken at). The closure receives that point: θ for the classic optimizers, θ − γv for NAG.
  for (const [label, spec] of busy.filter(([l]) => !l.startsWith('adamw'))) {
    it(`${label}: weight decay adds λ·θ (λ·(θ − γv) for NAG) to the gradient`, () => {
      const g = gradSeq(6, 3);
      const lambda = 0.1;
      const a = run(spec({}), [1, -2, 3], g);
      const { w, opt } = make(spec({ weightDecay: 0 }), [1, -2, 3]);
      for (const gt of g) opt.step((p) => ({ w: tensor(gt.map((x, i) => x + lambda * (p.get('w')!.data[i] as number))) }));
      expectClose(w.data, a.theta, 1e-15);
      // and λ matters at all
      expect(Math.abs((run(spec({ weightDecay: 0 }), [1, -2, 3], g).theta[0] as number) - (a.theta[0] as number))).toBeGreaterThan(1e-4);
    });
  }

  it('defaults equal PyTorch 1.13 / 2.x', () => {
    // torch.optim signatures: Adagrad(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
    // maximize=False); Adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False); RMSprop(lr=1e-2,
    // alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False); AdamW(lr=1e-3,
    // betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False). NAG (not in PyTorch):
    // lr 1e-3 as SGD elsewhere in descent, γ = 0.9 as in the seed.
    expect(adagrad().options).toEqual({ lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, nonFinite: 'apply' });
    expect(adadelta().options).toEqual({ lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, nonFinite: 'apply' });
    expect(rmsprop().options).toEqual({
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
      nonFinite: 'apply',
    });
    expect(adamw().options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, nonFinite: 'apply' });
    expect(nag().options).toEqual({ lr: 1e-3, momentum: 0.9, weightDecay: 0, maximize: false, nonFinite: 'apply' });
  });

  it('state slots carry PyTorch state keys, camelCased', () => {
    const slotsOf = (spec: OptimizerSpec<object>) => Object.keys(make(spec, [1, 2]).opt.exportState().params.w!.slots);
    expect(slotsOf(nag())).toEqual(['velocity']);
    expect(slotsOf(adagrad())).toEqual(['sum']);
    expect(slotsOf(adadelta())).toEqual(['squareAvg', 'accDelta']);
    expect(slotsOf(rmsprop())).toEqual(['squareAvg']);
    expect(slotsOf(rmsprop({ momentum: 0.9, centered: true }))).toEqual(['squareAvg', 'momentumBuffer', 'gradAvg']);
    expect(slotsOf(adamw())).toEqual(['expAvg', 'expAvgSq']);
    expect(slotsOf(adamw({ amsgrad: true }))).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq']);
  });

  it('registered by name and round-trip through JSON', () => {
    for (const name of ['nag', 'adagrad', 'adadelta', 'rmsprop', 'adamw']) {
      expect(definitions.get(name)?.name).toBe(name);
      const spec = createSpec(name, { lr: 0.5 });
      expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    }
  });

  const bad: Array<[() => unknown, string]> = [
    [() => nag({ momentum: 1 }), 'nag: option "momentum" must be a number in [0, 1), got 1'],
    [() => nag({ momentum: -0.1 }), 'nag: option "momentum" must be a number in [0, 1), got -0.1'],
    [() => nag({ lr: Infinity }), 'nag: option "lr" must be a number in [0, ∞), got Infinity'],
    [() => nag({ weightDecay: -1 }), 'nag: option "weightDecay" must be a number in [0, ∞), got -1'],
    [() => adagrad({ lr: -1 }), 'adagrad: option "lr" must be a number in [0, ∞), got -1'],
    [() => adagrad({ lrDecay: -0.5 }), 'adagrad: option "lrDecay" must be a number in [0, ∞), got -0.5'],
    [() => adagrad({ initialAccumulatorValue: -1 }), 'adagrad: option "initialAccumulatorValue" must be a number in [0, ∞), got -1'],
    [() => adagrad({ eps: -1e-10 }), 'adagrad: option "eps" must be a number in [0, ∞), got -1e-10'],
    [() => adagrad({ lr_decay: 0.1 } as never), 'adagrad: unknown option "lr_decay" (did you mean "lrDecay"?)'],
    [() => adadelta({ rho: 1.5 }), 'adadelta: option "rho" must be a number in [0, 1], got 1.5'],
    [() => adadelta({ rho: -0.1 }), 'adadelta: option "rho" must be a number in [0, 1], got -0.1'],
    [() => adadelta({ eps: NaN }), 'adadelta: option "eps" must be a number in [0, ∞), got NaN'],
    [() => rmsprop({ alpha: 1.01 }), 'rmsprop: option "alpha" must be a number in [0, 1], got 1.01'],
    [() => rmsprop({ alpha: -1 }), 'rmsprop: option "alpha" must be a number in [0, 1], got -1'],
    [() => rmsprop({ momentum: -0.5 }), 'rmsprop: option "momentum" must be a number in [0, ∞), got -0.5'],
    [() => rmsprop({ weightDecay: -1 }), 'rmsprop: option "weightDecay" must be a number in [0, ∞), got -1'],
    [() => rmsprop({ centered: 1 } as never), 'rmsprop: option "centered" must be true or false, got 1'],
    [() => adamw({ betas: [0.9, 1] }), 'adamw: option "betas[1]" must be a number in [0, 1), got 1'],
    [() => adamw({ weightDecay: -0.01 }), 'adamw: option "weightDecay" must be a number in [0, ∞), got -0.01'],
    [() => adamw({ eps: -1 }), 'adamw: option "eps" must be a number in [0, ∞), got -1'],
  ];
  for (const [make_, message] of bad) {
    it(`rejects: ${message}`, () => {
      expect(make_).toThrow(OptionError);
      expect(make_).toThrow(message);
    });
  }

  it('accepts the closed ends of the ranges', () => {
    expect(adadelta({ rho: 1 }).options.rho).toBe(1);
    expect(adadelta({ rho: 0 }).options.rho).toBe(0);
    expect(rmsprop({ alpha: 0 }).options.alpha).toBe(0);
    expect(nag({ momentum: 0, lr: 0 }).options.momentum).toBe(0);
  });
});
