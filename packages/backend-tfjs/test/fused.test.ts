import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError,
  adabelief,
  adadelta,
  adagrad,
  adam,
  adamAtan2,
  adamax,
  adamw,
  createReference,
  getDefinition,
  lamb,
  lion,
  lookahead,
  muonWithAuxAdam,
  nadam,
  radam,
  rmsprop,
  sgd,
  signsgd,
  tensor,
  type OptimizerSpec,
  type PortableState,
} from '@descent/core';
import { createTfjs, fusedAccess, fusedKernels } from '../src/index.js';
import { compileJs, compileSimd, createWasmMemory, interpretProgram, jsLoopSource } from '../src/fused/index.js';
import { formatTable, measureThroughput } from '../src/bench.js';

// The wasm backend loads its .wasm binaries from disk in Node: point it at the package's dist directory.
const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);

const U = 2 ** -24; // float32 unit roundoff

/** Deterministic uniform numbers in [-1, 1) (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

/** Float32 gradient values spanning several magnitudes; on step 3 also NaN, ±0, ±Infinity (in the first elements). */
function gradient(n: number, r: () => number, step: number): Float32Array {
  const g = Float32Array.from({ length: n }, () => r() * 10 ** Math.round(r() * 3));
  if (step === 3 && n >= 5) g.set([NaN, 0, -0, Infinity, -Infinity]);
  return g;
}

const sameBits = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (!sameBits(a[i] as number, b[i] as number)) bad.push(i);
  return bad;
}

/** Every optimizer with a fused kernel, under option sets that exercise each branch of its loop. */
const cases: Array<[string, OptimizerSpec<object>]> = [
  ['sgd', sgd({ lr: 0.1 })],
  ['sgd momentum dampening', sgd({ lr: 0.1, momentum: 0.9, dampening: 0.25 })],
  ['sgd nesterov wd maximize', sgd({ lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01, maximize: true })],
  ['adam', adam({ lr: 0.01 })],
  ['adam amsgrad wd maximize', adam({ lr: 0.01, amsgrad: true, weightDecay: 0.1, maximize: true })],
  ['adamw', adamw({ lr: 0.01 })],
  ['adamw amsgrad maximize', adamw({ lr: 0.01, amsgrad: true, maximize: true, weightDecay: 0.3 })],
  ['lion wd', lion({ lr: 0.01, weightDecay: 0.5 })],
  ['lion maximize', lion({ lr: 0.01, maximize: true })],
  ['signsgd', signsgd({ lr: 0.01 })],
  ['signum wd', signsgd({ lr: 0.01, momentum: 0.9, weightDecay: 0.1 })],
  ['rmsprop', rmsprop({ lr: 0.01 })],
  ['rmsprop centered momentum wd maximize', rmsprop({ lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.1, maximize: true })],
  ['adagrad lrDecay wd', adagrad({ lr: 0.1, lrDecay: 0.01, weightDecay: 0.1, initialAccumulatorValue: 0.1 })],
  ['adadelta wd', adadelta({ lr: 1, weightDecay: 0.1 })],
  ['adamax wd', adamax({ lr: 0.01, weightDecay: 0.1 })],
  ['nadam', nadam({ lr: 0.01 })],
  ['nadamw', nadam({ lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true })],
  ['nadam L2', nadam({ lr: 0.01, weightDecay: 0.1 })],
  ['radam (rectified from step 6)', radam({ lr: 0.01 })],
  ['radamw', radam({ lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true })],
  ['adam-atan2 wd', adamAtan2({ lr: 0.01, weightDecay: 0.1 })],
  ['adabelief', adabelief({ lr: 0.01 })],
  ['adabelief unrectified amsgrad L2', adabelief({ lr: 0.01, rectify: false, amsgrad: true, weightDecay: 0.1, decoupledWeightDecay: false })],
  ['adabelief no sgd fallback', adabelief({ lr: 0.01, degeneratedToSgd: false })],
  ['muonWithAuxAdam (Adam half)', muonWithAuxAdam({ adamLr: 0.01, adamWeightDecay: 0.1, use: 'adam' })],
];

