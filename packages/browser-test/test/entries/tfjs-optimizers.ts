/**
 * Browser entry (bundled by the harness, runs in Chromium): descent's TF.js optimizers on the `webgl` or `webgpu`
 * backend against core's Float64 reference. Node calls `init` once, then `runCase` per configuration; every
 * result is plain JSON. The tolerances are decided on the Node side (test/tfjs-browser.test.ts): this page only
 * measures, for every tensor, the largest error in units of u·(|ref| + S) — the K each tensor needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createReference, createSpec, decodeNumber, definitions, jacobiEigen, tensor, type GroupConfig, type Optimizer, type PortableState, type Tensor } from '@descent/core';
import { createTfjs } from '@descent/backend-tfjs';
import { gpuResident, prefetch, selectBackend, type GpuBackend, type InitResult } from './common.js';

export type { InitResult } from './common.js';

const U = 2 ** -24;

/** Selects the backend (see {@link selectBackend}); `cpuForward` only for the test that shows the GPU check bites. */
export function init({ backend, cpuForward }: { backend: GpuBackend; cpuForward?: boolean }): Promise<InitResult> {
  return selectBackend(backend, cpuForward);
}

/** mulberry32: seeded, so that a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values uniform in (−scale, scale): both sides see exactly these numbers. */
function uniform32(next: () => number, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround((2 * next() - 1) * scale));
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export interface CaseInput {
  name: string;
  options: Record<string, unknown>;
  /** Parameter shapes; those the optimizer rejects (e.g. Muon's 1-D) are dropped unless `groups` route them. */
  shapes: number[][];
  groups?: Array<GroupConfig<Record<string, unknown>>>;
  steps: number;
  seed: number;
  /**
   * `resync`: after every comparison the reference takes the TF.js parameters and state (exact: float32 ⊂
   * Float64), so each step's error is that one step's. `drift`: both run freely from the same start.
   */
  mode: 'resync' | 'drift';
}

export interface TensorReport {
  /** max over steps and elements of |x − ref| / (u·(|ref| + S)); Infinity where one side is NaN and not the other. */
  k: number;
  where: string;
}

export interface CaseReport {
  /** The shapes actually used. */
  shapes: number[][];
  /** By tensor key: `p0` (a parameter) or `p0.expAvg` (a state slot). */
  tensors: Record<string, TensorReport>;
  /** Keys present on one side only, step counts or host scalars that differ: should stay empty. */
  structural: string[];
  /** By parameter: `muon` when the reference keeps a Muon momentum buffer for it (a matrix update), else `elementwise`. */
  routes: Record<string, 'muon' | 'elementwise'>;
  /**
   * By parameter: the largest condition number λ_max/λ_min of the reference's Shampoo preconditioners
   * (`precond*` slots) over the steps, for SOAP's (`GG*`) also λ_max over the smallest eigenvalue gap; 1 for
   * other optimizers.
   */
  kappa: Record<string, number>;
  /** The implementation the optimizer reports (`opt.path`): composed TF.js ops (`ops`) is the only one for GPUs. */
  path: string;
  /** tf.memory().numTensors: before creating the optimizer, after step 1, after every later step, after dispose. */
  memory: { baseline: number; afterFirst: number; later: number[]; afterDispose: number };
  ms: number;
}

const num = (x: unknown): number => decodeNumber(x) ?? Number.NaN;

function refTensors(ref: Optimizer<Tensor> & { params: ReadonlyMap<string, Tensor> }): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [n, t] of ref.params) out.set(n, Float64Array.from(t.data));
  for (const [n, p] of Object.entries(ref.exportState().params)) {
    for (const [s, slot] of Object.entries(p.slots)) out.set(`${n}.${s}`, Float64Array.from(slot.data, num));
  }
  return out;
}

function tfjsTensors(vars: ReadonlyMap<string, tf.Variable>, state: PortableState): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [n, v] of vars) out.set(n, Float64Array.from(v.dataSync()));
  for (const [n, p] of Object.entries(state.params)) {
    for (const [s, slot] of Object.entries(p.slots)) out.set(`${n}.${s}`, Float64Array.from(slot.data, num));
  }
  return out;
}

const maxAbs = (a: Float64Array): number => a.reduce((m, x) => (Number.isNaN(x) ? m : Math.max(m, Math.abs(x))), 0);

