/**
 * A tiny WebAssembly SIMD code generator for fused elementwise optimizer loops that run directly on the TF.js
 * wasm backend's heap.
 *
 * A kernel is written once as a short program of per-element statements (see {@link SimdProgram}); this module
 * turns it into a WebAssembly module (a few hundred bytes, built in memory, no toolchain) whose one function walks
 * the arrays two elements at a time: each float32 element is widened to float64 (`f64x2.promote_low_f32x4`), all
 * arithmetic is IEEE float64 in the program's order, and a store narrows back to float32
 * (`f32x4.demote_f64x2_zero`, round to nearest even). A load after a store reads the rounded value back. That is
 * exactly what the JavaScript loops of `kernels.ts` do on `Float32Array`s (JavaScript numbers are float64, a
 * `Float32Array` store rounds), so the two produce bit-identical results; the tests check it. (Both are now
 * generated from the same program: `js.ts`.)
 *
 * A program with `precision: 'f32'` is encoded in float32 arithmetic instead: four elements per instruction
 * (`v128.load`, f32x4 operations, `v128.store`), scalars and constants rounded to float32 once. Its JavaScript form
 * rounds every operation with `Math.fround`, so the two still agree bit for bit; neither equals the float64 form.
 * This is what `fused: 'f32'` runs (about twice the float64 form's speed where f64x2 division and square root
 * are the limit, as in Adam) and what the bench's roofs use.
 *
 * The module imports the memory of the TF.js wasm backend, so pointers are the backend's own `memoryOffset`s and
 * nothing is copied.
 *
 * @packageDocumentation
 */

/** A per-element expression. */
export type SimdExpr =
  | { readonly op: 'load'; readonly array: string }
  | { readonly op: 'scalar'; readonly name: string }
  | { readonly op: 'const'; readonly value: number }
  | { readonly op: 'local'; readonly name: string }
  | { readonly op: 'add' | 'sub' | 'mul' | 'div' | 'max'; readonly a: SimdExpr; readonly b: SimdExpr }
  | { readonly op: 'sqrt' | 'neg' | 'abs' | 'sign'; readonly a: SimdExpr };

/** A per-element statement: bind a float64 local, or store (rounding to float32) into an array. */
export type SimdStmt = { readonly let: string; readonly value: SimdExpr } | { readonly store: string; readonly value: SimdExpr };

/**
 * One fused loop: `arrays` are float32 arrays (pointer arguments, in this order), `scalars` float64 arguments
 * (broadcast to every element), `body` the statements run for every element, in order.
 */
export interface SimdProgram {
  readonly arrays: readonly string[];
  readonly scalars: readonly string[];
  readonly body: readonly SimdStmt[];
  /**
   * The arithmetic. `f64` (default): every element widened to float64, float64 arithmetic, rounded on store —
   * the reference's arithmetic on float32 storage, two lanes per instruction. `f32`: float32 arithmetic
   * throughout (scalars and constants rounded to float32 first, every operation rounded), four lanes per
   * instruction; the JavaScript form rounds every operation with `Math.fround`, so the two forms still agree bit
   * for bit, but neither equals the float64 reference (used for the bench's memory-roof triad).
   */
  readonly precision?: 'f64' | 'f32';
}

