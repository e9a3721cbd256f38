import { it } from 'vitest';
import { createReference, tensor, type OptimizerSpec, type PortableState, type Tensor, type GroupConfig } from '@descent/core';
import { SUM_BLOCK, createGpujs, createGpujsAsync, isShaderMode, type Float32Tensor, type GpujsActualMode, type GpujsOptimizer } from '../src/index.js';

/** Unit roundoff of float32. */
export const U = 2 ** -24;

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 values in ±[lo, hi) with random signs, so no element sits near 0. */
export function randomData(n: number, r: () => number, lo = 0.1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => Math.fround((r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r())));
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Every numeric option rounded to float32, so the reference sees exactly the hyperparameters the kernels see. */
export function froundOptions<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number') out[k] = Math.fround(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'number' ? Math.fround(x) : x));
    else out[k] = v;
  }
  return out as T;
}

/** Modes tested in this process: webasm and cpu always; headlessgl when gl is built and a display exists. */
/**
 * Registers the placeholder of a mode that cannot run here: a visible skip naming the reason, or — where the
 * environment says the mode is required (CI sets DESCENT_REQUIRE_HEADLESSGL=1 after installing gl's build
 * dependencies and Xvfb) — a failing test with that reason.
 */
export function unavailableMode(mode: string, reason: string): void {
  if (mode === 'headlessgl' && process.env.DESCENT_REQUIRE_HEADLESSGL === '1') {
    it(`${mode} is required here (DESCENT_REQUIRE_HEADLESSGL=1)`, () => {
      throw new Error(`${mode} cannot run: ${reason}`);
    });
  } else {
    it.skip(`${mode} is a known gap here: ${reason}`, () => {});
  }
}

