import type { Work } from '@descent/core';
import type { GpujsKernelContext } from './kernel.js';
import type { Program } from './program.js';

/**
 * Matrix programs for the matrix optimizers (Muon's Newton–Schulz): transposes and products as gpu.js kernels
 * with two-dimensional outputs, the Frobenius norm as a device reduction. A matrix buffer of r rows and c columns
 * is stored row-major and has gpu.js dims `[c, r]` (x is the column), and is indexed `m[row][col]`. Inner
 * dimensions are baked into each kernel as loop bounds, so every parameter shape gets its own kernels.
 *
 * @packageDocumentation
 */

/** X₀ = G/d as an R × C matrix, R ≤ C, read from the flat row-major `rows × cols` buffer `source` (transposed when tall). */
export function normalizedProgram(source: string, rows: number, cols: number, dest: string): Program {
  const tall = rows > cols;
  const [r, c] = tall ? [cols, rows] : [rows, cols];
  return {
    output: [c, r],
    arrays: { u: { buffer: source, dims: [rows * cols] } },
    scalars: ['denominator'],
    body: tall
      ? `const x = u[this.thread.x * ${cols} + this.thread.y] / denominator;`
      : `const x = u[this.thread.y * ${cols} + this.thread.x] / denominator;`,
    writes: { [dest]: 'x' },
  };
}

/** A = X·Xᵀ for an R × C matrix X: an R × R matrix. */
export function gramProgram(x: string, r: number, c: number, dest: string): Program {
  return {
    output: [r, r],
    arrays: { x: { buffer: x, dims: [c, r] } },
    scalars: [],
    body: `let s = 0.0;
for (let p = 0; p < ${c}; p++) { s += x[this.thread.y][p] * x[this.thread.x][p]; }`,
    writes: { [dest]: 's' },
  };
}

/** B = b·A + c·(A·A) for an R × R matrix A (scalars `nsB`, `nsC`). */
export function polyProgram(a: string, r: number, dest: string): Program {
  return {
    output: [r, r],
    arrays: { a: { buffer: a, dims: [r, r] } },
    scalars: ['nsB', 'nsC'],
    body: `let s = 0.0;
for (let p = 0; p < ${r}; p++) { s += a[this.thread.y][p] * a[p][this.thread.x]; }
const v = nsB * a[this.thread.y][this.thread.x] + nsC * s;`,
    writes: { [dest]: 'v' },
  };
}

/** X ← a·X + B·X for an R × R matrix B and an R × C matrix X (scalar `nsA`), in place. */
export function stepProgram(b: string, x: string, r: number, c: number): Program {
  return {
    output: [c, r],
    arrays: { pm: { buffer: b, dims: [r, r] }, x: { buffer: x, dims: [c, r] } },
    scalars: ['nsA'],
    body: `let s = 0.0;
for (let p = 0; p < ${r}; p++) { s += pm[this.thread.y][p] * x[p][this.thread.x]; }
const v = nsA * x[this.thread.y][this.thread.x] + s;`,
    writes: { [x]: 'v' },
  };
}

/** Xᵀ of an R × C matrix X, as a C × R matrix. */
export function transposeProgram(x: string, r: number, c: number, dest: string): Program {
  return {
    output: [r, c],
    arrays: { x: { buffer: x, dims: [c, r] } },
    scalars: [],
    body: 'const v = x[this.thread.x][this.thread.y];',
    writes: { [dest]: 'v' },
  };
}

/**
 * The flat tensor `source` (row-major, shape `shape`) with its axes reordered into `dest`: dest has shape
 * `order.map((a) => shape[a])`, or with `inverse` the reverse (source is in view order, dest in `shape`'s), as
 * core's `permuteAxes`. Each output element splits its index by the output's strides (division of integers held
 * in floats on GL: floor((i + ½)/s) is exact below 2²³ elements) and gathers from the source offset.
 */
export function permuteProgram(source: string, shape: readonly number[], order: readonly number[], dest: string, inverse = false): Program {
  const k = shape.length;
  const n = shape.reduce((a, b) => a * b, 1);
  const strides = new Array<number>(k);
  for (let i = k - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  // Output axis m: its size, its stride in the output, and the stride of the same axis in the source.
  const position = new Array<number>(k);
  order.forEach((axis, j) => (position[axis] = j));
  const viewSizes = order.map((a) => shape[a] as number);
  const viewStrides = new Array<number>(k);
  for (let m = k - 1, s = 1; m >= 0; m--) {
    viewStrides[m] = s;
    s *= viewSizes[m] as number;
  }
  const axes = inverse
    ? shape.map((size, a) => ({ size, outStride: strides[a] as number, srcStride: viewStrides[position[a] as number] as number }))
    : order.map((a, m) => ({ size: shape[a] as number, outStride: viewStrides[m] as number, srcStride: strides[a] as number }));
  const terms = axes.filter((a) => a.size > 1).map((a) => `(Math.floor((i + 0.5) / ${a.outStride}) % ${a.size}) * ${a.srcStride}`);
  return {
    output: [n],
    arrays: { x: { buffer: source, dims: [n] } },
    scalars: [],
    body: `const i = this.thread.x;
const v = x[${terms.length > 0 ? terms.join(' + ') : '0'}];`,
    writes: { [dest]: 'v' },
  };
}

/**
 * k Newton–Schulz steps on the `rows × cols` matrix held flat in buffer `source`, as `newtonSchulz` in
 * `core/src/linalg/newton-schulz.ts`: X₀ = G/(‖G‖_F + ε) (transposed first when tall, so that the Gram matrix is
 * the smaller one), then X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ. Returns the name of the buffer holding the result
 * in the layout of G (row-major `rows × cols`).
 */
export function* newtonSchulzDevice(
  ctx: GpujsKernelContext<unknown>,
  source: string,
  rows: number,
  cols: number,
  o: { readonly coefficients: readonly [number, number, number]; readonly steps: number; readonly eps: number; readonly normalize?: 'add' | 'clamp' },
): Work<string> {
  const tall = rows > cols;
  const [r, c] = tall ? [cols, rows] : [rows, cols];
  const norm = Math.sqrt(yield* ctx.sumSquares(source));
  const denominator = o.normalize === 'clamp' ? Math.max(norm, o.eps) : norm + o.eps; // PyTorch's max(‖G‖_F, ε), or Keller's ‖G‖_F + ε
  ctx.run(normalizedProgram(source, rows, cols, 'nsX'), { denominator });
  const [a, b, cc] = o.coefficients;
  for (let j = 0; j < o.steps; j++) {
    ctx.run(gramProgram('nsX', r, c, 'nsGram'));
    ctx.run(polyProgram('nsGram', r, 'nsPoly'), { nsB: b, nsC: cc });
    ctx.run(stepProgram('nsPoly', 'nsX', r, c), { nsA: a });
  }
  if (!tall) return 'nsX';
  ctx.run(transposeProgram('nsX', r, c, 'nsOut'));
  return 'nsOut';
}
