import { compile, derivative, parse, type EvalFunction } from 'mathjs';
import { testFunctions } from '@descent/core';
import type { Domain, Point, Surface } from '@descent/figures';

/**
 * The landscapes a user can race on: core's test functions, or a 2-D expression in x and y typed into the page,
 * parsed by mathjs, with its gradient from mathjs' symbolic derivative (checked against central differences at a
 * few points) or, where mathjs cannot differentiate it, from central differences.
 *
 * @packageDocumentation
 */

/** A surface with its gradient, and where it comes from. */
export interface PlaygroundSurface extends Surface {
  /** `rosenbrock`, … or `custom`. */
  readonly name: string;
  readonly start: Point;
  readonly gradient: (x: number, y: number) => [number, number];
  /** How the gradient is computed, shown under the picture. */
  readonly gradientSource: string;
}

/** One of core's test functions. */
export function builtinSurface(name: string): PlaygroundSurface {
  const fn = testFunctions.get(name);
  if (!fn) throw new Error(`unknown function ${JSON.stringify(name)}; known: ${[...testFunctions.keys()].join(', ')}`);
  const [[x0, x1], [y0, y1]] = fn.domain as unknown as Domain;
  const g = new Float64Array(2);
  return {
    name,
    title: fn.title,
    value: (x, y) => fn.value([x, y]),
    gradient: (x, y) => {
      fn.gradient(Float64Array.of(x, y), g);
      return [g[0] as number, g[1] as number];
    },
    gradientSource: 'analytic gradient (@descent/core)',
    domain: [
      [x0, x1],
      [y0, y1],
    ],
    minima: fn.minima.map((m) => [m[0], m[1]] as Point),
    minValue: fn.minValue,
    start: [fn.start[0] as number, fn.start[1] as number],
  };
}

/** Names of the built-in surfaces, in the race's order. */
export const BUILTIN_SURFACES: readonly string[] = [...testFunctions.keys()];

const evaluate = (f: EvalFunction, x: number, y: number): number => {
  const v: unknown = f.evaluate({ x, y });
  if (typeof v !== 'number') throw new Error(`the expression gives ${typeof v === 'object' ? 'a non-real value' : String(v)} at (${x}, ${y}), not a real number`);
  return v;
};

/**
 * A surface from an expression in x and y on `domain`, e.g. `(1 - x)^2 + 100 (y - x^2)^2`. Throws a message fit
 * for the page when the expression does not parse, uses other variables, or is not a real number at the start.
 */
export function customSurface(expression: string, domain: Domain, start: Point): PlaygroundSurface {
  let node;
  try {
    node = parse(expression);
  } catch (err) {
    throw new Error(`cannot parse the expression: ${(err as Error).message}`);
  }
  const names = new Set(node.filter((n) => n.type === 'SymbolNode').map((n) => (n as unknown as { name: string }).name));
  for (const n of names) if (n !== 'x' && n !== 'y' && !(n in Math) && !['pi', 'e', 'sin', 'cos', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'atan'].includes(n)) {
    throw new Error(`the expression may use x and y only, not ${JSON.stringify(n)}`);
  }
  const f = compile(expression);
  const fd = (x: number, y: number): [number, number] => {
    const hx = 1e-6 * Math.max(1, Math.abs(x));
    const hy = 1e-6 * Math.max(1, Math.abs(y));
    return [(evaluate(f, x + hx, y) - evaluate(f, x - hx, y)) / (2 * hx), (evaluate(f, x, y + hy) - evaluate(f, x, y - hy)) / (2 * hy)];
  };
  let gradient = fd;
  let gradientSource = 'central differences (mathjs could not differentiate the expression)';
  try {
    const dx = derivative(node, 'x').compile();
    const dy = derivative(node, 'y').compile();
    const symbolic = (x: number, y: number): [number, number] => [evaluate(dx, x, y), evaluate(dy, x, y)];
    // Check the symbolic gradient against central differences at a few points of the domain.
    const [[x0, x1], [y0, y1]] = domain;
    for (const [u, v] of [[0.31, 0.27], [0.73, 0.61], [0.52, 0.88], [0.12, 0.45]] as const) {
      const x = x0 + u * (x1 - x0);
      const y = y0 + v * (y1 - y0);
      const a = symbolic(x, y);
      const b = fd(x, y);
      for (let k = 0; k < 2; k++) {
        if (!(Math.abs(a[k]! - b[k]!) <= 1e-4 * (1 + Math.abs(b[k]!)))) throw new Error('symbolic and numerical gradients disagree');
      }
    }
    gradient = symbolic;
    gradientSource = 'symbolic derivative (mathjs), checked against central differences';
  } catch {
    // keep central differences
  }
  const value = (x: number, y: number): number => evaluate(f, x, y);
  value(start[0], start[1]);
  // No known minimum: the lowest point of a 200² grid stands in for f* (the colour scale needs one).
  let best = Infinity;
  let at: Point = start;
  const [[x0, x1], [y0, y1]] = domain;
  for (let j = 0; j < 200; j++) {
    for (let i = 0; i < 200; i++) {
      const x = x0 + ((i + 0.5) / 200) * (x1 - x0);
      const y = y0 + ((j + 0.5) / 200) * (y1 - y0);
      const v = value(x, y);
      if (v < best) {
        best = v;
        at = [x, y];
      }
    }
  }
  return { name: 'custom', title: expression, value, gradient, gradientSource, domain, minima: [at], minValue: best, start };
}
