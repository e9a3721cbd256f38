import * as tf from '@tensorflow/tfjs-core';
import type { AdafactorOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, lerpTorch, maximumTorch, minimumTorch, norm2, pyMax } from './common.js';

/**
 * Adafactor on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/adafactor.ts`: β̂₂ = 1 − t^τ (the lerp weight t^τ) and ρ_t = min(γ, 1/√t) are Float64
 * host scalars; RMS(θ), the row-factor mean and RMS(U) stay on the device (no readback). The factored estimate
 * is formed in the order the reference recommends for float32, V̂ = (R_i / max(mean R, ε₁))·C_j with one square
 * root of the clamped V̂ at the end, never R_i·C_j (which leaves float32's range for gradients below ~1e-10).
 * ε₁² = 2⁻⁴⁶ with the default ε₁ is a normal float32, so the clamp means the same here as in Float64.
 */
export const adafactorKernel: TfjsKernel<AdafactorOptions> = {
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const { lr: gamma, beta2Decay: tau, d, weightDecay: lambda } = o;
    const [eps1, eps2] = o.eps;
    const size = theta.size;
    if (size === 0) return;
    const w = t ** tau; // 1 − β̂₂,t, the lerp weight
    const rho = Math.min(gamma, 1 / Math.sqrt(t));
    const alpha = tf.mul(pyMax(eps2, tf.div(norm2(theta), Math.sqrt(size))), rho);

    const th = lambda !== 0 ? tf.mul(theta, 1 - gamma * lambda) : theta;

    const g = direction(grad, o.maximize);
    const g2 = tf.square(g);
    const k = shape.length;
    let U: tf.Tensor;
    if (k >= 2) {
      const R = slots.rowVar!;
      const C = slots.colVar!;
      const n = shape[k - 2] as number;
      const m = shape[k - 1] as number;
      // Means as sum / count, the reference's order (tf.mean divides before summing).
      R.assign(lerpTorch(R, tf.div(tf.sum(g2, k - 1, true), m), w));
      C.assign(lerpTorch(C, tf.div(tf.sum(g2, k - 2, true), n), w));
      const rowMean = maximumTorch(tf.div(tf.sum(R, k - 2, true), n), eps1); // NaN stays NaN, as in torch's clamp_
      const ratio = tf.div(R, rowMean);
      if (o.factoredRoot === 'separate') {
        // rsqrt(R_i / mean R)·rsqrt(C_j), capped at 1/ε₁, as the reference (tf.rsqrt is not used: 1/√x is its order).
        const scale = minimumTorch(tf.mul(tf.div(1, tf.sqrt(ratio)), tf.div(1, tf.sqrt(C))), 1 / eps1);
        U = tf.mul(g, scale);
      } else {
        U = tf.div(g, tf.sqrt(maximumTorch(tf.mul(ratio, C), eps1 * eps1)));
      }
    } else {
      const V = slots.variance!;
      V.assign(lerpTorch(V, g2, w));
      U = tf.div(g, tf.sqrt(maximumTorch(V, eps1 * eps1)));
    }

    const denom = pyMax(1, tf.div(norm2(U), Math.sqrt(size) * d));
    const stepSize = tf.div(alpha, denom);
    theta.assign(tf.sub(th, tf.mul(stepSize, U)));
  },
};