/** Builders for programs, so kernels read like their loops. */
export const simd = {
  load: (array: string): SimdExpr => ({ op: 'load', array }),
  scalar: (name: string): SimdExpr => ({ op: 'scalar', name }),
  num: (value: number): SimdExpr => ({ op: 'const', value }),
  ref: (name: string): SimdExpr => ({ op: 'local', name }),
  add: (a: SimdExpr, b: SimdExpr): SimdExpr => ({ op: 'add', a, b }),
  sub: (a: SimdExpr, b: SimdExpr): SimdExpr => ({ op: 'sub', a, b }),
  mul: (a: SimdExpr, b: SimdExpr): SimdExpr => ({ op: 'mul', a, b }),
  div: (a: SimdExpr, b: SimdExpr): SimdExpr => ({ op: 'div', a, b }),
  /** `Math.max`: NaN if either is NaN, +0 for (−0, +0). */
  max: (a: SimdExpr, b: SimdExpr): SimdExpr => ({ op: 'max', a, b }),
  sqrt: (a: SimdExpr): SimdExpr => ({ op: 'sqrt', a }),
  neg: (a: SimdExpr): SimdExpr => ({ op: 'neg', a }),
  abs: (a: SimdExpr): SimdExpr => ({ op: 'abs', a }),
  /** `Math.sign`: ±1, or the argument itself when it is ±0 or NaN. */
  sign: (a: SimdExpr): SimdExpr => ({ op: 'sign', a }),
  let: (name: string, value: SimdExpr): SimdStmt => ({ let: name, value }),
  store: (array: string, value: SimdExpr): SimdStmt => ({ store: array, value }),
};

/** Elements per loop iteration of a compiled program (see {@link encodeProgram}); the caller hands the rest to the JavaScript loop. */
export const SIMD_BLOCK = 8;

// ---------------------------------------------------------------------------------------------------------------
// Binary encoding (WebAssembly core spec 2.0 + fixed-width SIMD).

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  f64Const: 0x44,
  f32Const: 0x43,
  f32DemoteF64: 0xb6,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  simd: 0xfd,
} as const;

/** SIMD opcodes (after the 0xfd prefix, LEB128-encoded). */
const simdOp = {
  v128Load: 0x00,
  v128Store: 0x0b,
  f32x4Splat: 0x13,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Max: 0xe9,
  load64Zero: 0x5d,
  store64Lane: 0x5b,
  f64x2Splat: 0x14,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  bitselect: 0x52,
  demoteZero: 0x5e,
  promoteLow: 0x5f,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Max: 0xf5,
} as const;

function uleb(n: number, out: number[]): void {
  let v = n >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v !== 0 ? byte | 0x80 : byte);
  } while (v !== 0);
}

