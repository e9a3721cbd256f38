/**
 * Programs: what a kernel module asks the device to compute, as gpu.js kernel source plus the buffers it reads
 * and writes. A program is compiled once per parameter (per distinct source) and reused every step.
 *
 * Kernel source is written as strings in gpu.js's JavaScript subset, not as functions: gpu.js compiles
 * `fn.toString()`, which transpilers and minifiers rewrite (helpers, renamed or reordered code), while a string
 * reaches gpu.js exactly as written.
 *
 * @packageDocumentation
 */

/** An array argument of a program: the buffer bound to it and the dims the kernel indexes it with. */
export interface ArrayBinding {
  readonly buffer: string;
  /** gpu.js dims, x fastest: `[n]` for a flat view (`a[i]`), `[cols, rows]` for a matrix view (`a[row][col]`). */
  readonly dims: readonly number[];
}

/** One device computation: every output element runs `body` and takes the values of the `writes` locals. */
export interface Program {
  /** Output dims (gpu.js order, x fastest): `[n]` for elementwise work, `[cols, rows]` for a matrix. */
  readonly output: readonly number[];
  /** Array arguments, by argument name, in argument order. */
  readonly arrays: Readonly<Record<string, ArrayBinding>>;
  /** Scalar arguments (float32 in the kernel), in argument order after the arrays. */
  readonly scalars: readonly string[];
  /** Kernel statements (gpu.js's JavaScript subset); may read `this.thread.x`/`y`/`z`, never returns. */
  readonly body: string;
  /** Output buffer → local variable holding its new value. Several outputs need a one-dimensional `output`. */
  readonly writes: Readonly<Record<string, string>>;
}

/** How a device turns a program with several outputs into gpu.js kernels. */
export type OutputStrategy =
  /** One kernel with output `[n, k]`; row `this.thread.y = r` holds output r (webasm, cpu: one pass over memory). */
  | 'rows'
  /** One kernel per output, each returning one value (GL: every output its own texture). */
  | 'split';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks names, so that a mistake in a kernel module fails with a clear message rather than inside gpu.js. */
export function checkProgram(p: Program): void {
  for (const name of [...Object.keys(p.arrays), ...p.scalars, ...Object.values(p.writes)]) {
    if (!IDENTIFIER.test(name)) throw new Error(`gpujs program: ${JSON.stringify(name)} is not an identifier`);
  }
  const outs = Object.keys(p.writes);
  if (outs.length === 0) throw new Error('gpujs program: writes nothing');
  if (outs.length > 1 && p.output.length !== 1) throw new Error('gpujs program: several outputs need a one-dimensional output');
}

/** A statement `let x = …;`, `const x = …;` or `x = …;` on one line: declaration keyword, name, right-hand side. */
const ASSIGNMENT = /^(?:(let|const)\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*(.*);$/;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/g;

/**
 * The statements of `body` that the value of `result` depends on, or the whole body when it is not a sequence of
 * one-line assignments (loops and branches are kept whole). With several outputs every output is a kernel of its own
 * (`split`) or a branch of one (`rows`), and gpu.js evaluates the whole body for each; without this, Adam's three
 * outputs computed the full update three times per element. Dependencies are taken from every word of a right-hand
 * side (an over-approximation: a kept statement is never wrong, only slower). A plain reassignment keeps its
 * variable needed, so that the declaration it assigns to is kept too.
 */
export function sliceBody(body: string, result: string): string {
  const lines = body.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const parsed = lines.map((l) => ASSIGNMENT.exec(l));
  if (parsed.some((m) => m === null)) return body;
  const needed = new Set([result]);
  const keep: string[] = [];
  for (let j = lines.length - 1; j >= 0; j--) {
    const [, declares, name, rhs] = parsed[j] as RegExpExecArray;
    if (!needed.has(name as string)) continue;
    keep.push(lines[j] as string);
    if (declares) needed.delete(name as string);
    for (const w of (rhs as string).match(WORD) ?? []) needed.add(w);
  }
  return keep.reverse().join('\n');
}

/** The gpu.js kernel source(s) of a program under a strategy: one for `rows` (or a single output), one per output for `split`. */
export function kernelSources(p: Program, strategy: OutputStrategy): string[] {
  const args = [...Object.keys(p.arrays), ...p.scalars].join(', ');
  const results = Object.values(p.writes);
  const open = `function (${args}) {\n`;
  if (results.length === 1) return [`${open}${p.body}\nreturn ${results[0]};\n}`];
  if (strategy === 'split') return results.map((r) => `${open}${sliceBody(p.body, r)}\nreturn ${r};\n}`);
  const branches = results
    .slice(0, -1)
    .map((r, k) => `if (this.thread.y === ${k}) {\n${sliceBody(p.body, r)}\nreturn ${r};\n}\n`)
    .join('');
  const last = results[results.length - 1] as string;
  return [`${open}${branches}${sliceBody(p.body, last)}\nreturn ${last};\n}`];
}

/** Output dims of the kernel(s) compiled from a program. */
export function kernelOutput(p: Program, strategy: OutputStrategy): number[] {
  const k = Object.keys(p.writes).length;
  return k > 1 && strategy === 'rows' ? [p.output[0] as number, k] : [...p.output];
}

/** A cache key of a program: everything that changes the compiled kernel. */
export function programKey(p: Program): string {
  const arrays = Object.entries(p.arrays).map(([a, b]) => `${a}:${b.dims.join('x')}`);
  return `${p.output.join('x')}|${arrays.join(',')}|${p.scalars.join(',')}|${Object.values(p.writes).join(',')}|${p.body}`;
}

/** A float literal for kernel source (gpu.js types `1` as an integer and `1.0` as a float). */
export function float(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`gpujs program: ${x} cannot be written as a literal`);
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
