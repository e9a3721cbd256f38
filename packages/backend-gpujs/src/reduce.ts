import { SUM_BLOCK } from './kernel.js';
import type { Program } from './program.js';

/**
 * Reductions: each device thread folds {@link SUM_BLOCK} consecutive elements in float32 (a loop with a constant
 * bound, which every gpu.js backend compiles), and the host combines the ⌈n/B⌉ partial results in Float64. For a
 * sum of n non-negative terms the float32 part has relative error at most (B − 1)·u (u = 2⁻²⁴); the Float64 part
 * adds nothing measurable.
 *
 * @packageDocumentation
 */

/** `sum`: Σx (signed; its float32 part is bounded by (B − 1)·u·Σ|x|). */
export type Reduction = 'sumSquares' | 'sum' | 'maxAbs' | { readonly sumAbsPow: number };

/** Number of partial results of a reduction over n elements. */
export function partialCount(n: number): number {
  return Math.ceil(n / SUM_BLOCK);
}

/** The program writing the partial results of `reduction` over the flat buffer `source` (n elements) into `dest`. */
export function reductionProgram(source: string, n: number, reduction: Reduction, dest: string): Program {
  let fold: string;
  const scalars: string[] = [];
  if (reduction === 'sumSquares') fold = 's += x * x;';
  else if (reduction === 'sum') fold = 's += x;';
  else if (reduction === 'maxAbs') fold = 's = Math.max(s, Math.abs(x));';
  else {
    fold = 's += Math.pow(Math.abs(x), p);';
    scalars.push('p');
  }
  return {
    output: [partialCount(n)],
    arrays: { a: { buffer: source, dims: [n] } },
    scalars,
    body: `const start = this.thread.x * ${SUM_BLOCK};
let s = 0.0;
for (let j = 0; j < ${SUM_BLOCK}; j++) {
  const k = start + j;
  if (k < ${n}) {
    const x = a[k];
    ${fold}
  }
}`,
    writes: { [dest]: 's' },
  };
}

/** Combines partial results on the host in Float64. */
export function combinePartials(partials: Float32Array, reduction: Reduction): number {
  let total = 0;
  if (reduction === 'maxAbs') {
    for (let i = 0; i < partials.length; i++) total = Math.max(total, partials[i] as number);
  } else {
    for (let i = 0; i < partials.length; i++) total += partials[i] as number;
  }
  return total;
}

/**
 * Partial per-unit sums of Σx or Σx² over a flat buffer of `units` units of `size` consecutive elements: a
 * two-dimensional output over (block, unit), each thread folding {@link SUM_BLOCK} elements of its unit in float32.
 */
export function unitReductionProgram(source: string, units: number, size: number, kind: 'sum' | 'sumSquares', dest: string): Program {
  return {
    output: [partialCount(size), units],
    arrays: { a: { buffer: source, dims: [units * size] } },
    scalars: [],
    body: `const start = this.thread.x * ${SUM_BLOCK};
let s = 0.0;
for (let j = 0; j < ${SUM_BLOCK}; j++) {
  const k = start + j;
  if (k < ${size}) {
    const x = a[this.thread.y * ${size} + k];
    ${kind === 'sum' ? 's += x;' : 's += x * x;'}
  }
}`,
    writes: { [dest]: 's' },
  };
}