function sleb(n: number, out: number[]): void {
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
  const bytes = [...s].map((c) => c.charCodeAt(0));
  uleb(bytes.length, out);
  out.push(...bytes);
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

function vec<T>(items: readonly T[], each: (item: T, out: number[]) => void, out: number[]): void {
  uleb(items.length, out);
  for (const item of items) each(item, out);
}

/**
 * Encodes a program as a module exporting `run(ptr…, byteLength, scalar…)`, which processes the elements at byte
 * offsets [0, byteLength) of every array; byteLength must be a multiple of 4·`block` bytes. Each iteration runs the
 * body on `block`/2 independent pairs of elements: float64 division and square root are long-latency, and a single
 * pair per iteration leaves the divider waiting on its own chain (measured here: Adam 340 → 380 Mparam/s from 2
 * to 8 elements per iteration, Lion 565 → 720).
 * `shared` makes the memory import match a shared (threaded) memory.
 */
export function encodeProgram(program: SimdProgram, shared: boolean, block: number = SIMD_BLOCK): Uint8Array {
  // Static offsets and local indices are written as single LEB128 bytes below: keep them under 128.
  if (!Number.isInteger(block) || block < 2 || block % 2 !== 0 || block > 32) throw new Error(`simd program: block must be an even number in [2, 32], got ${block}`);
  if (program.arrays.length > 64) throw new Error('simd program: too many arrays');
  const f32 = program.precision === 'f32';
  if (f32 && block % 4 !== 0) throw new Error(`simd program: an f32 program's block must be a multiple of 4, got ${block}`);
  /** Bytes of one vector's worth of elements: 2 float32 (widened to f64x2) or 4 (f32x4). */
  const laneBytes = f32 ? 16 : 8;
  const nArrays = program.arrays.length;
  const nScalars = program.scalars.length;
  const arrayIndex = new Map(program.arrays.map((a, i) => [a, i]));
  // Parameters: pointers, byte length, float64 scalars. Locals: offset (i32), splatted scalars, lets, a temp.
  const pByteLength = nArrays;
  const pScalar = (i: number) => nArrays + 1 + i;
  const lOffset = nArrays + 1 + nScalars;
  const lSplat = (i: number) => lOffset + 1 + i;
  const letNames: string[] = [];
  for (const s of program.body) if ('let' in s && !letNames.includes(s.let)) letNames.push(s.let);
  const lLet = (n: string) => lOffset + 1 + nScalars + letNames.indexOf(n);
  const lTemp = lOffset + 1 + nScalars + letNames.length;
  // Per array: a local holding its element vector once loaded or stored in this pair (widened in an f64 program),
  // so a later load reads the local instead of memory; and a temp for a store's narrowed value.
  const lCache = (array: string) => lTemp + 1 + (arrayIndex.get(array) as number);
  const lStored = lTemp + 1 + nArrays;
  const cached = new Set<string>();
  // A store overwritten later in the iteration is not written (its value lives on in the local), unless the array
  // that may alias it (θ for the output, the output for θ) is loaded in between; a store to either forgets the
  // other's cached value.
  const partner = (a: string) => (a === 'out' ? 'theta' : a === 'theta' ? 'out' : undefined);
  const loads = (e: SimdExpr, array: string): boolean => (e.op === 'load' ? e.array === array : 'a' in e && (loads(e.a, array) || ('b' in e && loads(e.b, array))));
  const dead = program.body.map((s, j) => {
    if (!('store' in s)) return false;
    const other = partner(s.store);
    for (let k = j + 1; k < program.body.length; k++) {
      const later = program.body[k] as SimdStmt;
      if (other !== undefined && loads(later.value, other)) return false;
      if ('store' in later && later.store === s.store) return true;
    }
    return false;
  });
  const scalarIndex = new Map(program.scalars.map((s, i) => [s, i]));

  const code: number[] = [];
  let memOffset = 0; // static offset of the pair being emitted (the body is emitted once per pair of the block)
  const simdInstr = (o: number, ...imm: number[]) => {
    code.push(op.simd);
    uleb(o, code);
    code.push(...imm);
  };
  const address = (array: string) => {
    const p = arrayIndex.get(array);
    if (p === undefined) throw new Error(`simd program: unknown array ${array}`);
    code.push(op.localGet, p, op.localGet);
    uleb(lOffset, code);
    code.push(op.i32Add);
  };
  const splatConst = (value: number) => {
    if (f32) {
      code.push(op.f32Const, ...new Uint8Array(new Float32Array([value]).buffer));
      simdInstr(simdOp.f32x4Splat);
    } else {
      code.push(op.f64Const, ...new Uint8Array(new Float64Array([value]).buffer));
      simdInstr(simdOp.f64x2Splat);
    }
  };
  const localGet = (i: number) => {
    code.push(op.localGet);
    uleb(i, code);
  };
  const localSet = (i: number) => {
    code.push(op.localSet);
    uleb(i, code);
  };
  const binary: Record<string, number> = f32
    ? { add: simdOp.f32x4Add, sub: simdOp.f32x4Sub, mul: simdOp.f32x4Mul, div: simdOp.f32x4Div, max: simdOp.f32x4Max }
    : { add: simdOp.f64x2Add, sub: simdOp.f64x2Sub, mul: simdOp.f64x2Mul, div: simdOp.f64x2Div, max: simdOp.f64x2Max };
  const unary: Record<string, number> = f32
    ? { sqrt: simdOp.f32x4Sqrt, neg: simdOp.f32x4Neg, abs: simdOp.f32x4Abs }
    : { sqrt: simdOp.f64x2Sqrt, neg: simdOp.f64x2Neg, abs: simdOp.f64x2Abs };

  const emit = (e: SimdExpr): void => {
    switch (e.op) {
      case 'load':
        if (cached.has(e.array)) {
          localGet(lCache(e.array));
          return;
        }
        address(e.array);
        if (f32) {
          simdInstr(simdOp.v128Load, 4, memOffset); // align 2^4, static offset
        } else {
          simdInstr(simdOp.load64Zero, 3, memOffset); // align 2^3, static offset
          simdInstr(simdOp.promoteLow);
        }
        code.push(op.localTee);
        uleb(lCache(e.array), code);
        cached.add(e.array);
        return;
      case 'scalar': {
        const i = scalarIndex.get(e.name);
        if (i === undefined) throw new Error(`simd program: unknown scalar ${e.name}`);
        localGet(lSplat(i));
        return;
      }
      case 'const':
        splatConst(e.value);
        return;
      case 'local':
        if (!letNames.includes(e.name)) throw new Error(`simd program: unknown local ${e.name}`);
        localGet(lLet(e.name));
        return;
      case 'sign':
        // x > 0 ? 1 : (x < 0 ? −1 : x), lane-wise; x kept in a temp. bitselect(a, b, mask) takes a where mask is set.
        emit(e.a);
        localSet(lTemp);
        splatConst(-1);
        splatConst(1);
        localGet(lTemp);
        localGet(lTemp);
        splatConst(0);
        simdInstr(f32 ? simdOp.f32x4Gt : simdOp.f64x2Gt);
        simdInstr(simdOp.bitselect);
        localGet(lTemp);
        splatConst(0);
        simdInstr(f32 ? simdOp.f32x4Lt : simdOp.f64x2Lt);
        simdInstr(simdOp.bitselect);
        return;
      default:
        if ('b' in e) {
          emit(e.a);
          emit(e.b);
          simdInstr(binary[e.op] as number);
        } else {
          emit(e.a);
          simdInstr(unary[e.op] as number);
        }
    }
  };

  // Prologue: splat scalars.
  for (let i = 0; i < nScalars; i++) {
    localGet(pScalar(i));
    if (f32) {
      code.push(op.f32DemoteF64);
      simdInstr(simdOp.f32x4Splat);
    } else {
      simdInstr(simdOp.f64x2Splat);
    }
    localSet(lSplat(i));
  }
  // block { loop { if offset >= byteLength break; body at +0, +8, … (block/2 pairs); offset += 4·block; continue } }
  code.push(op.block, 0x40, op.loop, 0x40);
  localGet(lOffset);
  localGet(pByteLength);
  code.push(op.i32GeU, op.brIf, 1);
  for (memOffset = 0; memOffset < 4 * block; memOffset += laneBytes) {
    cached.clear();
    program.body.forEach((s, j) => {
      if ('let' in s) {
        emit(s.value);
        localSet(lLet(s.let));
        return;
      }
      const write = !dead[j];
      if (write) address(s.store);
      emit(s.value);
      if (f32) {
        // The value is the float32 vector itself: keep it for later loads, then store it.
        code.push(write ? op.localTee : op.localSet);
        uleb(lCache(s.store), code);
        if (write) simdInstr(simdOp.v128Store, 4, memOffset); // align 2^4, static offset
      } else {
        // Narrow; a later load sees the narrowed value widened again, exactly what reading it back gives.
        simdInstr(simdOp.demoteZero);
        code.push(write ? op.localTee : op.localSet);
        uleb(lStored, code);
        if (write) simdInstr(simdOp.store64Lane, 3, memOffset, 0); // align 2^3, static offset, lane 0
        localGet(lStored);
        simdInstr(simdOp.promoteLow);
        localSet(lCache(s.store));
      }
      const other = partner(s.store);
      if (other !== undefined) cached.delete(other);
      cached.add(s.store);
    });
  }
  localGet(lOffset);
  code.push(op.i32Const);
  sleb(4 * block, code);
  code.push(op.i32Add);
  localSet(lOffset);
  code.push(op.br, 0, op.end, op.end); // end loop, end block (the function's end is added below)

  const body: number[] = [];
  const locals: Array<[number, number]> = [
    [1, I32],
    [nScalars + letNames.length + 1 + nArrays + 1, V128],
  ];
  vec(locals, ([count, type], out) => (uleb(count, out), out.push(type)), body);
  body.push(...code);

  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  vec(
    [0],
    (_t, o) => {
      o.push(0x60);
      vec([...Array<number>(nArrays + 1).fill(I32), ...Array<number>(nScalars).fill(F64)], (t, o2) => o2.push(t), o);
      vec([], () => {}, o);
    },
    types,
  );
  section(1, types, out);
  const imports: number[] = [];
  uleb(1, imports);
  name('env', imports);
  name('memory', imports);
  imports.push(0x02);
  if (shared) {
    imports.push(0x03);
    uleb(0, imports);
    uleb(65536, imports);
  } else {
    imports.push(0x00);
    uleb(0, imports);
  }
  section(2, imports, out);
  const funcs: number[] = [];
  vec([0], (t, o) => uleb(t, o), funcs);
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(1, exports);
  name('run', exports);
  exports.push(0x00, 0x00);
  section(7, exports, out);
  const codeSection: number[] = [];
  uleb(1, codeSection);
  uleb(body.length + 1, codeSection);
  codeSection.push(...body, op.end);
  section(10, codeSection, out);
  return new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation, cached per memory and program.

/** The part of the WebAssembly JS API used here (the project's `lib` has no DOM types). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** A compiled loop: pointer arguments, the byte length (a multiple of 4·SIMD_BLOCK), then the float64 scalars. */
export type SimdFunction = (...args: number[]) => void;

function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** Whether this JavaScript engine runs WebAssembly with fixed-width SIMD (checked once). */
export const simdAvailable: () => boolean = (() => {
  let known: boolean | undefined;
  return () => {
    if (known === undefined) {
      try {
        const api = wasmApi();
        known = !!api && api.validate(encodeProgram({ arrays: ['x'], scalars: ['a'], body: [simd.store('x', simd.mul(simd.scalar('a'), simd.load('x')))] }, false));
      } catch {
        known = false;
      }
    }
    return known;
  };
})();

/** Whether `x` is a `WebAssembly.Memory`. */
export function isWasmMemory(x: unknown): x is WasmMemory {
  const api = wasmApi() as unknown as { Memory?: abstract new (...a: never[]) => unknown } | undefined;
  return !!api?.Memory && x instanceof api.Memory;
}

/** A compiled program: its function and the order of its pointer and scalar arguments. */
export interface CompiledSimd {
  readonly run: SimdFunction;
  readonly arrays: readonly string[];
  readonly scalars: readonly string[];
}

const compiled = new WeakMap<WasmMemory, Map<string, CompiledSimd>>();

/**
 * The compiled program on a memory, built on first use. `key` must identify the program (kernels derive it from
 * the options that change its shape). Throws if WebAssembly SIMD is unavailable.
 */
export function compileSimd(memory: WasmMemory, key: string, build: () => SimdProgram): CompiledSimd {
  let byKey = compiled.get(memory);
  if (!byKey) compiled.set(memory, (byKey = new Map()));
  let entry = byKey.get(key);
  if (!entry) {
    const api = wasmApi();
    if (!api) throw new Error('WebAssembly is not available');
    const program = build();
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const instance = new api.Instance(new api.Module(encodeProgram(program, shared)), { env: { memory } });
    entry = { run: instance.exports.run as SimdFunction, arrays: program.arrays, scalars: program.scalars };
    byKey.set(key, entry);
  }
  return entry;
}

/** A fresh memory for tests and benchmarks (`pages` of 64 KiB). */
export function createWasmMemory(pages: number): WasmMemory {
  const api = wasmApi();
  if (!api) throw new Error('WebAssembly is not available');
  return new api.Memory({ initial: pages });
}
