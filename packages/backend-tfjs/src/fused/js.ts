import type { SimdExpr, SimdProgram, SimdStmt } from './simd.js';

/**
 * The JavaScript form of a {@link SimdProgram}: the same statements, generated as the source of one loop over
 * `Float32Array`s and compiled with `new Function`, so the JavaScript loop and the WebAssembly SIMD loop of a
 * kernel come from one description and cannot drift apart.
 *
 * Semantics, statement for statement the same as the SIMD form (`simd.ts`): every `let` is a JavaScript number
 * (IEEE float64), every expression is evaluated in float64 in the program's order (`Math.sqrt`, `Math.max`,
 * `Math.sign`, `Math.abs`), every store into a `Float32Array` rounds to float32 (round to nearest even), and a load
 * after a store reads the rounded value back. The wasm module widens each float32 element to float64 and narrows
 * on store, so the two loops produce the same bits (tested).
 *
 * The generated function is monomorphic (one per program shape, cached by key): no per-element branches on
 * options, no record lookups in the loop. Where `new Function` is refused (a Content-Security-Policy without
 * `unsafe-eval`), the program runs through a closure tree built once per key instead: the same arithmetic, slower.
 *
 * @packageDocumentation
 */

/** A compiled JavaScript loop: the program's arrays (by name), elements [start, end), the program's scalars (by name). */
export type JsLoop = (arrays: Readonly<Record<string, Float32Array>>, start: number, end: number, scalars: Readonly<Record<string, number>>) => void;

/** A float64 literal that reads back as exactly `value` (`String` round-trips every finite double; −0 kept). */
function literal(value: number): string {
  if (Object.is(value, -0)) return '(-0)';
  if (Number.isNaN(value)) return 'NaN';
  return value < 0 ? `(${String(value)})` : String(value);
}

const ident = (prefix: string, i: number) => `${prefix}${i}`;

/** The source of the loop function for a program (exported for tests and for reading). */
export function jsLoopSource(program: SimdProgram): string {
  const f32 = program.precision === 'f32';
  /** Rounds an operation's result to float32 in an `f32` program (exactly float32 arithmetic: see simd.ts). */
  const r = (x: string) => (f32 ? `Math.fround(${x})` : x);
  const arrayIndex = new Map(program.arrays.map((a, i) => [a, i]));
  const scalarIndex = new Map(program.scalars.map((s, i) => [s, i]));
  const locals: string[] = [];
  for (const s of program.body) if ('let' in s && !locals.includes(s.let)) locals.push(s.let);
  const arr = (name: string) => {
    const i = arrayIndex.get(name);
    if (i === undefined) throw new Error(`simd program: unknown array ${name}`);
    return ident('a', i);
  };
  // Element values already read or written this iteration, by array: a later load uses the local instead of
  // reading the typed array again (V8 cannot tell that two Float32Arrays do not alias, so it would reload). A
  // stored value is rounded with Math.fround, which is exactly what reading it back from a Float32Array gives.
  // θ and the output may be one array: a store to either forgets the other's cached value.
  const current = new Map<string, string>();
  let pre: string[] = [];
  let temps = 0;
  const expr = (e: SimdExpr): string => {
    switch (e.op) {
      case 'load': {
        const known = current.get(e.array);
        if (known !== undefined) return known;
        const v = ident('v', temps++);
        pre.push(`const ${v} = ${arr(e.array)}[i];`);
        current.set(e.array, v);
        return v;
      }
      case 'scalar': {
        const i = scalarIndex.get(e.name);
        if (i === undefined) throw new Error(`simd program: unknown scalar ${e.name}`);
        return ident('s', i);
      }
      case 'const':
        return literal(f32 ? Math.fround(e.value) : e.value);
      case 'local':
        if (!locals.includes(e.name)) throw new Error(`simd program: unknown local ${e.name}`);
        return ident('l', locals.indexOf(e.name));
      case 'add':
        return r(`(${expr(e.a)} + ${expr(e.b)})`);
      case 'sub':
        return r(`(${expr(e.a)} - ${expr(e.b)})`);
      case 'mul':
        return r(`(${expr(e.a)} * ${expr(e.b)})`);
      case 'div':
        return r(`(${expr(e.a)} / ${expr(e.b)})`);
      case 'max':
        return `Math.max(${expr(e.a)}, ${expr(e.b)})`;
      case 'sqrt':
        return r(`Math.sqrt(${expr(e.a)})`);
      case 'neg':
        return `(-${expr(e.a)})`;
      case 'abs':
        return `Math.abs(${expr(e.a)})`;
      case 'sign':
        return `Math.sign(${expr(e.a)})`;
    }
  };
  const lines: string[] = [];
  program.arrays.forEach((a, i) => lines.push(`const ${ident('a', i)} = arrays[${JSON.stringify(a)}];`));
  program.scalars.forEach((s, i) => lines.push(`const ${ident('s', i)} = ${r(`+scalars[${JSON.stringify(s)}]`)};`));
  lines.push('for (let i = start; i < end; i++) {');
  if (locals.length > 0) lines.push(`  let ${locals.map((_, i) => ident('l', i)).join(', ')};`);
  // A store overwritten later in the iteration is not written (its value lives on in a local), unless the array
  // that may alias it (θ for the output, the output for θ) is loaded in between.
  const loads = (e: SimdExpr, array: string): boolean => (e.op === 'load' ? e.array === array : 'a' in e && (loads(e.a, array) || ('b' in e && loads(e.b, array))));
  const partner = (a: string) => (a === 'out' ? 'theta' : a === 'theta' ? 'out' : undefined);
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
  program.body.forEach((s, j) => {
    pre = [];
    const value = expr(s.value);
    for (const p of pre) lines.push(`  ${p}`);
    if ('let' in s) {
      lines.push(`  ${ident('l', locals.indexOf(s.let))} = ${value};`);
    } else {
      const v = ident('v', temps++);
      lines.push(`  const ${v} = Math.fround(${value});`);
      if (!dead[j]) lines.push(`  ${arr(s.store)}[i] = ${v};`);
      if (s.store === 'out') current.delete('theta');
      if (s.store === 'theta') current.delete('out');
      current.set(s.store, v);
    }
  });
  lines.push('}');
  return lines.join('\n');
}

