import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError, type TransformSpec } from '@descent/core';
import { maximumTorch, minimumTorch, select } from './kernels/common.js';

/**
 * Gradient transforms on TF.js tensors, mirroring `core/src/transforms/` (same formulas, same order of
 * operations, same NaN behaviour). Every reduction stays on the device: no readback. Each kernel runs inside the
 * `tf.tidy` of {@link transformGradientsTfjs}, returns new tensors, and never changes the caller's gradients.
 */
type TransformKernel = (
  options: Readonly<Record<string, unknown>>,
  grads: ReadonlyMap<string, tf.Tensor>,
  params: ReadonlyMap<string, tf.Variable>,
) => Map<string, tf.Tensor>;

/**
 * A tensor viewed as (units, size) rows, as core's `unitLayout`: a tensor of two or more dimensions is a
 * (shape[0], −1) matrix whose rows are the units; a vector or scalar is one unit.
 */
function units(x: tf.Tensor): tf.Tensor2D {
  if (x.shape.length <= 1) return tf.reshape(x, [1, x.size]);
  const n = x.shape[0] as number;
  return tf.reshape(x, [n, n === 0 ? 0 : x.size / n]);
}

/** Applies `f` to every gradient, by name. */
function each(grads: ReadonlyMap<string, tf.Tensor>, f: (name: string, g: tf.Tensor) => tf.Tensor): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, f(name, g));
  return out;
}

/**
 * Gradient-transform kernels by transform name; a transform missing here is refused by name at creation.
 */
export const transformKernels: Readonly<Record<string, TransformKernel>> = {
  /** `core/src/transforms/clip-grad-norm.ts`: the p-norm of the per-tensor p-norms, c = min(maxNorm/(N + 1e-6), 1). */
  clipGradNorm(o, grads) {
    const maxNorm = o.maxNorm as number;
    const p = o.normType as number | 'inf';
    const gs = [...grads.values()];
    if (gs.length === 0) return new Map();
    let total: tf.Tensor;
    if (p === 'inf' || p === Infinity) {
      total = tf.max(tf.stack(gs.map((g) => (g.size === 0 ? tf.scalar(0) : tf.max(tf.abs(g))))));
    } else if (p === 2) {
      const norms = gs.map((g) => tf.sqrt(tf.sum(tf.square(g))));
      total = tf.sqrt(tf.sum(tf.square(tf.stack(norms))));
    } else {
      const norms = gs.map((g) => tf.pow(tf.sum(tf.pow(tf.abs(g), p)), 1 / p));
      total = tf.pow(tf.sum(tf.pow(tf.stack(norms), p)), 1 / p);
    }
    const coef = minimumTorch(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    return each(grads, (_, g) => tf.mul(g, coef));
  },

  /** `core/src/transforms/clip-grad-value.ts`: min(max(g, −c), c) elementwise; NaN stays NaN. */
  clipGradValue(o, grads) {
    const c = o.clipValue as number;
    return each(grads, (_, g) => minimumTorch(maximumTorch(g, -c), c));
  },

  /** `core/src/transforms/adaptive-clip.ts`: unit-wise AGC, M = λ·max(‖θ‖, ε), g·M/max(‖g‖, 1e-6) where ‖g‖ ≥ M. */
  adaptiveClip(o, grads, params) {
    const lambda = o.clipping as number;
    const eps = o.eps as number;
    return each(grads, (name, g) => {
      if (g.size === 0) return tf.clone(g);
      const theta = units(params.get(name)!);
      const gu = units(g);
      const maxNorm = tf.mul(maximumTorch(tf.sqrt(tf.sum(tf.square(theta), 1, true)), eps), lambda);
      const gradNorm = tf.sqrt(tf.sum(tf.square(gu), 1, true));
      const scale = select(tf.less(gradNorm, maxNorm), 1, tf.div(maxNorm, maximumTorch(gradNorm, 1e-6)));
      return tf.reshape(tf.mul(gu, scale), g.shape);
    });
  },

  /** `core/src/transforms/soft-clip.ts`: unit-wise g·min(r_g, r_θ)/r_g with floored RMSs. */
  softClip(o, grads, params) {
    const eps = o.eps as number;
    return each(grads, (name, g) => {
      const theta = units(params.get(name)!);
      const size = theta.shape[1];
      if (size === 0) return tf.clone(g);
      const gu = units(g);
      const paramRms = maximumTorch(tf.sqrt(tf.div(tf.sum(tf.square(theta), 1, true), size)), eps);
      const gradRms = maximumTorch(tf.sqrt(tf.div(tf.sum(tf.square(gu), 1, true), size)), eps);
      const scale = tf.div(minimumTorch(gradRms, paramRms), gradRms);
      return tf.reshape(tf.mul(gu, scale), g.shape);
    });
  },

  /** `core/src/transforms/centralize.ts`: each unit minus its mean (sum / n), for tensors of ≥ 2 (≥ 4) dimensions. */
  centralize(o, grads) {
    const minRank = o.convOnly ? 4 : 2;
    return each(grads, (_, g) => {
      if (g.shape.length < minRank || g.size === 0) return tf.clone(g);
      const gu = units(g);
      const mean = tf.div(tf.sum(gu, 1, true), gu.shape[1]);
      return tf.reshape(tf.sub(gu, mean), g.shape);
    });
  },
};

/**
 * Applies transforms in order. Temporaries are freed; the returned gradients are new tensors owned by the caller
 * (who disposes them after the step), never the caller's own tensors, even where a transform leaves a gradient
 * unchanged.
 */
export function transformGradientsTfjs(
  transforms: readonly TransformSpec[],
  grads: ReadonlyMap<string, tf.Tensor>,
  params: ReadonlyMap<string, tf.Variable>,
): Map<string, tf.Tensor> {
  const names = [...grads.keys()];
  const given = new Set(grads.values());
  const results = tf.tidy(() => {
    // Empty gradients add nothing to a norm and have no rows to transform; leaving them out keeps reductions
    // off size-0 tensors, which the GL backends cannot reduce.
    let current: ReadonlyMap<string, tf.Tensor> = new Map([...grads].filter(([, g]) => g.size > 0));
    for (const t of transforms) {
      const k = transformKernels[t.name];
      if (!k) throw new UnsupportedError(`transform ${t.name}: the tfjs backend has no kernel for it; it implements ${Object.keys(transformKernels).join(', ')}`);
      current = k(t.options, current, params);
    }
    return names.map((n) => {
      const t = current.get(n) ?? grads.get(n)!;
      return given.has(t) ? tf.clone(t) : t;
    });
  });
  return new Map(names.map((n, i) => [n, results[i]!]));
}