export async function runCase(input: CaseInput): Promise<CaseReport> {
  const started = performance.now();
  const spec = createSpec(input.name, input.options);
  const def = definitions.get(input.name);
  if (!def) throw new Error(`core has no optimizer ${JSON.stringify(input.name)}`);
  const shapes = input.shapes.filter((s) => input.groups || !def.rejectShape?.(s, spec.options as never));
  const next = rng(input.seed);

  const baseline = tf.memory().numTensors;
  const refParams: Record<string, Tensor> = {};
  const vars = new Map<string, tf.Variable>();
  shapes.forEach((shape, i) => {
    const data = uniform32(next, sizeOf(shape));
    refParams[`p${i}`] = tensor(data, shape);
    // tf.variable shares the tensor's data and keeps it alive: create both in a tidy so only the variable stays.
    vars.set(`p${i}`, tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(data), shape, 'float32'))));
  });
  const create = (input.groups ? { groups: input.groups } : {}) as never;
  const ref = createReference(spec, refParams, create);
  const opt = createTfjs(spec, vars, create);

  const tensors: Record<string, TensorReport> = {};
  const structural: string[] = [];
  const scale = new Map<string, number>();
  let prev = refTensors(ref);
  for (const [key, x] of prev) scale.set(key, maxAbs(x));
  const memory = { baseline, afterFirst: -1, later: [] as number[], afterDispose: -1 };
  const routes: Record<string, 'muon' | 'elementwise'> = {};
  const kappa: Record<string, number> = {};

  for (let t = 1; t <= input.steps; t++) {
    const refGrads: Record<string, Tensor> = {};
    const tfGrads: Record<string, tf.Tensor> = {};
    shapes.forEach((shape, i) => {
      const g = uniform32(next, sizeOf(shape));
      refGrads[`p${i}`] = tensor(g, shape);
      tfGrads[`p${i}`] = tf.tensor(Float32Array.from(g), shape, 'float32');
    });
    const before = new Map([...vars].map(([n, v]) => [n, v.dataId]));
    ref.step(refGrads);
    opt.step(tfGrads);
    for (const g of Object.values(tfGrads)) g.dispose();
    for (const [n, v] of vars) {
      // A parameter the step assigned (its data changed: AdaBelief without SGD fallback leaves it alone early on)
      // must hold a shader's output.
      if (v.dataId !== before.get(n) && !gpuResident(v)) structural.push(`step ${t}: ${n} was assigned a value that is not (only) on the GPU`);
    }
    await prefetch();
    if (t === 1) memory.afterFirst = tf.memory().numTensors;
    else memory.later.push(tf.memory().numTensors);

    const want = refTensors(ref);
    const state = opt.exportState();
    const got = tfjsTensors(vars, state);
    for (const key of new Set([...want.keys(), ...got.keys()])) {
      if (!want.has(key) || !got.has(key)) structural.push(`step ${t}: ${key} only in ${want.has(key) ? 'the reference' : 'tfjs'}`);
    }
    for (const [key, r] of want) {
      const x = got.get(key);
      if (!x) continue;
      // S: the largest value before the step plus the largest change in it (drift: accumulated over the steps).
      const before = prev.get(key)!;
      let change = 0;
      for (let i = 0; i < r.length; i++) change = Math.max(change, Math.abs((r[i] as number) - (before[i] as number)) || 0);
      const s = (input.mode === 'resync' ? maxAbs(before) : (scale.get(key) as number)) + change;
      scale.set(key, s);
      const report = (tensors[key] ??= { k: 0, where: '' });
      for (let i = 0; i < r.length; i++) {
        const a = r[i] as number;
        const b = x[i] as number;
        let k: number;
        if (Number.isNaN(a) || Number.isNaN(b)) k = Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.POSITIVE_INFINITY;
        else k = Math.abs(a - b) / (U * (Math.abs(a) + s)) || 0;
        if (k > report.k) {
          report.k = k;
          report.where = `step ${t}, [${i}]: tfjs ${b}, reference ${a}, S ${s.toPrecision(4)}`;
        }
      }
    }
    const refState = ref.exportState();
    for (const [n, p] of Object.entries(refState.params)) {
      routes[n] = 'momentumBuffer' in p.slots ? 'muon' : 'elementwise';
      for (const [slot, x] of Object.entries(p.slots)) {
        if (!slot.startsWith('precond') && !slot.startsWith('GG')) continue;
        const size = x.shape[0] as number;
        const { values } = jacobiEigen(Float64Array.from(x.data, num), size);
        const top = values[size - 1] as number;
        // SOAP (GG<i>): its eigenvectors are as sensitive as λ_max over the smallest eigenvalue gap, its QR refresh
        // as λ_max/λ_min; Shampoo's inverse roots as λ_max/λ_min.
        let conditioning = top / (values[0] as number);
        if (slot.startsWith('GG')) for (let k = 1; k < size; k++) conditioning = Math.max(conditioning, top / ((values[k] as number) - (values[k - 1] as number)));
        kappa[n] = Math.max(kappa[n] ?? 1, conditioning);
      }
    }
    if (state.stepCount !== refState.stepCount) structural.push(`step ${t}: stepCount ${state.stepCount} vs ${refState.stepCount}`);
    for (const [n, p] of Object.entries(refState.params)) {
      const q = state.params[n];
      if (!q) continue;
      if (q.step !== p.step) structural.push(`step ${t}: ${n}.step ${q.step} vs ${p.step}`);
      if (JSON.stringify(q.scalars) !== JSON.stringify(p.scalars)) structural.push(`step ${t}: ${n} scalars ${JSON.stringify(q.scalars)} vs ${JSON.stringify(p.scalars)}`);
    }
    if (input.mode === 'resync') {
      // The reference continues from exactly the TF.js values (float32 values are exact in Float64).
      ref.importState(state);
      for (const n of vars.keys()) ref.params.get(n)!.data.set(got.get(n)!);
      prev = refTensors(ref);
    } else {
      prev = want;
    }
  }
  const path = opt.path;
  opt.dispose();
  for (const v of vars.values()) v.dispose();
  memory.afterDispose = tf.memory().numTensors;
  return { shapes, tensors, structural, routes, kappa, path, memory, ms: performance.now() - started };
}
