import { unitLayout, type TransformSpec, type Work } from '@descent/core';
import type { Reduction } from './reduce.js';

/**
 * Gradient transforms on gpu.js, mirroring `core/src/transforms/`. They work through {@link TransformEnv}, which
 * runs reductions and elementwise programs on each parameter's gradient buffer on the device; the caller's
 * gradients are never written (every rewrite goes to a new buffer).
 *
 * @packageDocumentation
 */

/** What a transform can do to the gradients present this step (keyed by parameter name, in parameter order). */
export interface TransformEnv {
  readonly names: readonly string[];
  /** A reduction over one parameter's current gradient, combined in Float64 on the host (a readback: `yield*`). */
  reduce(name: string, reduction: Reduction): Work<number>;
  /**
   * Replaces one parameter's current gradient by an elementwise function of it: `body` updates the local `g`
   * (scalars by name from `values`).
   */
  map(name: string, body: string, values: Readonly<Record<string, number>>): void;
  /** The parameter's shape. */
  shape(name: string): readonly number[];
  /**
   * Per-unit sums (Σx or Σx²) over the units of `unitLayout(shape)` of the gradient or the parameter: float32 block
   * sums on the device, added per unit in Float64 on the host (a readback: `yield*`).
   */
  unitSums(name: string, of: 'grad' | 'param', kind: 'sum' | 'sumSquares'): Work<Float64Array>;
  /** Replaces the gradient by an elementwise function of it and of one host value per unit (the local `v`). */
  mapUnits(name: string, body: string, perUnit: ArrayLike<number>): void;
}

/** A transform: a generator function where it reads values back (see `GpujsKernel`). */
type TransformKernel = (options: Readonly<Record<string, unknown>>, env: TransformEnv) => void | Work;

export const transformKernels: Readonly<Record<string, TransformKernel>> = {
  /** `core/src/transforms/clip-grad-norm.ts`: per-tensor p-norms on the device, the total and coefficient on the host. */
  *clipGradNorm(o, env) {
    const maxNorm = o.maxNorm as number;
    const normType = o.normType as number | 'inf';
    let total = 0;
    if (normType === 'inf') {
      for (const name of env.names) total = Math.max(total, yield* env.reduce(name, 'maxAbs'));
    } else if (normType === 2) {
      for (const name of env.names) {
        const norm = Math.sqrt(yield* env.reduce(name, 'sumSquares'));
        total += norm * norm;
      }
      total = Math.sqrt(total);
    } else {
      const p = normType;
      for (const name of env.names) total += ((yield* env.reduce(name, { sumAbsPow: p })) ** (1 / p)) ** p;
      total = total ** (1 / p);
    }
    const coef = Math.min(maxNorm / (total + 1e-6), 1);
    if (coef === 1) return;
    for (const name of env.names) env.map(name, 'g = g * coef;', { coef });
  },
  /** `core/src/transforms/centralize.ts`: per-unit means on the device and host, subtracted on the device. */
  *centralize(o, env) {
    for (const name of env.names) {
      const shape = env.shape(name);
      if (shape.length < (o.convOnly ? 4 : 2)) continue;
      const { size } = unitLayout(shape);
      const sums = yield* env.unitSums(name, 'grad', 'sum');
      env.mapUnits(name, 'g = g - v;', Float64Array.from(sums, (sum) => sum / size));
    }
  },
  /** `core/src/transforms/adaptive-clip.ts` (AGC): unit norms of θ and g, the clipping factors on the host. */
  *adaptiveClip(o, env) {
    const lambda = o.clipping as number;
    const eps = o.eps as number;
    for (const name of env.names) {
      const pp = yield* env.unitSums(name, 'param', 'sumSquares');
      const gg = yield* env.unitSums(name, 'grad', 'sumSquares');
      let clipped = false;
      const scales = Float64Array.from(pp, (p, u) => {
        const maxNorm = Math.max(Math.sqrt(p), eps) * lambda;
        const gradNorm = Math.sqrt(gg[u] as number);
        if (gradNorm < maxNorm) return 1;
        clipped = true;
        return maxNorm / Math.max(gradNorm, 1e-6);
      });
      if (clipped) env.mapUnits(name, 'g = g * v;', scales);
    }
  },
  /** `core/src/transforms/soft-clip.ts`: unit RMS of θ and g, the factors min(r_g, r_θ)/r_g on the host. */
  *softClip(o, env) {
    const eps = o.eps as number;
    for (const name of env.names) {
      const { size } = unitLayout(env.shape(name));
      if (size === 0) continue;
      const pp = yield* env.unitSums(name, 'param', 'sumSquares');
      const gg = yield* env.unitSums(name, 'grad', 'sumSquares');
      let clipped = false;
      const scales = Float64Array.from(pp, (p, u) => {
        const paramRms = Math.max(Math.sqrt(p / size), eps);
        const gradRms = Math.max(Math.sqrt((gg[u] as number) / size), eps);
        const scale = Math.min(gradRms, paramRms) / gradRms;
        if (scale !== 1) clipped = true;
        return scale;
      });
      if (clipped) env.mapUnits(name, 'g = g * v;', scales);
    }
  },
  /** `core/src/transforms/clip-grad-value.ts`: an elementwise clamp. */
  clipGradValue(o, env) {
    const c = o.clipValue as number;
    for (const name of env.names) env.map(name, 'g = Math.min(Math.max(g, lower), upper);', { lower: -c, upper: c });
  },
};

/** Names of the transforms this backend implements. */
export function supportedTransforms(): string[] {
  return Object.keys(transformKernels);
}

/** The first transform of a spec this backend lacks, or undefined. */
export function missingTransform(transforms: readonly TransformSpec[] | undefined): string | undefined {
  return transforms?.find((t) => !transformKernels[t.name])?.name;
}
