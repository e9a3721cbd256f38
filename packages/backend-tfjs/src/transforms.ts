import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError, type TransformSpec } from '@descent/core';

/**
 * Gradient transforms on TF.js tensors, mirroring `core/src/transforms/`. Each returns new tensors (kept
 * alive: the caller disposes them after the step) and never changes the caller's gradients.
 */
type TransformKernel = (
  options: Readonly<Record<string, unknown>>,
  grads: ReadonlyMap<string, tf.Tensor>,
  params: ReadonlyMap<string, tf.Variable>,
) => Map<string, tf.Tensor>;

export const transformKernels: Readonly<Record<string, TransformKernel>> = {
  clipGradNorm(o, grads) {
    const maxNorm = o.maxNorm as number;
    const p = o.normType as number;
    const gs = [...grads.values()];
    const norms = gs.map((g) => (p === Infinity ? tf.max(tf.abs(g)) : tf.norm(g, p)));
    const total = p === Infinity ? tf.max(tf.stack(norms)) : tf.norm(tf.stack(norms), p);
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    const out = new Map<string, tf.Tensor>();
    for (const [name, g] of grads) out.set(name, tf.mul(g, coef));
    return out;
  },
};

/** Applies transforms in order; temporaries are freed, the returned gradients are owned by the caller. */
export function transformGradientsTfjs(
  transforms: readonly TransformSpec[],
  grads: ReadonlyMap<string, tf.Tensor>,
  params: ReadonlyMap<string, tf.Variable>,
): Map<string, tf.Tensor> {
  return tf.tidy(() => {
    let current: ReadonlyMap<string, tf.Tensor> = grads;
    for (const t of transforms) {
      const k = transformKernels[t.name];
      if (!k) throw new UnsupportedError(`transform ${t.name}: the tfjs backend has no kernel for it; it implements ${Object.keys(transformKernels).join(', ')}`);
      current = k(t.options, current, params);
    }
    return [...current.values()];
  }).reduce((m, t, i) => m.set([...grads.keys()][i]!, t), new Map<string, tf.Tensor>());
}
