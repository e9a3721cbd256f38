/**
 * Test functions for optimizers: small closed-form landscapes with known minima, used by the `descent race`
 * command, the playground's trajectory pictures and the tests.
 *
 * @packageDocumentation
 */

/** A closed interval `[lo, hi]`. */
export type DomainInterval = readonly [number, number];

/** A differentiable test function on ℝⁿ with known global minima. */
export interface TestFunction {
  /** Identifier used on the command line (`rosenbrock`). */
  readonly name: string;
  /** Display name (`Rosenbrock`). */
  readonly title: string;
  /** Number of variables n (2 for every function here). */
  readonly dimension: number;
  /** f(x). `x` has `dimension` entries. */
  value(x: ArrayLike<number>): number;
  /** Writes ∇f(x) into `out` (length `dimension`) and returns `out`. Never reads `out`, so `out` may alias nothing. */
  gradient(x: ArrayLike<number>, out: Float64Array): Float64Array;
  /** Every global minimizer (Himmelblau has four), as doubles as close as can be written. */
  readonly minima: ReadonlyArray<readonly number[]>;
  /** The minimal value f(x*). */
  readonly minValue: number;
  /** The usual starting point of trajectory pictures. */
  readonly start: readonly number[];
  /** Plot domain, one interval per variable. */
  readonly domain: readonly DomainInterval[];
}

/** Euclidean distance from `x` to the nearest of `fn.minima`. */
export function distanceToMinimum(fn: TestFunction, x: ArrayLike<number>): number {
  let best = Infinity;
  for (const m of fn.minima) {
    let s = 0;
    for (let i = 0; i < m.length; i++) {
      const d = (x[i] as number) - (m[i] as number);
      s += d * d;
    }
    best = Math.min(best, Math.sqrt(s));
  }
  return best;
}

/** Freezes a test function and its arrays. */
export function defineTestFunction(fn: TestFunction): TestFunction {
  for (const m of fn.minima) Object.freeze(m);
  Object.freeze(fn.minima);
  Object.freeze(fn.start);
  for (const d of fn.domain) Object.freeze(d);
  Object.freeze(fn.domain);
  return Object.freeze(fn);
}
