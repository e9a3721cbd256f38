import { describe, expect, it } from 'vitest';
import {
  adamax,
  createReference,
  createSpec,
  definitions,
  nadam,
  OptionError,
  radam,
  rprop,
  tensor,
  type OptimizerSpec,
  type PortableState,
} from '../src/index.js';

/**
 * Adamax, NAdam, RAdam and Rprop against hand-derived trajectories. Every expected number below is worked out in
 * the comments from the update rules of torch.optim (PyTorch 2.x), with inputs chosen so the arithmetic is short
 * (dyadic betas, ψ = 0, …), never copied from the code's output.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs of several option types
type AnySpec = OptimizerSpec<any>;

/** Runs `grads` one step each from `theta0`; returns θ after every step and the optimizer. */
function run(spec: AnySpec, theta0: readonly number[], grads: ReadonlyArray<readonly number[]>) {
  const w = tensor([...theta0]);
  const opt = createReference(spec, { w });
  const thetas: number[][] = [];
  for (const g of grads) {
    opt.step({ w: tensor([...g]) });
    thetas.push([...w.data]);
  }
  return { thetas, opt, w };
}

function slot(state: PortableState, name: string): number[] {
  return state.params.w!.slots[name]!.data as number[];
}

function expectClose(actual: readonly number[], expected: readonly number[], digits = 13): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}`).toBeCloseTo(expected[i] as number, digits));
}

describe('defaults equal torch.optim', () => {
  // Defaults from the signatures of torch.optim.Adamax / NAdam / RAdam / Rprop (PyTorch 2.x).
  it.each([
    ['adamax', adamax(), { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false }],
    [
      'nadam',
      nadam(),
      { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false },
    ],
    ['radam', radam(), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false }],
    ['rprop', rprop(), { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false }],
  ] as const)('%s', (name, spec, expected) => {
    expect(spec.name).toBe(name);
    expect(spec.options).toEqual({ ...expected, nonFinite: 'apply' });
    expect(definitions.get(name)).toBeDefined();
    expect(createSpec(name)).toEqual(spec);
  });
});

describe('adamax', () => {
  it('two hand-derived steps (eps inside the max, bias correction of m only)', () => {
    // lr = 0.5, β1 = β2 = 0.5, ε = 0.25, θ0 = [1, −2].
    // t=1, g = [2, −1]:  m1 = 0.5·g = [1, −0.5];  u1 = max(0.5·0, |g| + 0.25) = [2.25, 1.25]
    //   clr = 0.5 / (1 − 0.5) = 1;  θ1 = θ0 − clr·m1/u1 = [1 − 1/2.25, −2 + 0.5/1.25] = [5/9, −1.6]
    // t=2, g = [0.5, −4]: m2 = 0.5·m1 + 0.5·g = [0.75, −2.25]
    //   u2 = max(0.5·u1, |g| + 0.25) = max([1.125, 0.625], [0.75, 4.25]) = [1.125, 4.25]   (first: β2·u wins)
    //   clr = 0.5 / (1 − 0.25) = 2/3;  θ2 = θ1 − (2/3)·m2/u2 = [5/9 − (2/3)(2/3), −1.6 + (2/3)(9/17)] = [1/9, −1.6 + 6/17]
    const spec = adamax({ lr: 0.5, betas: [0.5, 0.5], eps: 0.25 });
    const { thetas, opt } = run(spec, [1, -2], [
      [2, -1],
      [0.5, -4],
    ]);
    expectClose(thetas[0]!, [5 / 9, -1.6]);
    expectClose(thetas[1]!, [1 / 9, -1.6 + 6 / 17]);
    const s = opt.exportState();
    expect(Object.keys(s.params.w!.slots)).toEqual(['expAvg', 'expInf']);
    expect(slot(s, 'expAvg')).toEqual([0.75, -2.25]);
    expect(slot(s, 'expInf')).toEqual([1.125, 4.25]);
  });

  it('weight decay is L2: the same as adding λθ to the gradient', () => {
    // One step from θ0 = [1, −2] with λ = 0.5 equals the undecayed step with g + λθ0 = [2.5, −2].
    const a = run(adamax({ lr: 0.1, weightDecay: 0.5 }), [1, -2], [[2, -1]]);
    const b = run(adamax({ lr: 0.1 }), [1, -2], [[2.5, -2]]);
    expect(a.thetas[0]).toEqual(b.thetas[0]);
  });
});

describe('nadam', () => {
  it('two hand-derived steps (ψ = 0: constant μ = β1/2)', () => {
    // lr = 1, β1 = β2 = 0.5, ε = 0, ψ = 0 ⇒ μ_t = 0.5·(1 − 0.5·0.96⁰) = 0.25 for every t.
    // t=1, g = 2: Π1 = 0.25, Π1·μ2 = 0.0625; m1 = 1; v1 = 0.5·4 = 2; d = √(2 / 0.5) = 2
    //   c_g = lr(1 − μ1)/(1 − Π1) = 0.75/0.75 = 1;  c_m = lr·μ2/(1 − Π1μ2) = 0.25/0.9375 = 4/15
    //   θ1 = 1 − 1·2/2 − (4/15)·1/2 = −2/15
    // t=2, g = 1: Π2 = 0.0625, Π2·μ3 = 0.015625; m2 = 0.5 + 0.5 = 1; v2 = 1 + 0.5 = 1.5; d = √(1.5/0.75) = √2
    //   c_g = 0.75/0.9375 = 0.8;  c_m = 0.25/0.984375 = 16/63
    //   θ2 = −2/15 − 0.8/√2 − (16/63)/√2
    // (PyTorch 1.13's single-tensor path would use Π1·μ1·μ2 = 0.015625 at t=1, i.e. c_m = 16/63, and fail here.)
    const spec = nadam({ lr: 1, betas: [0.5, 0.5], eps: 0, momentumDecay: 0 });
    const { thetas, opt } = run(spec, [1], [[2], [1]]);
    expectClose(thetas[0]!, [-2 / 15]);
    expectClose(thetas[1]!, [-2 / 15 - (0.8 + 16 / 63) / Math.SQRT2]);
    const s = opt.exportState();
    expect(Object.keys(s.params.w!.slots)).toEqual(['expAvg', 'expAvgSq']);
    expect(slot(s, 'expAvg')).toEqual([1]);
    expect(slot(s, 'expAvgSq')).toEqual([1.5]);
    expect(s.params.w!.scalars).toEqual({ muProduct: 0.0625 });
  });

  it('μ_t follows the schedule β1(1 − ½·0.96^{tψ}) and muProduct is their running product', () => {
    const { opt } = run(nadam(), [1, 2], [
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3));
    expect(opt.exportState().params.w!.scalars.muProduct).toBeCloseTo(mu(1) * mu(2) * mu(3), 15);
    // The schedule warms μ up from β1/2 towards β1: μ1 ≈ 0.45007, slightly above 0.45.
    expect(mu(1)).toBeGreaterThan(0.45);
    expect(mu(1)).toBeLessThan(0.4501);
  });

  it('coupled and decoupled weight decay differ as the formulas say', () => {
    // θ0 = 2, g = 0, lr = 0.1, λ = 0.5.
    // Decoupled: θ ← 2·(1 − 0.1·0.5) = 1.9, then g = 0 ⇒ m = v = 0 and the step is 0/(0 + ε) = 0: θ1 = 1.9.
    // Coupled: g ← 0 + 0.5·2 = 1; m1 = 0.1, v1 = 0.001, d = √(0.001/0.001) + ε = 1 + 1e-8
    //   θ1 = 2 − 0.1(1 − μ1)/(1 − μ1)·1/d − 0.1·μ2/(1 − μ1μ2)·0.1/d
    const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3));
    const d = 1 + 1e-8;
    const decoupled = run(nadam({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true }), [2], [[0]]);
    const coupled = run(nadam({ lr: 0.1, weightDecay: 0.5 }), [2], [[0]]);
    expect(decoupled.thetas[0]).toEqual([1.9]);
    expectClose(coupled.thetas[0]!, [2 - 0.1 / d - (0.1 * mu(2) * 0.1) / ((1 - mu(1) * mu(2)) * d)]);
    expect(coupled.thetas[0]![0]).toBeLessThan(1.9); // the L2 gradient moves θ further here
  });

  it('decoupled decay scales θ by (1 − ηλ) before an otherwise undecayed step, every step', () => {
    const grads = [
      [0.3, -1],
      [0.5, 2],
      [-0.25, 1],
    ];
    const a = run(nadam({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true }), [1, -2], grads);
    // b: no decay in the optimizer; scale its parameter by hand before each step.
    const w = tensor([1, -2]);
    const b = createReference(nadam({ lr: 0.1 }), { w });
    grads.forEach((g, k) => {
      for (let i = 0; i < w.data.length; i++) w.data[i] = (w.data[i] as number) * (1 - 0.1 * 0.5);
      b.step({ w: tensor(g) });
      expect([...w.data]).toEqual(a.thetas[k]);
    });
    // Coupled decay enters m and v instead: its states differ from the undecayed ones.
    const c = run(nadam({ lr: 0.1, weightDecay: 0.5 }), [1, -2], grads);
    expect(slot(c.opt.exportState(), 'expAvg')).not.toEqual(slot(a.opt.exportState(), 'expAvg'));
  });

  it('muProduct survives export and import', () => {
    const grads = [
      [1, -1],
      [0.5, 2],
      [-3, 0.25],
    ];
    const whole = run(nadam({ lr: 0.05 }), [1, 2], grads);
    const first = run(nadam({ lr: 0.05 }), [1, 2], grads.slice(0, 2));
    const w = tensor([...first.w.data]);
    const resumed = createReference(nadam({ lr: 0.05 }), { w });
    resumed.importState(JSON.parse(JSON.stringify(first.opt.exportState())));
    resumed.step({ w: tensor(grads[2]!) });
    expect([...w.data]).toEqual(whole.thetas[2]);
    expect(resumed.exportState()).toEqual(whole.opt.exportState());
  });
});

describe('radam', () => {
  it('two hand-derived steps, both un-rectified (ρ1 = 1, ρ2 ≈ 2)', () => {
    // lr = 0.1, β1 = 0.5, β2 = 0.999, θ0 = 1. With ρ_t ≤ 5 the step is θ ← θ − lr·m̂.
    // t=1, g = 2: m1 = 1, m̂1 = 1/0.5 = 2, θ1 = 1 − 0.2 = 0.8;  v1 = 0.001·4 = 0.004
    // t=2, g = 4: m2 = 0.5 + 2 = 2.5, m̂2 = 2.5/0.75 = 10/3, θ2 = 0.8 − 1/3;  v2 = 0.999·0.004 + 0.001·16 = 0.019996
    const { thetas, opt } = run(radam({ lr: 0.1, betas: [0.5, 0.999] }), [1], [[2], [4]]);
    expectClose(thetas[0]!, [0.8]);
    expectClose(thetas[1]!, [0.8 - 1 / 3]);
    const s = opt.exportState();
    expect(Object.keys(s.params.w!.slots)).toEqual(['expAvg', 'expAvgSq']);
    expect(slot(s, 'expAvg')).toEqual([2.5]);
    expectClose(slot(s, 'expAvgSq'), [0.019996], 16);
  });

  it('with β2 = 0.999 steps 1–5 are un-rectified and step 6 is rectified', () => {
    // ε' = 1 − β2. Expanding β2^t = 1 − tε' + t(t−1)ε'²/2 − …, ρ_t = t − (t² − 1)ε'/6 + O(ε'²):
    // ρ5 ≈ 5 − 0.004 = 4.996 ≤ 5 and ρ6 ≈ 6 − 0.00583 > 5.
    const rhoApprox = (t: number) => t - ((t * t - 1) * 0.001) / 6;
    expect(rhoApprox(5)).toBeLessThan(5);
    expect(rhoApprox(6)).toBeGreaterThan(5);
    // Constant g = 2 with default β1: m_t = (1 − β1^t)·2 so m̂ = 2, and v_t = (1 − β2^t)·4.
    // Un-rectified: Δθ = −lr·m̂ = −2·lr, independent of v and ε.
    // Rectified at t = 6: Δθ = −lr·m̂·√(1−β2⁶)/(√v6 + ε)·r6 = −lr·r6·2√b/(2√b + ε), b = 1 − β2⁶,
    //   r6 = √((ρ6−4)(ρ6−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ6)), ρ∞ = 2/0.001 − 1 = 1999.
    const lr = 0.01;
    const g = Array.from({ length: 6 }, () => [2]);
    const { thetas } = run(radam({ lr }), [0], g);
    const hugeEps = run(radam({ lr, eps: 1e3 }), [0], g);
    for (let t = 1; t <= 5; t++) {
      const prev = t === 1 ? 0 : (thetas[t - 2]![0] as number);
      expect((thetas[t - 1]![0] as number) - prev).toBeCloseTo(-2 * lr, 14);
      expect(hugeEps.thetas[t - 1]).toEqual(thetas[t - 1]); // ε plays no part before rectification
    }
    const b6 = 1 - 0.999 ** 6;
    const rho6 = 1999 - (12 * 0.999 ** 6) / b6;
    expect(rho6).toBeCloseTo(rhoApprox(6), 4);
    const r6 = Math.sqrt(((rho6 - 4) * (rho6 - 2) * 1999) / (1995 * 1997 * rho6));
    const step6 = (thetas[5]![0] as number) - (thetas[4]![0] as number);
    expect(step6).toBeCloseTo(-lr * r6 * ((2 * Math.sqrt(b6)) / (2 * Math.sqrt(b6) + 1e-8)), 12);
    expect(r6).toBeGreaterThan(0.02); // ≈ 0.0258: far from the un-rectified step of 2·lr
    expect(r6).toBeLessThan(0.03);
  });

  it('with β2 ≤ 2/3 (ρ∞ ≤ 5) it never rectifies', () => {
    // β2 = 0.5: ρ∞ = 3, and ρ_t < ρ∞. lr = 0.1, β1 = 0.5, g = 1 constant ⇒ m̂ = 1 and Δθ = −0.1 every step.
    const { thetas } = run(radam({ lr: 0.1, betas: [0.5, 0.5] }), [0], Array.from({ length: 20 }, () => [1]));
    expectClose(thetas[19]!, [-2], 12);
  });

  it('decoupled decay scales θ by (1 − ηλ); coupled adds λθ to the gradient', () => {
    // θ0 = 2, g = 0, lr = 0.1, λ = 0.5. Decoupled: θ1 = 2·0.95 − 0.1·m̂1 with m̂1 = 0 ⇒ 1.9.
    // Coupled: g = 1 ⇒ m̂1 = 1 (un-rectified step 1) ⇒ θ1 = 2 − 0.1 = 1.9 as well, but m1 = 0.1 ≠ 0:
    // step 2 with g = 0 then differs: decoupled θ2 = 1.9·0.95 = 1.805 (m stays 0);
    // coupled g = 0.5·1.9 = 0.95, m2 = 0.9·0.1 + 0.1·0.95 = 0.185, m̂2 = 0.185/0.19, θ2 = 1.9 − 0.1·0.185/0.19.
    const decoupled = run(radam({ lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true }), [2], [[0], [0]]);
    const coupled = run(radam({ lr: 0.1, weightDecay: 0.5 }), [2], [[0], [0]]);
    expectClose(decoupled.thetas[0]!, [1.9]);
    expectClose(decoupled.thetas[1]!, [1.805]);
    expectClose(coupled.thetas[0]!, [1.9]);
    expectClose(coupled.thetas[1]!, [1.9 - (0.1 * 0.185) / 0.19]);
  });
});

describe('rprop', () => {
  it('initial state: prev = 0, stepSize = lr', () => {
    const opt = createReference(rprop({ lr: 0.03 }), { w: tensor([1, 2]) });
    const s = opt.exportState();
    expect(Object.keys(s.params.w!.slots)).toEqual(['prev', 'stepSize']);
    expect(slot(s, 'prev')).toEqual([0, 0]);
    expect(slot(s, 'stepSize')).toEqual([0.03, 0.03]);
  });

  it('three hand-derived steps: grow, shrink with the gradient zeroed, then keep', () => {
    // lr = 0.1, etas (0.5, 1.2), stepSizes (1e-6, 50), θ0 = [1, 1, 1].
    // t=1, g = [2, −3, 0]: prev = 0 ⇒ factor 1, Δ = 0.1; θ1 = θ0 − sign(g)·0.1 = [0.9, 1.1, 1]; prev = g
    // t=2, g = [1, 4, −5]: g·prev = [2, −12, 0]
    //   e0: > 0 ⇒ Δ = 0.12, θ = 0.9 − 0.12 = 0.78, prev = 1
    //   e1: < 0 ⇒ Δ = 0.05, g := 0 ⇒ θ stays 1.1, prev = 0
    //   e2: = 0 ⇒ Δ = 0.1,  θ = 1 + 0.1 = 1.1, prev = −5
    // t=3, g = [1, 4, −5]: e0 Δ = 0.144, θ = 0.78 − 0.144 = 0.636; e1 prev = 0 ⇒ Δ stays 0.05, θ = 1.05;
    //   e2 > 0 ⇒ Δ = 0.12, θ = 1.1 + 0.12 = 1.22
    const { thetas, opt } = run(rprop({ lr: 0.1 }), [1, 1, 1], [
      [2, -3, 0],
      [1, 4, -5],
      [1, 4, -5],
    ]);
    expectClose(thetas[0]!, [0.9, 1.1, 1]);
    expectClose(thetas[1]!, [0.78, 1.1, 1.1]);
    expectClose(thetas[2]!, [0.636, 1.05, 1.22]);
    const s = opt.exportState();
    expectClose(slot(s, 'stepSize'), [0.144, 0.05, 0.12]);
    expect(slot(s, 'prev')).toEqual([1, 4, -5]);
  });

  it('prev stores the zeroed gradient after a sign change', () => {
    const { opt } = run(rprop({ lr: 0.1 }), [1, 1], [
      [1, -2],
      [-1, -2],
    ]);
    expect(slot(opt.exportState(), 'prev')).toEqual([0, -2]);
  });

  it('step sizes grow to Δmax, shrink to Δmin, and an out-of-range lr is clamped on the first step', () => {
    // Growth: lr = 0.1, η+ = 2, Δmax = 0.15: Δ = 0.1 (t=1, factor 1), min(0.2, 0.15) = 0.15, 0.15.
    const grow = run(rprop({ lr: 0.1, etas: [0.5, 2], stepSizes: [0.04, 0.15] }), [0], [[1], [1], [1]]);
    expect(slot(grow.opt.exportState(), 'stepSize')).toEqual([0.15]);
    expectClose(grow.thetas.map((t) => t[0]!), [-0.1, -0.25, -0.4]);
    // Shrink: g = 1, −1, 1, −1: Δ = 0.1, 0.05 (zeroed, θ stays), 0.05 (prev 0 ⇒ factor 1), max(0.025, 0.04) = 0.04.
    const shrink = run(rprop({ lr: 0.1, etas: [0.5, 2], stepSizes: [0.04, 0.15] }), [0], [[1], [-1], [1], [-1]]);
    expect(slot(shrink.opt.exportState(), 'stepSize')).toEqual([0.04]);
    expectClose(shrink.thetas.map((t) => t[0]!), [-0.1, -0.1, -0.15, -0.15]);
    // lr = 1 above Δmax = 0.5: the first step already moves by 0.5 (PyTorch clamps on every step).
    const big = run(rprop({ lr: 1, stepSizes: [1e-6, 0.5] }), [0], [[3]]);
    expect(big.thetas[0]).toEqual([-0.5]);
  });

  it('only the sign of the gradient matters', () => {
    const a = run(rprop({ lr: 0.1 }), [1, 2], [
      [1e-9, -3],
      [5, -1e6],
    ]);
    const b = run(rprop({ lr: 0.1 }), [1, 2], [
      [7, -1],
      [2, -0.5],
    ]);
    expect(a.thetas).toEqual(b.thetas);
  });
});

describe('maximize flips the direction', () => {
  const cases: Array<[string, (maximize: boolean) => AnySpec]> = [
    ['adamax', (maximize) => adamax({ lr: 0.1, weightDecay: 0.1, maximize })],
    ['nadam', (maximize) => nadam({ lr: 0.1, weightDecay: 0.1, maximize })],
    ['nadam decoupled', (maximize) => nadam({ lr: 0.1, weightDecay: 0.1, decoupledWeightDecay: true, maximize })],
    ['radam', (maximize) => radam({ lr: 0.1, weightDecay: 0.1, maximize })],
    ['rprop', (maximize) => rprop({ lr: 0.1, maximize })],
  ];
  const grads = [
    [1, -2, 0.5],
    [0.5, -1, -0.5],
    [2, 3, 0.25],
  ];
  it.each(cases)('%s: maximize with g is minimize with −g, and the first step goes up the gradient', (_name, make) => {
    const up = run(make(true), [1, 2, 3], grads);
    const down = run(
      make(false),
      [1, 2, 3],
      grads.map((g) => g.map((x) => -x)),
    );
    expect(up.thetas).toEqual(down.thetas);
    expect(up.opt.exportState()).toEqual(down.opt.exportState());
    // With λ = 0.1 and θ0 = [1, 2, 3] the decay (λθ ≤ 0.3 in the gradient, or θ·(1 − ηλ) ≥ 0.99θ) is smaller than
    // every |g| ≥ 0.5 and every first step, so the gradient sets the direction of the first step.
    const plain = run(make(true), [1, 2, 3], [grads[0]!]);
    plain.thetas[0]!.forEach((x, i) => expect(Math.sign(x - [1, 2, 3][i]!)).toBe(Math.sign(grads[0]![i]!)));
  });
});

describe('option validation', () => {
  it.each([
    [() => rprop({ etas: [1, 1.2] }), 'rprop: option "etas" must be (η₋, η₊) with 0 < η₋ < 1 < η₊, got [1, 1.2]'],
    [() => rprop({ etas: [0.5, 1] }), 'rprop: option "etas" must be (η₋, η₊) with 0 < η₋ < 1 < η₊, got [0.5, 1]'],
    [() => rprop({ etas: [1.5, 2] }), 'rprop: option "etas" must be (η₋, η₊) with 0 < η₋ < 1 < η₊, got [1.5, 2]'],
    [() => rprop({ etas: [0, 1.2] }), 'rprop: option "etas[0]" must be a number in (0, ∞), got 0'],
    [() => rprop({ stepSizes: [2, 1] }), 'rprop: option "stepSizes" must be (min, max) with min ≤ max, got [2, 1]'],
    [() => rprop({ stepSizes: [-1, 1] }), 'rprop: option "stepSizes[0]" must be a number in [0, ∞), got -1'],
    [() => rprop({ lr: -0.1 }), 'rprop: option "lr" must be a number in [0, ∞), got -0.1'],
    [() => adamax({ betas: [0.9, 1] }), 'adamax: option "betas[1]" must be a number in [0, 1), got 1'],
    [() => adamax({ eps: -1 }), 'adamax: option "eps" must be a number in [0, ∞), got -1'],
    [() => nadam({ momentumDecay: -1e-3 }), 'nadam: option "momentumDecay" must be a number in [0, ∞), got -0.001'],
    [() => nadam({ weightDecay: -1 }), 'nadam: option "weightDecay" must be a number in [0, ∞), got -1'],
    [() => radam({ betas: [-0.1, 0.999] }), 'radam: option "betas[0]" must be a number in [0, 1), got -0.1'],
    [() => createSpec('radam', { decoupled_weight_decay: true }), 'radam: unknown option "decoupled_weight_decay" (did you mean "decoupledWeightDecay"?)'],
    [() => createSpec('rprop', { step_sizes: [0, 1] }), 'rprop: unknown option "step_sizes" (did you mean "stepSizes"?)'],
  ])('%#: %s', (make, message) => {
    expect(make).toThrow(OptionError);
    expect(make).toThrow(message);
  });

  it('group overrides go through the same cross-option checks', () => {
    expect(() => createReference(rprop(), { w: tensor([1]) }, { groups: [{ params: ['w'], options: { stepSizes: [1, 0.5] } }] })).toThrow(
      'rprop: group 0: option "stepSizes" must be (min, max) with min ≤ max, got [1, 0.5]',
    );
  });
});
