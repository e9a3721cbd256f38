import * as tf from '@tensorflow/tfjs-core';
import type { Sm3Options } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { maximumTorch, minimumTorch, select } from './common.js';

/** max over `axes` (keepdims) with NaN propagating, as torch's `max(dim)`; tf.max may skip a NaN. */
function reduceMaxTorch(x: tf.Tensor, axes: number[]): tf.Tensor {
  if (axes.length === 0) return x;
  return select(tf.any(tf.isNaN(x), axes, true), NaN, tf.max(x, axes, true));
}

/**
 * SM3 on TF.js; the update rule and its order of operations are those of `core/src/optimizers/sm3.ts`
 * (pytorch_optimizer's SM3): ν = min of the broadcast accumulators, β·ν + ((1 − β)·g)·g, each accumulator the
 * max of ν over the other axes (with the old one when β > 0), u = (1/√(ν + ε))·g, the (1 − μ)-weighted momentum,
 * θ + (−η)·u. min/max propagate NaN as torch's do.
 */
export const sm3Kernel: TfjsKernel<Sm3Options> = {
  update({ options: o, shape, param: theta, grad, slots }) {
    const { lr, momentum, beta, eps } = o;
    if (theta.size === 0) return;
    const r = shape.length;
    const acc = (r === 0 ? [0] : shape.map((_, i) => i)).map((i) => slots[`accumulator${i}`]!);
    let nu: tf.Tensor = acc[0]!;
    for (let i = 1; i < r; i++) nu = minimumTorch(nu, acc[i]!);
    if (beta > 0) nu = tf.mul(nu, beta);
    nu = tf.add(nu, tf.mul(tf.mul(1 - beta, grad), grad));
    for (let i = 0; i < r; i++) {
      const nuMax = reduceMaxTorch(nu, shape.map((_, d) => d).filter((d) => d !== i));
      acc[i]!.assign(beta > 0 ? maximumTorch(acc[i]!, nuMax) : nuMax);
    }
    let u = tf.mul(tf.div(1, tf.sqrt(tf.add(nu, eps))), grad);
    if (momentum > 0) {
      const m = slots.momentumBuffer!;
      m.assign(tf.add(tf.mul(m, momentum), tf.mul(1 - momentum, u)));
      u = m;
    }
    theta.assign(tf.add(theta, tf.mul(-lr, u)));
  },
};
