/**
 * A minimal WebAssembly binary writer (core spec 2.0 with fixed-width SIMD): just what the GEMM kernel of
 * `kernel.ts` needs, so that the module is generated in TypeScript at run time, with no toolchain. The same
 * LEB128/section helpers as `backend-tfjs/src/fused/simd.ts`, which encodes its elementwise loops the same way;
 * here instructions are appended to a {@link Code} buffer by name rather than from an expression tree.
 *
 * @packageDocumentation
 */

/** Value types. */
export const I32 = 0x7f;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(n: number, out: number[]): void {
  let v = n >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v !== 0 ? byte | 0x80 : byte);
  } while (v !== 0);
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number, out: number[]): void {
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function name(s: string, out: number[]): void {
  uleb(s.length, out);
  for (const c of s) out.push(c.charCodeAt(0));
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

/** SIMD opcodes used here (after the 0xfd prefix). */
const SIMD = { load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, f32x4Add: 0xe4, f32x4Mul: 0xe6 } as const;

/** One function body under construction: instructions by name, locals by index (parameters first). */
export class Code {
  readonly bytes: number[] = [];
  private push(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  private simd(op: number): this {
    this.bytes.push(0xfd);
    uleb(op, this.bytes);
    return this;
  }
  private memarg(align: number, offset: number): this {
    uleb(align, this.bytes);
    uleb(offset, this.bytes);
    return this;
  }
  get(i: number): this {
    this.bytes.push(0x20);
    uleb(i, this.bytes);
    return this;
  }
  set(i: number): this {
    this.bytes.push(0x21);
    uleb(i, this.bytes);
    return this;
  }
  i32(n: number): this {
    this.bytes.push(0x41);
    sleb(n, this.bytes);
    return this;
  }
  add(): this {
    return this.push(0x6a);
  }
  sub(): this {
    return this.push(0x6b);
  }
  mul(): this {
    return this.push(0x6c);
  }
  /** `block` with no result. */
  block(): this {
    return this.push(0x02, 0x40);
  }
  /** `loop` with no result. */
  loop(): this {
    return this.push(0x03, 0x40);
  }
  /** `if` with no result (pops an i32). */
  if(): this {
    return this.push(0x04, 0x40);
  }
  else(): this {
    return this.push(0x05);
  }
  end(): this {
    return this.push(0x0b);
  }
  /** `br_if depth` (pops an i32). */
  brIf(depth: number): this {
    this.bytes.push(0x0d);
    uleb(depth, this.bytes);
    return this;
  }
  /** `v128.load` at the address on the stack plus a static byte offset. */
  v128Load(offset: number): this {
    return this.simd(SIMD.load).memarg(4, offset);
  }
  /** `v128.store` (address, value on the stack) at a static byte offset. */
  v128Store(offset: number): this {
    return this.simd(SIMD.store).memarg(4, offset);
  }
  /** `v128.load32_splat`: one float32 broadcast to the four lanes. */
  load32Splat(offset: number): this {
    return this.simd(SIMD.load32Splat).memarg(2, offset);
  }
  /** `v128.const` of sixteen zero bytes. */
  v128Zero(): this {
    this.simd(SIMD.const);
    for (let i = 0; i < 16; i++) this.bytes.push(0);
    return this;
  }
  f32x4Add(): this {
    return this.simd(SIMD.f32x4Add);
  }
  f32x4Mul(): this {
    return this.simd(SIMD.f32x4Mul);
  }
}

/** A function of a module: i32 parameters and results, extra locals as `[count, type]` runs, its exported name. */
export interface FunctionDef {
  readonly name: string;
  readonly params: number;
  readonly locals: ReadonlyArray<readonly [number, number]>;
  readonly code: Code;
}

/**
 * A module importing `env.memory` (shared when `shared`, then with a maximum of 65,536 pages as wasm threads
 * require) and exporting every function of `functions`, each taking `params` i32 arguments and returning nothing.
 */
export function encodeModule(functions: readonly FunctionDef[], shared: boolean): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(functions.length, types);
  for (const f of functions) {
    types.push(0x60);
    uleb(f.params, types);
    for (let i = 0; i < f.params; i++) types.push(I32);
    uleb(0, types);
  }
  section(1, types, out);
  const imports: number[] = [];
  uleb(1, imports);
  name('env', imports);
  name('memory', imports);
  imports.push(0x02);
  if (shared) {
    imports.push(0x03);
    uleb(1, imports);
    uleb(65536, imports);
  } else {
    imports.push(0x00);
    uleb(1, imports);
  }
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(functions.length, funcs);
  functions.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(functions.length, code);
  for (const f of functions) {
    const body: number[] = [];
    uleb(f.locals.length, body);
    for (const [count, type] of f.locals) {
      uleb(count, body);
      body.push(type);
    }
    body.push(...f.code.bytes, 0x0b);
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return new Uint8Array(out);
}
