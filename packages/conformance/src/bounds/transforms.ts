import { unitLayout, type TransformSpec } from '@descent/core';
import type { Arith, Tracked } from './arith.js';
import { BoundBuilder, at, type TensorBound } from './tensor.js';

/**
 * Error models of the gradient transforms (core/src/transforms/), applied in order to the tracked gradients of
 * the parameters that have one, before the optimizer's own model. Every clipping decision is continuous: the
 * factor min(1, c/‖g‖) (global norm, AGC), min(RMS(θ), RMS(g))/RMS(g) (soft clip) and the clamp of clip-by-value
 * are 1-Lipschitz in their inputs, so whichever side of the threshold float32 lands on is within the budget of
 * the factor, and no ambiguity band is needed. Norms and means are reductions (γ_{n−1}·Σ|terms|).
 *
 * @packageDocumentation
 */

export type TransformBound = (ar: Arith, options: Readonly<Record<string, unknown>>, grads: Map<string, TensorBound>, params: ReadonlyMap<string, { readonly shape: readonly number[]; readonly bound: TensorBound }>) => void;

const elements = (t: TensorBound, from = 0, to = t.v.length): Tracked[] => Array.from({ length: to - from }, (_, i) => at(t, from + i));

const copyOf = (t: TensorBound): BoundBuilder => {
  const b = new BoundBuilder(t.v.length);
  for (let i = 0; i < t.v.length; i++) b.set(i, at(t, i));
  return b;
};

const scaleAll = (ar: Arith, t: TensorBound, scale: Tracked, from = 0, to = t.v.length, into?: BoundBuilder): BoundBuilder => {
  const b = into ?? copyOf(t);
  for (let i = from; i < to; i++) b.set(i, ar.mul(at(t, i), scale));
  return b;
};

/** clipGradNorm: the global p-norm of the per-tensor p-norms, coef = min(maxNorm/(total + 1e-6), 1). */
const clipGradNorm: TransformBound = (ar, o, grads) => {
  const maxNorm = o.maxNorm as number;
  const p = o.normType as number | 'inf';
  let total: Tracked;
  if (p === 'inf') {
    total = ar.exact(0);
    for (const g of grads.values()) for (const x of elements(g)) total = ar.max(total, ar.abs(x));
  } else if (p === 2) {
    const squares: Tracked[] = [];
    for (const g of grads.values()) {
      const norm = ar.sqrt(ar.sum(elements(g).map((x) => ar.mul(x, x))));
      squares.push(ar.mul(norm, norm));
    }
    total = ar.sqrt(ar.sum(squares));
  } else {
    const terms: Tracked[] = [];
    for (const g of grads.values()) terms.push(ar.pow(ar.pow(ar.sum(elements(g).map((x) => ar.pow(ar.abs(x), p))), 1 / p), p));
    total = ar.pow(ar.sum(terms), 1 / p);
  }
  const coef = ar.min(ar.div(ar.input(maxNorm), ar.add(total, ar.input(1e-6))), ar.exact(1));
  if (coef.v === 1) {
    // Not clipped in Float64; float32 may clip by a factor within the budget of coef of 1.
    for (const [name, g] of grads) grads.set(name, scaleAll(ar, g, { ...coef, v: 1 }).build(g.extra, g.note));
    return;
  }
  for (const [name, g] of grads) grads.set(name, scaleAll(ar, g, coef).build(g.extra, g.note));
};

/** clipGradValue: min(max(g, −c), c) per element. */
const clipGradValue: TransformBound = (ar, o, grads) => {
  const c = ar.input(o.clipValue as number);
  for (const [name, g] of grads) {
    const b = new BoundBuilder(g.v.length);
    for (let i = 0; i < g.v.length; i++) b.set(i, ar.min(ar.max(at(g, i), ar.neg(c)), c));
    grads.set(name, b.build(g.extra, g.note));
  }
};

