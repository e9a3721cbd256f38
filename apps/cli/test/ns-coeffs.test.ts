import { describe, expect, it } from 'vitest';
import {
  EVAL_POINTS,
  KELLER_COEFFICIENTS,
  UniformSampler,
  composed,
  fitNsCoeffs,
  gridMse,
  mseAndGradient,
  type Coefficients,
} from '../src/ns-coeffs.js';
import { cli } from './run-cli.js';


describe('the objective and its gradient', () => {
  it('k = 1 at x = 1/2 by hand: f = a/2 + b/8 + c/32, loss (1 − f)², gradient 2(f − 1)·(x, x³, x⁵)', () => {
    // (a, b, c) = (1, −1, 1): f = 0.5 − 0.125 + 0.03125 = 0.40625, 1 − f = 0.59375 (all exact in binary).
    const grad = new Float64Array(3);
    const loss = mseAndGradient([1, -1, 1], 1, Float64Array.of(0.5), grad);
    expect(loss).toBe(0.59375 ** 2);
    expect([...grad]).toEqual([-2 * 0.59375 * 0.5, -2 * 0.59375 * 0.125, -2 * 0.59375 * 0.03125]);
    expect(composed([1, -1, 1], 1, 0.5)).toBe(0.40625);
  });

  it('k = 2 at x = 1 by hand: the chain rule through the composition', () => {
    // (a, b, c) = (2, −1, 0): y₁ = f(1) = 1, y₂ = f(1) = 1 (a fixed point), f′(1) = a + 3b = −1.
    // ∂y₂/∂(a, b, c) = (1, 1, 1) + f′(1)·∂y₁/∂(a, b, c) = (1, 1, 1) − (1, 1, 1) = 0, so the gradient vanishes.
    // (a, b, c) = (0.5, 0, 0): y₂ = x/4, ∂y₂/∂a = y₁ + a·∂y₁/∂a = x/2 + x/2 = x = 1; loss (3/4)², ∂/∂a = 2·(−3/4)·1.
    const grad = new Float64Array(3);
    expect(mseAndGradient([2, -1, 0], 2, Float64Array.of(1), grad)).toBe(0);
    expect([...grad]).toEqual([0, 0, 0]);
    expect(mseAndGradient([0.5, 0, 0], 2, Float64Array.of(1), grad)).toBe(0.5625);
    // ∂y₂/∂b = y₁³ + a·∂y₁/∂b = 1/8 + 1/2 = 5/8; ∂y₂/∂c = y₁⁵ + a·1 = 1/32 + 1/2 = 17/32.
    expect([...grad]).toEqual([-1.5, -1.5 * (5 / 8), -1.5 * (17 / 32)]);
  });

  it('matches central finite differences for k = 1, 3, 5 at the start, the seed\'s result and Keller\'s', () => {
    const xs = new UniformSampler(123).fill(new Float64Array(64));
    const points: Coefficients[] = [[1, -1, 1], [3.101, -3.4236, 1.3181], KELLER_COEFFICIENTS, [1.5, -0.5, 0]];
    for (const k of [1, 3, 5]) {
      for (const p of points) {
        const grad = new Float64Array(3);
        mseAndGradient(p, k, xs, grad);
        for (let i = 0; i < 3; i++) {
          const h = 1e-6;
          const plus = [...p] as [number, number, number];
          const minus = [...p] as [number, number, number];
          plus[i] = plus[i]! + h;
          minus[i] = minus[i]! - h;
          const fd = (mseAndGradient(plus, k, xs) - mseAndGradient(minus, k, xs)) / (2 * h);
          expect(Math.abs((grad[i] as number) - fd), `k=${k} ${p.join(',')} [${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });

  it('the grid MSE is the midpoint rule: 1/3 − h²/12 for the identity, 1 for f = 0', () => {
    // ∫₀¹ (1 − x)² dx = 1/3; the midpoint rule underestimates a quadratic's integral by h²/24·∫f″ = h²/12.
    const h = 1 / EVAL_POINTS;
    expect(gridMse([1, 0, 0], 5)).toBeCloseTo(1 / 3 - (h * h) / 12, 12);
    expect(gridMse([0, 0, 0], 3)).toBe(1);
  });
});

describe('the sampler', () => {
  it('draws from (0, 1] with mean 1/2 and variance 1/12, deterministically per seed', () => {
    const xs = new UniformSampler(1).fill(new Float64Array(100_000));
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (const x of xs) {
      if (!(x > 0 && x <= 1)) outside++;
      sum += x;
      sq += x * x;
    }
    expect(outside).toBe(0);
    const mean = sum / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005); // standard error 0.0009
    expect(Math.abs(sq / xs.length - mean * mean - 1 / 12)).toBeLessThan(0.002);
    expect([...new UniformSampler(1).fill(new Float64Array(5))]).toEqual([...xs.subarray(0, 5)]);
    expect([...new UniformSampler(2).fill(new Float64Array(5))]).not.toEqual([...xs.subarray(0, 5)]);
  });
});

describe('the fit', () => {
  it("its first step is Adam's: each coefficient moves by lr·|g|/(|g| + ε) against its gradient", () => {
    const lr = 1e-3;
    const xs = new UniformSampler(5).fill(new Float64Array(2048)); // the batch the fit draws first
    const g = new Float64Array(3);
    mseAndGradient([1, -1, 1], 5, xs, g);
    const r = fitNsCoeffs({ steps: 1, lr, seed: 5 });
    // t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + 1e-8).
    [1, -1, 1].forEach((c0, i) => {
      const gi = g[i] as number;
      expect(r.coefficients[i]).toBeCloseTo(c0 - (lr * gi) / (Math.abs(gi) + 1e-8), 14);
    });
  });

  it("moves from (1, −1, 1) as seed 001's run does over its first 2000 steps, and the loss falls", () => {
    // Seed 001's log (PyTorch Adam, lr 5e-5, batch 2048): step 0 loss 0.5815; step 2000 loss 0.4616,
    // a = 1.0933, b = −1.0257, c = 0.9381.
    const r = fitNsCoeffs({ steps: 2000 });
    expect(Math.abs(r.initialMse - 0.5815)).toBeLessThan(0.02);
    expect(Math.abs(r.coefficients[0] - 1.0933)).toBeLessThan(0.004);
    expect(Math.abs(r.coefficients[1] + 1.0257)).toBeLessThan(0.004);
    expect(Math.abs(r.coefficients[2] - 0.9381)).toBeLessThan(0.004);
    expect(Math.abs(r.mse - 0.4616)).toBeLessThan(0.015);
    expect(r.mse).toBeLessThan(r.initialMse);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = fitNsCoeffs({ steps: 300, batch: 128, lr: 1e-3, seed: 7 });
    const b = fitNsCoeffs({ steps: 300, batch: 128, lr: 1e-3, seed: 7 });
    const c = fitNsCoeffs({ steps: 300, batch: 128, lr: 1e-3, seed: 8 });
    expect(b.coefficients).toEqual(a.coefficients);
    expect(b.lastBatchLoss).toBe(a.lastBatchLoss);
    expect(c.coefficients).not.toEqual(a.coefficients);
  });

  it("Keller Jordan's coefficients have a larger MSE than seed 001's (they maximise the slope at 0 instead)", () => {
    expect(gridMse(KELLER_COEFFICIENTS, 5)).toBeGreaterThan(10 * gridMse([3.101, -3.4236, 1.3181], 5));
  });

  it('stops where f^(k) overflows and says so', () => {
    const r = fitNsCoeffs({ steps: 10, init: [-1, 2, 3] });
    expect(r.divergedAt).toBe(1);
    expect(r.coefficients).toEqual([-1, 2, 3]);
  });
});

describe('descent ns-coeffs', () => {
  it('prints the fitted coefficients and the comparison; --json has the same numbers', async () => {
    const args = ['ns-coeffs', '--steps', '200', '--batch', '64', '--seed', '3', '--lr', '1e-3'];
    const text = await cli(args);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^descent ns-coeffs: k = 5, Adam lr 0.001, 200 steps, batch 64, seed 3/);
    expect(text.stdout).toMatch(/\n {2}Keller Jordan \(Muon\) +3\.4445 +-4\.7750 +2\.0315 /);
    const json = await cli([...args, '--json']);
    const r = JSON.parse(json.stdout) as { coefficients: number[]; mse: number; kellerMse: number; steps: number };
    const direct = fitNsCoeffs({ steps: 200, batch: 64, seed: 3, lr: 1e-3 });
    expect(r.coefficients).toEqual([...direct.coefficients]);
    expect(r.mse).toBe(direct.mse);
    expect(r.kellerMse).toBe(gridMse(KELLER_COEFFICIENTS, 5));
    expect(text.stdout).toContain(direct.coefficients[0].toFixed(4));
  });

  it('--log-every prints progress on stderr; bad values are one-line errors', async () => {
    const r = await cli(['ns-coeffs', '--steps', '20', '--batch', '8', '--log-every', '10', '--init=-0.1,1.5,-0.4']);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^step 10: loss /);
    const bad = await cli(['ns-coeffs', '--init', '1,2']);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: "descent: option '--init <a,b,c>' argument '1,2' is invalid. expected three numbers a,b,c.\n" });
    expect((await cli(['ns-coeffs', '--seed', '-1'])).stderr).toBe("descent: option '--seed <s>' argument '-1' is invalid. expected a non-negative integer.\n");
  });
});