/** The reference state of one parameter at creation (slots filled as the definition says). */
function initialSlots(spec: OptimizerSpec<object>, n: number): Record<string, Float32Array> {
  const def = getDefinition(spec.name);
  const out: Record<string, Float32Array> = {};
  for (const slot of def.slots(spec.options, [n])) {
    const a = new Float64Array(n);
    if (typeof slot.init === 'number') a.fill(slot.init);
    else if (typeof slot.init === 'function') slot.init(a);
    out[slot.name] = Float32Array.from(a);
  }
  return out;
}

const copySlots = (s: Record<string, Float32Array>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.slice()]));

describe('fused kernels = the reference update run on float32 storage, bit for bit', () => {
  it('covers every fused optimizer, and each is a core optimizer', () => {
    const covered = new Set(cases.map(([, spec]) => spec.name));
    expect([...covered].sort()).toEqual(Object.keys(fusedKernels).sort());
    for (const name of Object.keys(fusedKernels)) expect(getDefinition(name).name).toBe(name);
  });

  it.each(cases)('%s: JavaScript loop (in place and into a separate output)', (_label, spec) => {
    const n = 37;
    const def = getDefinition(spec.name);
    const o = spec.options as never;
    const kernel = fusedKernels[spec.name]!;
    const r = rng(11);
    // The reference's own loop, given Float32Arrays: every store rounds to float32, as the fused loop's do.
    const ref = { theta: Float32Array.from({ length: n }, r), slots: initialSlots(spec, n), scalars: { ...(def.scalars?.(o) ?? {}) } };
    const inPlace = { theta: ref.theta.slice(), slots: copySlots(ref.slots), scalars: { ...ref.scalars } };
    const separate = { theta: ref.theta.slice(), slots: copySlots(ref.slots), scalars: { ...ref.scalars } };
    for (let step = 1; step <= 9; step++) {
      const g = gradient(n, r, step);
      def.update({ name: 'w', options: o, shape: [n], param: ref.theta as unknown as Float64Array, grad: g as unknown as Float64Array, slots: ref.slots as unknown as Record<string, Float64Array>, scalars: ref.scalars, step });
      const k1 = kernel.coefficients(o, step, inPlace.scalars);
      kernel.run(o, { k: k1, theta: inPlace.theta, out: inPlace.theta, grad: g, slots: inPlace.slots, start: 0, end: n });
      const k2 = kernel.coefficients(o, step, separate.scalars);
      const out = new Float32Array(n);
      // Two ranges, as the wasm path splits its work: the result must not depend on the split.
      kernel.run(o, { k: k2, theta: separate.theta, out, grad: g, slots: separate.slots, start: 0, end: 20 });
      kernel.run(o, { k: k2, theta: separate.theta, out, grad: g, slots: separate.slots, start: 20, end: n });
      separate.theta = out;
      for (const got of [inPlace, separate]) {
        expect(mismatches(got.theta, ref.theta), `param at step ${step}`).toEqual([]);
        for (const s of Object.keys(ref.slots)) expect(mismatches(got.slots[s]!, ref.slots[s]!), `slot ${s} at step ${step}`).toEqual([]);
        expect(got.scalars).toEqual(ref.scalars);
      }
    }
  });

  const simdCases = cases.filter(([, spec]) => fusedKernels[spec.name]!.simd);
  it('has SIMD programs for the hot optimizers', () => {
    expect(new Set(simdCases.map(([, s]) => s.name))).toEqual(new Set(Object.keys(fusedKernels).filter((n) => n !== 'adamAtan2' && n !== 'adabelief')));
  });

  it.each(simdCases)('%s: the closure-tree fallback (no new Function) = the generated JavaScript loop', (_label, spec) => {
    const n = 29;
    const o = spec.options as never;
    const kernel = fusedKernels[spec.name]!;
    const r = rng(7);
    const a = { theta: Float32Array.from({ length: n }, r), slots: initialSlots(spec, n) };
    const b = { theta: a.theta.slice(), slots: copySlots(a.slots) };
    const scalars = { ...(getDefinition(spec.name).scalars?.(o) ?? {}) };
    for (let step = 1; step <= 4; step++) {
      const g = gradient(n, r, step);
      const k = kernel.coefficients(o, step, scalars);
      kernel.run(o, { k, theta: a.theta, out: a.theta, grad: g, slots: a.slots, start: 0, end: n });
      interpretProgram(kernel.simd!.program(o, k))({ ...b.slots, theta: b.theta, out: b.theta, grad: g }, 0, n, k);
      expect(mismatches(b.theta, a.theta), `param at step ${step}`).toEqual([]);
      for (const s of Object.keys(a.slots)) expect(mismatches(b.slots[s]!, a.slots[s]!), `slot ${s} at step ${step}`).toEqual([]);
    }
  });

  it.each(simdCases)('%s: in float32 arithmetic (f32x4), the WebAssembly and JavaScript forms still agree bit for bit', (_label, spec) => {
    const n = 40;
    const o = spec.options as never;
    const kernel = fusedKernels[spec.name]!;
    const r = rng(9);
    const js = { theta: Float32Array.from({ length: n }, r), slots: initialSlots(spec, n) };
    const memory = createWasmMemory(1);
    const at: Record<string, number> = {};
    let next = 16;
    const place = (name: string, values: Float32Array) => {
      at[name] = next;
      new Float32Array(memory.buffer, next, n).set(values);
      next += 16 * Math.ceil((4 * n) / 16) + 16;
    };
    place('theta', js.theta);
    at.out = at.theta!;
    place('grad', new Float32Array(n));
    for (const [s, v] of Object.entries(js.slots)) place(s, v);
    const view = (name: string) => new Float32Array(memory.buffer, at[name]!, n);
    let differsFromF64 = false;
    // Per-parameter scalars (NAdam's μ-product) as the definition starts them: with {} they would be NaN.
    const scalars = { ...(getDefinition(spec.name).scalars?.(o) ?? {}) };
    for (let step = 1; step <= 6; step++) {
      const g = gradient(n, r, step);
      const k = kernel.coefficients(o, step, scalars);
      const key = `f32:${kernel.simd!.key(o, k)}`;
      const program = () => ({ ...kernel.simd!.program(o, k), precision: 'f32' as const });
      const f64 = { theta: js.theta.slice(), slots: copySlots(js.slots) };
      compileJs(key, program)({ ...js.slots, theta: js.theta, out: js.theta, grad: g }, 0, n, k);
      kernel.run(o, { k, theta: f64.theta, out: f64.theta, grad: g, slots: f64.slots, start: 0, end: n });
      if (mismatches(f64.theta, js.theta).length > 0) differsFromF64 = true;
      view('grad').set(g);
      const wasm = compileSimd(memory, key, program);
      wasm.run(...wasm.arrays.map((a) => at[a]!), 4 * n, ...wasm.scalars.map((s) => k[s]!));
      expect(mismatches(view('theta'), js.theta), `param at step ${step}`).toEqual([]);
      for (const s of Object.keys(js.slots)) expect(mismatches(view(s), js.slots[s]!), `slot ${s} at step ${step}`).toEqual([]);
    }
    // The test is not vacuous: somewhere along the 6 steps float32 arithmetic gave other bits than float64's.
    expect(differsFromF64).toBe(true);
  });

  it('writes constants that read back exactly, and refuses unknown names', () => {
    const src = jsLoopSource({ arrays: ['x'], scalars: [], body: [{ store: 'x', value: { op: 'add', a: { op: 'const', value: -0 }, b: { op: 'const', value: 0.1 + 0.2 } } }] });
    expect(src).toContain('(-0)');
    expect(src).toContain(String(0.1 + 0.2));
    expect(() => jsLoopSource({ arrays: ['x'], scalars: [], body: [{ store: 'y', value: { op: 'load', array: 'x' } }] })).toThrow(/unknown array y/);
  });

  it.each(simdCases)('%s: WebAssembly SIMD program = JavaScript loop', (_label, spec) => {
    const n = 40; // a multiple of SIMD_BLOCK: the program covers every element
    const o = spec.options as never;
    const kernel = fusedKernels[spec.name]!;
    const r = rng(5);
    const js = { theta: Float32Array.from({ length: n }, r), slots: initialSlots(spec, n) };
    // Lay the arrays out in a fresh wasm memory, at 16-byte aligned offsets, as the TF.js wasm heap would hold them.
    const memory = createWasmMemory(1);
    const at: Record<string, number> = {};
    let next = 16;
    const place = (name: string, values: Float32Array) => {
      at[name] = next;
      new Float32Array(memory.buffer, next, n).set(values);
      next += 16 * Math.ceil((4 * n) / 16) + 16;
    };
    place('theta', js.theta);
    at.out = at.theta!;
    place('grad', new Float32Array(n));
    for (const [s, v] of Object.entries(js.slots)) place(s, v);
    const view = (name: string) => new Float32Array(memory.buffer, at[name]!, n);
    // Per-parameter scalars (NAdam's μ-product) as the definition starts them: with {} they would be NaN.
    const scalars = { ...(getDefinition(spec.name).scalars?.(o) ?? {}) };
    for (let step = 1; step <= 6; step++) {
      const g = gradient(n, r, step);
      const k = kernel.coefficients(o, step, scalars);
      kernel.run(o, { k, theta: js.theta, out: js.theta, grad: g, slots: js.slots, start: 0, end: n });
      view('grad').set(g);
      const program = compileSimd(memory, kernel.simd!.key(o, k), () => kernel.simd!.program(o, k));
      program.run(...program.arrays.map((a) => at[a]!), 4 * n, ...program.scalars.map((s) => k[s]!));
      expect(mismatches(view('theta'), js.theta), `param at step ${step}`).toEqual([]);
      for (const s of Object.keys(js.slots)) expect(mismatches(view(s), js.slots[s]!), `slot ${s} at step ${step}`).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** |x − ref| ≤ k·u·S elementwise, with S = |ref| + |ref − prev|; returns the worst ratio |x − ref| / (u·S). */
function worstRatio(x: ArrayLike<number>, ref: ArrayLike<number>, prev: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i] as number;
    const scale = Math.abs(r) + Math.abs(r - (prev[i] as number)) + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs((x[i] as number) - r) / (U * scale));
  }
  return worst;
}

const slotData = (s: PortableState, param: string, slot: string) => (s.params[param]!.slots[slot]!.data as number[]).map(Number);

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  expect(await tf.setBackend(name)).toBe(true);
}

describe.each(['cpu', 'wasm'] as const)('fused path on the %s backend', (backend) => {
  beforeAll(() => useBackend(backend));

  const agreement: Array<[string, OptimizerSpec<object>]> = [
    ['adam', adam({ lr: 0.01, weightDecay: 0.01 })],
    ['adamw amsgrad', adamw({ lr: 0.01, amsgrad: true })],
    ['sgd nesterov', sgd({ lr: 0.05, momentum: 0.9, nesterov: true })],
    ['lion', lion({ lr: 0.01, weightDecay: 0.1 })],
    ['rmsprop centered', rmsprop({ lr: 0.01, centered: true, momentum: 0.5 })],
    ['nadam', nadam({ lr: 0.01 })],
  ];

  it.each(agreement)("%s: fused: 'f32' runs the program in float32 arithmetic, SIMD bulk and JavaScript tail alike", (_label, spec) => {
    const n = 257; // on wasm: 256 elements by the f32x4 program, the last by the JavaScript loop
    const r = rng(4);
    const w0 = Float32Array.from({ length: n }, r);
    const w = tf.variable(tf.tensor(w0.slice()));
    const opt = createTfjs(spec, { w }, { fused: 'f32' });
    const kernel = fusedKernels[spec.name]!;
    const o = opt.exportState();
    const theta = w0.slice();
    const slots = Object.fromEntries(Object.entries(o.params.w!.slots).map(([s, v]) => [s, Float32Array.from((v.data as number[]).map(Number))]));
    const scalars = { ...(getDefinition(spec.name).scalars?.(spec.options as never) ?? {}) };
    let differs = false;
    for (let step = 1; step <= 5; step++) {
      const g = gradient(n, r, step);
      const gt = tf.tensor(g);
      opt.step({ w: gt });
      gt.dispose();
      expect(opt.path).toBe(`fused-${backend}`);
      const k = kernel.coefficients(spec.options as never, step, scalars);
      const f64 = theta.slice();
      kernel.run(spec.options as never, { k, theta: f64, out: f64, grad: g, slots: copySlots(slots), start: 0, end: n });
      const key = `f32:${kernel.simd!.key(spec.options as never, k)}`;
      compileJs(key, () => ({ ...kernel.simd!.program(spec.options as never, k), precision: 'f32' }))({ ...slots, theta, out: theta, grad: g }, 0, n, k);
      if (mismatches(f64, theta).length > 0) differs = true;
      expect(mismatches(w.dataSync(), theta), `param at step ${step}`).toEqual([]);
    }
    expect(differs).toBe(true);
    opt.dispose();
    w.dispose();
  });

  it.each(agreement)('%s: fused, composed and reference agree step by step over 30 steps', (_label, spec) => {
    // 257 = 32·8 + 1: on wasm the SIMD program does 256 elements and the JavaScript loop the last one.
    const n = 257;
    const r = rng(3);
    const w0 = Float32Array.from({ length: n }, r);
    const wFused = tf.variable(tf.tensor(w0.slice()));
    const wOps = tf.variable(tf.tensor(w0.slice()));
    const fused = createTfjs(spec, { w: wFused });
    const composed = createTfjs(spec, { w: wOps }, { fused: 'off' });
    const refParam = tensor(Float64Array.from(w0));
    const reference = createReference(spec, { w: refParam });
    for (let step = 1; step <= 30; step++) {
      // Resync: the composed and reference optimizers continue from the fused one's state (portable state).
      const state = fused.exportState();
      const before = Float64Array.from(wFused.dataSync());
      reference.importState(state);
      refParam.data.set(before);
      composed.importState(state);
      tf.tidy(() => wOps.assign(tf.tensor(Float32Array.from(before))));
      const g = gradient(n, r, 1);
      const gt = tf.tensor(g);
      fused.step({ w: gt });
      composed.step({ w: gt });
      reference.step({ w: tensor(Float64Array.from(g)) });
      gt.dispose();
      expect(fused.path).toBe(`fused-${backend}`);
      expect(composed.path).toBe('ops');
      // Fused: float64 arithmetic on float32 inputs, one rounding per stored value; a rounded slot read back
      // perturbs θ's step by ≤ ~2u relatively. So |fused − ref| ≤ u|new| + 2u|change| ≤ 4u·S.
      expect(worstRatio(wFused.dataSync(), refParam.data, before)).toBeLessThanOrEqual(4);
      // Composed: every TF.js op rounds (≤ ~10 per element here), each result bounded by a few S: k = 16.
      expect(worstRatio(wOps.dataSync(), refParam.data, before)).toBeLessThanOrEqual(16);
      const fs = fused.exportState();
      const cs = composed.exportState();
      const rs = reference.exportState();
      for (const slot of Object.keys(rs.params.w!.slots)) {
        const prev = slotData(state, 'w', slot);
        expect(worstRatio(slotData(fs, 'w', slot), slotData(rs, 'w', slot), prev), slot).toBeLessThanOrEqual(4);
        expect(worstRatio(slotData(cs, 'w', slot), slotData(rs, 'w', slot), prev), slot).toBeLessThanOrEqual(16);
      }
      expect(fs.params.w!.scalars).toEqual(rs.params.w!.scalars);
    }
    fused.dispose();
    composed.dispose();
    wFused.dispose();
    wOps.dispose();
  });

  it('adam drifts from the Float64 reference no more than its per-step bound allows over 200 steps', () => {
    // Without resync, errors add up: each step adds ≤ 4u·S_t to θ (the Adam step does not depend on θ, so θ
    // errors are not amplified), and m, v errors (≤ u relative per step, damped by β) move θ's step by ≤ ~2u of
    // it. Bound: 8u·Σ_t (|θ_t| + |Δθ_t|), from the reference trajectory.
    const n = 101;
    const r = rng(17);
    const w0 = Float32Array.from({ length: n }, r);
    const w = tf.variable(tf.tensor(w0));
    const spec = adam({ lr: 0.003 });
    const fused = createTfjs(spec, { w });
    const refParam = tensor(Float64Array.from(w0));
    const reference = createReference(spec, { w: refParam });
    const budget = new Float64Array(n);
    for (let step = 1; step <= 200; step++) {
      const before = Float64Array.from(refParam.data);
      const g = gradient(n, r, 1);
      const gt = tf.tensor(g);
      fused.step({ w: gt });
      gt.dispose();
      reference.step({ w: tensor(Float64Array.from(g)) });
      for (let i = 0; i < n; i++) budget[i] = (budget[i] as number) + 8 * U * (Math.abs(refParam.data[i] as number) + Math.abs((refParam.data[i] as number) - (before[i] as number)));
    }
    const got = w.dataSync();
    for (let i = 0; i < n; i++) expect(Math.abs((got[i] as number) - (refParam.data[i] as number))).toBeLessThanOrEqual(budget[i] as number);
    fused.dispose();
    w.dispose();
  });

  it('keeps the live tensor count flat and frees its state on dispose', () => {
    const w = tf.variable(tf.randomNormal([64, 3]));
    const b = tf.variable(tf.zeros([3]));
    const opt = createTfjs(adamw({ lr: 0.01, amsgrad: true }), { w, b });
    const gw = tf.onesLike(w);
    const gb = tf.onesLike(b);
    opt.step({ w: gw, b: gb });
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) opt.step({ w: gw, b: gb });
    expect(opt.path).toBe(`fused-${backend}`);
    expect(tf.memory().numTensors).toBe(after1);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(after1 - 6); // 3 slots × 2 parameters
    tf.dispose([w, b, gw, gb]);
  });

  it('never writes a tensor the user holds: shared data ids, clones, slices, gradients', () => {
    const x = tf.tensor1d([1, 2, 3, 4]);
    const w = tf.variable(x); // shares x's data id until x is disposed
    const c = w.clone(); // shares the data id too
    const s = tf.slice(w, [1], [2]); // on cpu: a view of the same array
    const g = tf.tensor1d([0.5, -0.5, 1, -1]);
    const opt = createTfjs(sgd({ lr: 0.1, momentum: 0.9 }), { w });
    for (let i = 0; i < 3; i++) opt.step({ w: g });
    expect(opt.path).toBe(`fused-${backend}`);
    expect([...x.dataSync()]).toEqual([1, 2, 3, 4]);
    expect([...c.dataSync()]).toEqual([1, 2, 3, 4]);
    expect([...s.dataSync()]).toEqual([2, 3]);
    expect([...g.dataSync()]).toEqual([0.5, -0.5, 1, -1]);
    // PyTorch's buffer: b₁ = g, b₂ = 0.9·g + g = 1.9g, b₃ = 0.9·1.9g + g = 2.71g; w = w0 − 0.1·(1 + 1.9 + 2.71)·g
    // = w0 − 0.561·g, up to one float32 rounding per step.
    const want = [1, 2, 3, 4].map((v, i) => v - 0.561 * ([0.5, -0.5, 1, -1][i] as number));
    const got = w.dataSync();
    for (let i = 0; i < 4; i++) expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThan(4 * 8 * U);
    opt.dispose();
    tf.dispose([x, w, c, s, g]);
  });

  it('leaves the array behind a tf.tensor and a previous dataSync() unchanged on cpu', () => {
    const values = new Float32Array([1, -2, 3]);
    const w = tf.variable(tf.tensor(values)); // the cpu backend keeps `values` itself as the storage
    const snapshot = w.dataSync(); // on cpu: the storage array itself
    const copy = Float32Array.from(snapshot);
    const opt = createTfjs(adam({ lr: 0.1 }), { w });
    opt.step({ w: tf.tensor1d([1, 1, 1]) });
    expect([...values]).toEqual([1, -2, 3]);
    expect([...snapshot]).toEqual([...copy]);
    expect(w.dataSync()[0]).toBeCloseTo(0.9, 6); // Adam's first step moves each coordinate by lr·sign(g)
    opt.dispose();
    w.dispose();
  });

  it('does not touch Lookahead slow weights between synchronisations', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const opt = createTfjs(lookahead(adam({ lr: 0.1 }), { k: 2, alpha: 0.5 }), { w });
    const g = tf.tensor1d([1, -1, 0.5]);
    opt.step({ w: g });
    opt.step({ w: g }); // synchronisation: θ and φ now share storage
    const slow = slotData(opt.exportState(), 'w', 'slowParam');
    opt.step({ w: g });
    expect(opt.path).toBe(`fused-${backend}`);
    expect(slotData(opt.exportState(), 'w', 'slowParam')).toEqual(slow);
    expect([...w.dataSync()]).not.toEqual(slow);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('handles parameters smaller than a SIMD block and of size zero', () => {
    const tiny = tf.variable(tf.tensor1d([1, 2, 3]));
    const empty = tf.variable(tf.zeros([0, 4]));
    const opt = createTfjs(nadam({ lr: 0.1 }), { tiny, empty });
    const g = tf.tensor1d([1, 1, 1]);
    const g0 = tf.zeros([0, 4]);
    opt.step({ tiny: g, empty: g0 });
    expect(opt.path).toBe(`fused-${backend}`);
    // NAdam keeps a per-parameter μ-product, advanced once per step for every parameter, empty or not.
    const s = opt.exportState();
    expect(s.params.empty!.scalars.muProduct).toEqual(s.params.tiny!.scalars.muProduct);
    expect(s.params.tiny!.step).toBe(1);
    expect(s.params.empty!.step).toBe(1);
    opt.dispose();
    tf.dispose([tiny, empty, g, g0]);
  });

  it('reports its path: off, no fused kernel, mixed (Muon matrices + Adam vectors)', () => {
    const w = tf.variable(tf.randomNormal([4, 3]));
    const b = tf.variable(tf.zeros([3]));
    const gw = tf.onesLike(w);
    const gb = tf.onesLike(b);
    const off = createTfjs(adam(), { w, b }, { fused: 'off' });
    expect(off.path).toBe('ops');
    off.step({ w: gw, b: gb });
    expect(off.path).toBe('ops');
    const fusedOne = createTfjs(adam(), { w, b });
    expect(fusedOne.path).toBe(`fused-${backend}`); // before any step: what a step would do
    const none = createTfjs(lamb(), { w, b });
    none.step({ w: gw, b: gb });
    expect(none.path).toBe('ops');
    const mixed = createTfjs(muonWithAuxAdam(), { w, b });
    mixed.step({ w: gw, b: gb });
    expect(mixed.path).toBe('mixed');
    mixed.step({ b: gb });
    expect(mixed.path).toBe(`fused-${backend}`);
    for (const o of [off, fusedOne, none, mixed]) o.dispose();
    tf.dispose([w, b, gw, gb]);
  });
});

describe('fused path selection', () => {
  it('rejects an unknown fused mode by name and value', async () => {
    await useBackend('cpu');
    const w = tf.variable(tf.zeros([2]));
    expect(() => createTfjs(adam(), { w }, { fused: 'always' as never })).toThrow(OptionError);
    expect(() => createTfjs(adam(), { w }, { fused: 'always' as never })).toThrow('adam: option "fused" must be "auto", "f32" or "off", got "always"');
    w.dispose();
  });

  it("copies a slot that took a gradient's storage on the composed path before updating it in place (cpu)", async () => {
    await useBackend('wasm');
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const opt = createTfjs(sgd({ lr: 0.1, momentum: 0.9 }), { w });
    await useBackend('cpu');
    const values = new Float32Array([1, 1, 1]);
    const g1 = tf.tensor(values); // the cpu backend stores `values` itself
    opt.step({ w: g1 }); // w still on wasm: composed ops, whose first SGD step makes the buffer share g1's storage
    expect(opt.path).toBe('ops');
    g1.dispose(); // the buffer is now the only tensor on that storage, which is still the caller's array
    const g2 = tf.tensor1d([2, 2, 2]);
    opt.step({ w: g2 });
    expect(opt.path).toBe('fused-cpu');
    expect([...values]).toEqual([1, 1, 1]);
    expect([...g2.dataSync()]).toEqual([2, 2, 2]);
    // b = 1, then 0.9 + 2 = 2.9; w = w0 − 0.1·(1 + 2.9)
    const got = w.dataSync();
    [1, 2, 3].forEach((w0, i) => expect(Math.abs((got[i] as number) - (w0 - 0.39))).toBeLessThan(1e-6));
    opt.dispose();
    tf.dispose([w, g2]);
  });

  it('on wasm, matMul and conv2d see the update of a weight stepped by the fused loop (XNNPACK caches weights by data id)', async () => {
    await useBackend('wasm');
    for (const n of [3, 64]) {
      // n = 64 runs the SIMD program, 3 the JavaScript loop.
      // Variables that own their storage alone (their initial tensors disposed), so the fused loop may not copy them.
      const owned = (shape: number[]): tf.Variable => {
        const init = tf.ones(shape);
        const v = tf.variable(init);
        init.dispose();
        return v;
      };
      const w = owned([n, 1]);
      const filter = owned([1, 1, 1, n]);
      const a = tf.ones([1, n]);
      const image = tf.ones([1, 2, 2, 1]);
      const product = () => tf.tidy(() => tf.matMul(a, w).dataSync()[0] as number);
      const convolved = () => tf.tidy(() => tf.conv2d(image as tf.Tensor4D, filter as unknown as tf.Tensor4D, 1, 'valid').dataSync()[0] as number);
      expect([product(), convolved()]).toEqual([n, 1]); // XNNPACK has now packed both weights
      const opt = createTfjs(sgd({ lr: 0.5 }), { w, filter });
      const grads = { w: tf.ones([n, 1]), filter: tf.ones([1, 1, 1, n]) };
      opt.step(grads);
      tf.dispose(Object.values(grads));
      expect(opt.path).toBe('fused-wasm');
      expect([product(), convolved()]).toEqual([n / 2, 0.5]); // every weight 1 − 0.5·1
      opt.dispose();
      tf.dispose([w, filter, a, image]);
    }
  });

  it('finds the wasm heap and its WebAssembly.Memory, so the SIMD loops run', async () => {
    await useBackend('wasm');
    const access = fusedAccess();
    expect(access?.kind).toBe('wasm');
    expect(access?.kind === 'wasm' && access.memory).toBeTruthy();
  });

  it('takes the composed kernels while a parameter still lives on another backend, then fuses', async () => {
    await useBackend('cpu');
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const g = tf.tensor1d([1, 1, 1]);
    const opt = createTfjs(adam({ lr: 0.1 }), { w });
    opt.step({ w: g }); // creates the slots on cpu
    await useBackend('wasm');
    opt.step({ w: g }); // data still on cpu: TF.js ops move it
    expect(opt.path).toBe('ops');
    opt.step({ w: g });
    expect(opt.path).toBe('fused-wasm');
    // Three Adam steps with a constant gradient move each coordinate by lr per step: m̂ = g, v̂ = g².
    const got = w.dataSync();
    [0.7, 1.7, 2.7].forEach((want, i) => expect(Math.abs((got[i] as number) - want)).toBeLessThan(1e-6));
    opt.dispose();
    tf.dispose([w, g]);
  });
});

describe('benchmark harness', () => {
  it.each(['cpu', 'wasm'] as const)('runs on %s with tiny sizes: fused rows, ratios, no growth or leak from descent', async (backend) => {
    const result = await measureThroughput({ backend, size: 64, count: 3, small: 8, reps: 1, warmup: 1, optimizers: ['adam', 'sgd'] });
    expect(result.backend).toBe(backend);
    const names = result.rows.map((r) => `${r.layout} ${r.name}`);
    expect(names).toContain('large descent adam');
    expect(names).toContain('small descent sgd (fused off)');
    expect(names).toContain('large tf.train.adam');
    for (const r of result.rows) {
      expect(r.params).toBe(r.layout === 'large' ? 64 : 24);
      expect(r.mparamsPerSec).toBeGreaterThan(0);
      if (r.name.startsWith('descent')) {
        expect(r.path).toBe(r.name.endsWith('(fused off)') ? 'ops' : `fused-${backend}`);
        expect(r.tensorGrowth).toBe(0);
        expect(r.leakedAtDispose).toBe(0);
      }
    }
    expect(formatTable(result)).toContain('descent adam');
  });
});