/** adaptiveClip (AGC): per unit, g·min(1, max(‖θ‖, ε)·λ / max(‖g‖, 1e-6)). */
const adaptiveClip: TransformBound = (ar, o, grads, params) => {
  const lambda = ar.input(o.clipping as number);
  const eps = ar.input(o.eps as number);
  for (const [name, g] of grads) {
    const param = params.get(name)!;
    const { units, size } = unitLayout(param.shape);
    const b = copyOf(g);
    for (let u = 0; u < units; u++) {
      const start = u * size;
      const th = elements(param.bound, start, start + size);
      const gs = elements(g, start, start + size);
      const maxNorm = ar.mul(ar.max(ar.sqrt(ar.sum(th.map((x) => ar.mul(x, x)))), eps), lambda);
      const gradNorm = ar.sqrt(ar.sum(gs.map((x) => ar.mul(x, x))));
      const ratio = ar.min(ar.div(maxNorm, ar.max(gradNorm, ar.input(1e-6))), ar.exact(1));
      // Unclipped in Float64 (‖g‖ < max norm): g itself, with the budget of a factor that float32 may see below 1.
      const scale = gradNorm.v < maxNorm.v ? { ...ratio, v: 1 } : ratio;
      scaleAll(ar, g, scale, start, start + size, b);
    }
    // The parameters' normwise allowance (matrix optimizers) moves M by at most λ·‖Δθ‖ per unit, and the result by
    // at most as much (‖g‖/max(‖g‖, 1e-6) ≤ 1).
    grads.set(name, b.build(g.extra + (o.clipping as number) * param.bound.extra, g.note));
  }
};

/** softClip: per unit, g·min(RMS(g), RMS(θ))/RMS(g), both RMS floored at ε. */
const softClip: TransformBound = (ar, o, grads, params) => {
  const eps = ar.input(o.eps as number);
  for (const [name, g] of grads) {
    const param = params.get(name)!;
    const { units, size } = unitLayout(param.shape);
    if (size === 0) continue;
    const b = copyOf(g);
    for (let u = 0; u < units; u++) {
      const start = u * size;
      const rms = (xs: Tracked[]): Tracked => ar.max(ar.sqrt(ar.div(ar.sum(xs.map((x) => ar.mul(x, x))), ar.exact(size))), eps);
      const paramRms = rms(elements(param.bound, start, start + size));
      const gradRms = rms(elements(g, start, start + size));
      scaleAll(ar, g, ar.div(ar.min(gradRms, paramRms), gradRms), start, start + size, b);
    }
    // The parameters' normwise allowance (matrix optimizers): RMS(θ) moves by at most ‖Δθ_unit‖/√n, and the result
    // by ‖g_unit‖/RMS(g) = √n times that, i.e. by at most ‖Δθ‖ over the tensor.
    grads.set(name, b.build(g.extra + param.bound.extra, g.note));
  }
};

/** centralize: per unit of a gradient of ≥ 2 (or ≥ 4) dimensions, g − mean(g); the difference cancels. */
const centralize: TransformBound = (ar, o, grads, params) => {
  for (const [name, g] of grads) {
    const shape = params.get(name)!.shape;
    if (shape.length < (o.convOnly ? 4 : 2)) continue;
    const { units, size } = unitLayout(shape);
    const b = copyOf(g);
    for (let u = 0; u < units; u++) {
      const start = u * size;
      const mean = ar.div(ar.sum(elements(g, start, start + size)), ar.exact(size));
      for (let i = start; i < start + size; i++) b.set(i, ar.sub(at(g, i), mean));
    }
    grads.set(name, b.build(g.extra, g.note));
  }
};

/** The error model of every transform of core, by name. */
export const transformBounds: Readonly<Record<string, TransformBound>> = { clipGradNorm, clipGradValue, adaptiveClip, softClip, centralize };

/** Applies the error models of a spec's transforms, in order, to tracked gradients (rewritten in `grads`). */
export function applyTransformBounds(
  ar: Arith,
  transforms: readonly TransformSpec[],
  grads: Map<string, TensorBound>,
  params: ReadonlyMap<string, { readonly shape: readonly number[]; readonly bound: TensorBound }>,
): void {
  for (const t of transforms) {
    const f = transformBounds[t.name];
    if (!f) throw new Error(`the conformance kit has no error model for transform "${t.name}"`);
    f(ar, t.options, grads, params);
  }
}
