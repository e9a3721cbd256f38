import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { beale, distanceToMinimum, himmelblau, quadratic, rastrigin, rosenbrock, testFunctions, type TestFunction } from '../src/index.js';

const all = [...testFunctions.values()];

function grad(fn: TestFunction, x: readonly number[]): number[] {
  return [...fn.gradient(x, new Float64Array(fn.dimension))];
}

/** Central difference (f(x + h e_i) − f(x − h e_i)) / 2h with h scaled to |x_i|. */
function centralDifference(fn: TestFunction, x: readonly number[]): number[] {
  return x.map((xi, i) => {
    const h = 1e-5 * Math.max(1, Math.abs(xi));
    const plus = [...x];
    const minus = [...x];
    plus[i] = xi + h;
    minus[i] = xi - h;
    return (fn.value(plus) - fn.value(minus)) / (plus[i]! - minus[i]!);
  });
}

describe('test functions', () => {
  it('lists the five functions by name', () => {
    expect([...testFunctions.keys()]).toEqual(['rosenbrock', 'rastrigin', 'beale', 'himmelblau', 'quadratic']);
    for (const [name, fn] of testFunctions) {
      expect(fn.name).toBe(name);
      expect(fn.dimension).toBe(2);
      expect(fn.start).toHaveLength(2);
      expect(fn.domain).toHaveLength(2);
    }
  });

  describe.each(all.map((f) => [f.name, f] as const))('%s', (_name, fn) => {
    it('analytic gradient matches central finite differences at random points of the domain', () => {
      const [[x0, x1], [y0, y1]] = fn.domain as [[number, number], [number, number]];
      fc.assert(
        fc.property(
          fc.double({ min: x0, max: x1, noNaN: true }),
          fc.double({ min: y0, max: y1, noNaN: true }),
          (x, y) => {
            const g = grad(fn, [x, y]);
            const fd = centralDifference(fn, [x, y]);
            // Truncation O(h²·f''') plus rounding O(u·|f|/h): both far below 1e-6 of the function's scale here.
            const tol = 1e-6 * (1 + Math.abs(fn.value([x, y])) + Math.hypot(g[0]!, g[1]!));
            return Math.abs(g[0]! - fd[0]!) <= tol && Math.abs(g[1]! - fd[1]!) <= tol;
          },
        ),
        { numRuns: 300, seed: 20240611 },
      );
    });

    it('has its minimal value and a zero gradient at every global minimum, and larger values around it', () => {
      for (const m of fn.minima) {
        expect(fn.value(m)).toBeGreaterThanOrEqual(fn.minValue);
        expect(fn.value(m) - fn.minValue).toBeLessThan(1e-25);
        const g = grad(fn, m);
        expect(Math.hypot(g[0]!, g[1]!)).toBeLessThan(1e-12);
        for (let k = 0; k < 8; k++) {
          const a = (k * Math.PI) / 4;
          const near = [m[0]! + 1e-3 * Math.cos(a), m[1]! + 1e-3 * Math.sin(a)];
          expect(fn.value(near)).toBeGreaterThan(fn.value(m));
        }
        expect(distanceToMinimum(fn, m)).toBe(0);
      }
    });

    it('has its start point and minima inside the plot domain, and does not start at a minimum', () => {
      const inside = (p: readonly number[]) => p.every((v, i) => v >= fn.domain[i]![0] && v <= fn.domain[i]![1]);
      expect(inside(fn.start)).toBe(true);
      for (const m of fn.minima) expect(inside(m)).toBe(true);
      expect(distanceToMinimum(fn, fn.start)).toBeGreaterThan(1);
    });

    it('is frozen', () => {
      expect(Object.isFrozen(fn)).toBe(true);
      expect(Object.isFrozen(fn.start)).toBe(true);
      expect(Object.isFrozen(fn.minima[0])).toBe(true);
    });
  });

  it('exact minima give exactly the minimal value', () => {
    expect(rosenbrock.value([1, 1])).toBe(0);
    expect(rastrigin.value([0, 0])).toBe(0);
    expect(beale.value([3, 0.5])).toBe(0);
    expect(himmelblau.value([3, 2])).toBe(0);
    expect(quadratic.value([1, 1])).toBe(0);
  });

  it('hand-computed values and gradients at the start points', () => {
    // Rosenbrock at (−2, 2): (1+2)² + 100(2−4)² = 9 + 400; ∂x = −2·3 − 400·(−2)·(−2) = −1606, ∂y = 200·(−2).
    expect(rosenbrock.value([-2, 2])).toBe(409);
    expect(grad(rosenbrock, [-2, 2])).toEqual([-1606, -400]);
    // Rastrigin at (−2, 3.5): 20 + (4 − 10·cos(−4π)) + (12.25 − 10·cos(7π)) = 20 − 6 + 22.25.
    expect(rastrigin.value([-2, 3.5])).toBeCloseTo(36.25, 12);
    // ∂ = 2x + 20π sin(2πx): sin(−4π) = sin(7π) = 0, so the gradient is 2x.
    const gr = grad(rastrigin, [-2, 3.5]);
    expect(gr[0]).toBeCloseTo(-4, 12);
    expect(gr[1]).toBeCloseTo(7, 12);
    // Beale at (1, 1.5): residuals 1.5 − 1 + 1.5 = 2, 2.25 − 1 + 2.25 = 3.5, 2.625 − 1 + 3.375 = 5.
    expect(beale.value([1, 1.5])).toBe(4 + 12.25 + 25);
    // ∂x = 2·2·0.5 + 2·3.5·1.25 + 2·5·2.375 = 2 + 8.75 + 23.75; ∂y = 2·2·1 + 2·3.5·2·1.5 + 2·5·3·2.25 = 4 + 21 + 67.5.
    expect(grad(beale, [1, 1.5])).toEqual([34.5, 92.5]);
    // Beale is flat along y = 1: 1.5² + 2.25² + 2.625².
    for (const x of [-4, 0, 2.5, 100]) expect(beale.value([x, 1])).toBe(14.203125);
    // Himmelblau at (0, 0): 121 + 49; ∂x = 2·(−7), ∂y = 2·(−11).
    expect(himmelblau.value([0, 0])).toBe(170);
    expect(grad(himmelblau, [0, 0])).toEqual([-14, -22]);
    // Quadratic at (−2, 0): ¼(0.1·(−4)² + 10·(−2)²) = 0.4 + 10.
    expect(quadratic.value([-2, 0])).toBeCloseTo(10.4, 13);
  });

  it('the quadratic has curvature 0.1 along (1, 1) and 10 along (1, −1) around (1, 1): condition number 100', () => {
    // One unit along an eigenvector from the minimum: the gradient is the curvature times that vector.
    const g1 = grad(quadratic, [2, 2]);
    const g2 = grad(quadratic, [2, 0]);
    expect(g1[0]).toBeCloseTo(0.1, 15);
    expect(g1[1]).toBeCloseTo(0.1, 15);
    expect(g2).toEqual([10, -10]);
    expect(g2[0]! / g1[0]!).toBeCloseTo(100, 12);
  });

  it('distanceToMinimum picks the nearest of Himmelblau’s four minima', () => {
    expect(distanceToMinimum(himmelblau, [3, 5])).toBe(3);
    expect(distanceToMinimum(himmelblau, [-2.805118086952745 + 0.3, 3.131312518250573 - 0.4])).toBeCloseTo(0.5, 12);
    expect(distanceToMinimum(rosenbrock, [4, 5])).toBe(5);
  });
});