type Num = (i: number) => number;

/** The fallback: the program as a tree of closures (no code generation). */
function interpret(program: SimdProgram): JsLoop {
  const r = program.precision === 'f32' ? Math.fround : (x: number) => x;
  return (arrays, start, end, scalars) => {
    const locals = new Map<string, number>();
    const arrayOf = (name: string) => {
      const a = arrays[name];
      if (!a) throw new Error(`simd program: missing array ${name}`);
      return a;
    };
    const build = (e: SimdExpr): Num => {
      switch (e.op) {
        case 'load': {
          const a = arrayOf(e.array);
          return (i) => a[i] as number;
        }
        case 'scalar': {
          const v = r(scalars[e.name] as number);
          return () => v;
        }
        case 'const': {
          const v = r(e.value);
          return () => v;
        }
        case 'local':
          return () => locals.get(e.name) as number;
        case 'add':
        case 'sub':
        case 'mul':
        case 'div':
        case 'max': {
          const a = build(e.a);
          const b = build(e.b);
          if (e.op === 'add') return (i) => r(a(i) + b(i));
          if (e.op === 'sub') return (i) => r(a(i) - b(i));
          if (e.op === 'mul') return (i) => r(a(i) * b(i));
          if (e.op === 'div') return (i) => r(a(i) / b(i));
          return (i) => Math.max(a(i), b(i));
        }
        default: {
          const a = build(e.a);
          if (e.op === 'sqrt') return (i) => r(Math.sqrt(a(i)));
          if (e.op === 'neg') return (i) => -a(i);
          if (e.op === 'abs') return (i) => Math.abs(a(i));
          return (i) => Math.sign(a(i));
        }
      }
    };
    const steps = program.body.map((s) => {
      const value = build(s.value);
      if ('let' in s) return (i: number) => void locals.set(s.let, value(i));
      const a = arrayOf(s.store);
      return (i: number) => void (a[i] = value(i));
    });
    for (let i = start; i < end; i++) for (const step of steps) step(i);
  };
}

/** Whether `new Function` works here (a strict Content-Security-Policy refuses it). Checked once. */
const codegenAvailable: () => boolean = (() => {
  let known: boolean | undefined;
  return () => {
    if (known === undefined) {
      try {
        known = (new Function('return 1') as () => number)() === 1;
      } catch {
        known = false;
      }
    }
    return known;
  };
})();

const cache = new Map<string, JsLoop>();

/** The JavaScript loop of a program, compiled on first use and cached by `key` (which must name the program's shape). */
export function compileJs(key: string, build: () => SimdProgram): JsLoop {
  let loop = cache.get(key);
  if (!loop) {
    const program = build();
    loop = codegenAvailable() ? (new Function('arrays', 'start', 'end', 'scalars', `"use strict";\n${jsLoopSource(program)}`) as JsLoop) : interpret(program);
    cache.set(key, loop);
  }
  return loop;
}

/** The closure-tree form regardless of `new Function` (for tests of the fallback). */
export const interpretProgram: (program: SimdProgram) => JsLoop = interpret;