export function headlessglProblem(): string | undefined {
  try {
    const opt = createGpujs({ name: 'sgd', options: { lr: 0.1 } } as never, { w: { shape: [1], data: new Float32Array(1) } }, { mode: 'headlessgl' });
    opt.dispose();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * How far a float32 result may be from the Float64 reference after one step from identical state.
 *
 * Each output of an elementwise update is a short chain of float32 operations (at most about a dozen, counting
 * the roundings of the host scalars), and each rounding perturbs one intermediate by at most u = 2⁻²⁴ of its
 * magnitude. Every intermediate is bounded by the old and new values of the tensors involved (for a moving
 * average m' = βm + (1−β)g, for instance, |(1−β)g| = |m' − βm| ≤ |m| + |m'|), so an error of at most k·u·S with
 * S = max over the tensor of |old| + |new| and a constant k of the order of the operation count holds normwise.
 * k = 32 for elementwise optimizers leaves a margin of about 2–3 over that count; a wrong formula, a missing term or
 * a misplaced ε (the test options use ε large enough to matter) gives errors many orders of magnitude larger.
 *
 * Per-tensor norms (LAMB, LARS) are device reductions whose float32 block sums have relative error at most
 * (B − 1)·u for B = {@link SUM_BLOCK}; the norm then carries (B − 1)u/2 and a trust ratio (B − 1)u, which scales
 * the whole update, hence k = B + 32 there.
 *
 * GL backends (headlessgl, webgl2) and WebGPU may flush denormals and compute division and square roots with a few
 * ulps more error (GLSL ES and WGSL allow 2.5 ulp for division), so their k is doubled.
 */
export function kFor(kind: 'elementwise' | 'tensor' | 'matrix', mode: GpujsActualMode): number {
  const base = kind === 'tensor' ? SUM_BLOCK + 32 : 32;
  return isShaderMode(mode) ? 2 * base : base;
}

/**
 * Newton–Schulz in float32 is compared normwise: the Float64 reference and a float32 run of five quintic steps
 * differ by about 1e-5 of ‖O‖_F on these small matrices (measured), far below the 1e-4 allowed here (the figure
 * the design notes give for float32 Newton–Schulz), and far above what float32 rounding of the update itself
 * contributes.
 */
export const NS_RELATIVE = 1e-4;

export interface Mismatch {
  readonly what: string;
  readonly error: number;
  readonly bound: number;
}

/** max over i of |a_i − b_i|, and the scale max_i (|old_i| + |new_i|). */
export function normwise(got: ArrayLike<number>, want: ArrayLike<number>, old: ArrayLike<number>): { error: number; scale: number } {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const gt = got[i] as number;
    error = Math.max(error, gt === w || (Number.isNaN(gt) && Number.isNaN(w)) ? 0 : Math.abs(gt - w));
    scale = Math.max(scale, Math.abs(old[i] as number) + Math.abs(w));
  }
  return { error, scale };
}

function frobenius(a: ArrayLike<number>, b?: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - ((b?.[i] as number | undefined) ?? 0)) ** 2;
  return Math.sqrt(s);
}

export interface CompareOptions<O extends object> {
  readonly mode: GpujsActualMode;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly steps?: number;
  readonly seed?: number;
  readonly groups?: ReadonlyArray<GroupConfig<O>>;
  readonly kind: 'elementwise' | 'tensor' | 'matrix';
  /**
   * Elements of a parameter whose update takes the sign of a quantity within rounding of 0, where float32 and
   * Float64 may rightly disagree (Lion, Signum): indices to leave out of the parameter comparison.
   */
  readonly ambiguous?: (name: string, before: PortableState, grad: Float32Array, options: O) => Set<number>;
  /** Parameters to give no gradient on some steps (step index → names left out). */
  readonly skip?: (step: number) => readonly string[];
  /**
   * Drive the optimizer through the asynchronous API (`createGpujsAsync`, `stepAsync`, `exportStateAsync`,
   * `readAsync`) instead of the synchronous one. Always on for webgpu, which has no other.
   */
  readonly async?: boolean;
}

/**
 * Steps the gpujs optimizer and the Float64 reference side by side from identical state, comparing the
 * parameters and every state slot after each step against the bounds of {@link kFor}, then copies the gpujs state
 * and parameters into the reference (resync) so that every step is compared from identical inputs.
 * Returns the mismatches (empty when everything is within bounds) and the largest error/bound ratio seen.
 */
export async function compareStepwise<O extends object>(
  spec: OptimizerSpec<O>,
  c: CompareOptions<O>,
): Promise<{ mismatches: Mismatch[]; worst: number; opt: GpujsOptimizer<O>; compared: number; skippedElements: number }> {
  const r = rng(c.seed ?? 1);
  const params: Record<string, Float32Tensor> = {};
  const refParams: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(c.shapes)) {
    const data = randomData(sizeOf(shape), r);
    params[name] = { shape, data };
    refParams[name] = tensor(Float64Array.from(data), shape);
  }
  const create = { mode: c.mode, ...(c.groups ? { groups: c.groups } : {}) };
  const async = c.async || c.mode === 'webgpu';
  const opt = async ? await createGpujsAsync(spec, params, create) : createGpujs(spec, params, create);
  const exportState = () => (async ? opt.exportStateAsync() : opt.exportState());
  const read = async (name: string) => (async ? await opt.readAsync(name) : opt.read(name));
  const ref = createReference(spec, refParams, c.groups ? { groups: c.groups } : {});
  const k = kFor(c.kind, c.mode);
  const mismatches: Mismatch[] = [];
  let worst = 0;
  let compared = 0;
  let skippedElements = 0;
  const check = (what: string, error: number, bound: number) => {
    compared++;
    worst = Math.max(worst, bound > 0 ? error / bound : error > 0 ? Infinity : 0);
    if (!(error <= bound)) mismatches.push({ what, error, bound });
  };
  for (let t = 1; t <= (c.steps ?? 10); t++) {
    const before = await exportState();
    const paramBefore: Record<string, Float64Array> = {};
    for (const n of Object.keys(params)) paramBefore[n] = Float64Array.from(await read(n));
    const left = new Set(c.skip?.(t) ?? []);
    const grads: Record<string, Float32Tensor> = {};
    const refGrads: Record<string, Tensor> = {};
    for (const [name, shape] of Object.entries(c.shapes)) {
      if (left.has(name)) continue;
      const g = randomData(sizeOf(shape), r, 0.05, 1);
      grads[name] = { shape, data: g };
      refGrads[name] = tensor(Float64Array.from(g), shape);
    }
    if (async) await opt.stepAsync(grads);
    else opt.step(grads);
    ref.step(refGrads);
    const after = await exportState();
    const refAfter = ref.exportState();
    for (const name of Object.keys(c.shapes)) {
      const got = await read(name);
      const want = refParams[name]!.data;
      const old = paramBefore[name]!;
      const options = opt.optionsOf(name) as unknown as O;
      if (c.kind === 'matrix' && Object.keys(after.params[name]!.slots).includes('momentumBuffer') && !left.has(name)) {
        // θ' = θ·decay − η·s·O: the Newton–Schulz output O is compared normwise through the update it makes.
        const decay = 1 - (options as { lr: number }).lr * ((options as { weightDecay?: number }).weightDecay ?? 0);
        const move = Float64Array.from(want, (w, i) => w - (old[i] as number) * decay);
        check(`${name}: param (normwise, Newton–Schulz)`, frobenius(got, want), NS_RELATIVE * frobenius(move) + k * U * frobenius(old));
      } else {
        const amb = !left.has(name) && c.ambiguous ? c.ambiguous(name, before, grads[name]!.data, options) : new Set<number>();
        skippedElements += amb.size;
        const keep = (a: ArrayLike<number>) => Array.from(a).filter((_, i) => !amb.has(i));
        const { error, scale } = normwise(keep(got), keep(want), keep(old));
        check(`${name}: param`, error, k * U * scale);
      }
      const slotsNow = after.params[name]!.slots;
      for (const [slot, s] of Object.entries(slotsNow)) {
        const w = refAfter.params[name]!.slots[slot]!.data.map(Number);
        const o = before.params[name]!.slots[slot]!.data.map(Number);
        const { error, scale } = normwise(s.data.map(Number), w, o);
        check(`${name}: slot ${slot}`, error, k * U * scale);
      }
      for (const [scalar, v] of Object.entries(after.params[name]!.scalars)) {
        check(`${name}: scalar ${scalar}`, Math.abs(Number(v) - Number(refAfter.params[name]!.scalars[scalar])), 0);
      }
      check(`${name}: step`, Math.abs(after.params[name]!.step - refAfter.params[name]!.step), 0);
    }
    // Resync: the reference continues from exactly the float32 state and parameters.
    ref.importState(after);
    for (const name of Object.keys(c.shapes)) refParams[name]!.data.set(await read(name));
  }
  return { mismatches, worst, opt, compared, skippedElements };
}
