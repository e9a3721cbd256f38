import * as tf from '@tensorflow/tfjs-core';

/**
 * Small pieces shared by the TF.js kernels. Everything here runs inside the `tf.tidy` that the backend wraps
 * around a kernel's `update`, so the temporaries it makes are freed with the kernel's own.
 *
 * @packageDocumentation
 */

/**
 * `tf.where(cond, a, b)` for a `cond` that already has the result's shape. Needed because TF.js broadcasts a
 * zero-length vector with a scalar to shape [1] (`tf.where` on a [0] condition with a number argument returns one
 * element), so an empty parameter would break `assign`; an empty `cond` gives an empty result here.
 */
export function select(cond: tf.Tensor, a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor {
  return cond.size === 0 ? tf.zeros(cond.shape) : tf.where(cond, a, b);
}

/** The gradient, negated when the objective is maximized (the caller's tensor is never written). */
export function direction(grad: tf.Tensor, maximize: boolean): tf.Tensor {
  return maximize ? tf.neg(grad) : grad;
}

/**
 * sign(x) as `torch.sign` and `Math.sign` compute it: −1, 0 or 1, and NaN for NaN. `tf.sign` gives 0 for NaN on
 * the cpu backend (and tfjs-backend-wasm's sign is 0 for |x| below ~1e-7), which would stop a NaN gradient (under `nonFinite: "apply"`) from reaching the parameters
 * the way it does in PyTorch and in the reference; the `where` restores it. sign(0) = 0 in both.
 */
export function signTorch(x: tf.Tensor): tf.Tensor {
  // Built from comparisons rather than tf.sign: tfjs-backend-wasm 4.22's sign returns 0 for |x| below ~1e-7.
  const s = tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32'));
  return select(tf.isNaN(x), x, s);
}

/**
 * `torch.lerp(start, end, w)` = start + w·(end − start), evaluated as PyTorch evaluates it (from the `end` side
 * when |w| ≥ 0.5), like core's `lerpTorch`. The branch is decided on the host from the Float64 weight.
 */
export function lerpTorch(start: tf.Tensor, end: tf.Tensor, w: number): tf.Tensor {
  const diff = tf.sub(end, start);
  return Math.abs(w) < 0.5 ? tf.add(start, tf.mul(w, diff)) : tf.sub(end, tf.mul(diff, 1 - w));
}

/** Python's `max(a, b)` on scalars: `a` unless `b > a`, so a NaN `b` gives `a` (where `tf.maximum` gives NaN). */
export function pyMax(a: tf.Tensor | number, b: tf.Tensor): tf.Tensor {
  return select(tf.greater(b, a), b, a);
}

/** The Euclidean norm of all elements, as a float32 scalar on the device. */
export function norm2(x: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.sum(tf.square(x))) as tf.Scalar;
}

function eitherNaN(a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor | undefined {
  const ta = typeof a === 'number' ? undefined : tf.isNaN(a);
  const tb = typeof b === 'number' ? undefined : tf.isNaN(b);
  return ta && tb ? tf.logicalOr(ta, tb) : (ta ?? tb);
}

/**
 * max(a, b) with NaN propagating from either side, as `Math.max`, `torch.maximum` and `torch.clamp` do. The
 * cpu backend's `tf.maximum` propagates NaN but the wasm backend's does not, so the kernels use this wherever
 * the reference uses `Math.max` (AMSGrad's running maximum, clamps), for the same NaN behaviour on every backend.
 */
export function maximumTorch(a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor {
  const nan = eitherNaN(a, b);
  const m = tf.maximum(a, b);
  return nan ? select(nan, NaN, m) : m;
}

/** min(a, b) with NaN propagating from either side; see {@link maximumTorch}. */
export function minimumTorch(a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor {
  const nan = eitherNaN(a, b);
  const m = tf.minimum(a, b);
  return nan ? select(nan, NaN, m) : m;
}
