import * as tf from '@tensorflow/tfjs-core';
import { prodigyBeta3, type ProdigyOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';

/** Every `sliceP`-th element of the flattened tensor (`flatten()[::slice_p]`). */
function sliced(x: tf.Tensor, sliceP: number): tf.Tensor1D {
  const flat = tf.reshape(x, [-1]) as tf.Tensor1D;
  return sliceP === 1 ? flat : tf.stridedSlice(flat, [0], [flat.size], [sliceP]) as tf.Tensor1D;
}

/**
 * Prodigy on TF.js, the two passes of `core/src/optimizers/prodigy.ts` with its order of operations. The first
 * pass returns the raw reductions ⟨ĝ, x̂₀ − x̂⟩ and ‖s‖₁ (float32 sums on the device, read back by the backend); the
 * D estimate itself is Float64 on the host (core's `finish`); d, d·lr and the other factors are host scalars.
 */
export const prodigyKernel: TfjsKernel<ProdigyOptions> = {
  update() {
    throw new Error('prodigy: the step has two passes (accumulate, apply)');
  },
  accumulate({ options: o, param: x, grad, slots, step, group, constants }) {
    const [beta1, beta2] = o.betas;
    const beta3 = prodigyBeta3(o);
    const { weightDecay: decay, decouple, d0, sliceP } = o;
    const d = group.d as number;
    const dlr = constants.dlr as number;
    const p0 = slots.p0!;
    const s = slots.s!;
    if (step === 1) p0.assign(sliced(x, sliceP));
    if (!(o.lr > 0)) return tf.zeros([2]);
    const g = decay !== 0 && !decouple ? tf.add(grad, tf.mul(decay, x)) : grad;
    const gs = sliced(g, sliceP);
    const dot = tf.sum(tf.mul(gs, tf.sub(p0, sliced(x, sliceP))));
    const m = slots.expAvg;
    if (m && beta1 > 0) m.assign(tf.add(tf.mul(m, beta1), tf.mul(d * (1 - beta1), g)));
    const v = slots.expAvgSq!;
    v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.mul(d * d * (1 - beta2), g), g)));
    const sScale = o.safeguardWarmup ? (d / d0) * d : (d / d0) * dlr;
    s.assign(tf.add(tf.mul(s, beta3), tf.mul(sScale, gs)));
    return tf.stack([dot, tf.sum(tf.abs(s))]);
  },
  apply({ options: o, param: x, grad, slots, group, constants }) {
    const beta1 = o.betas[0];
    const { weightDecay: decay, decouple, eps } = o;
    const d = group.d as number;
    const dlr = constants.dlr as number;
    const denom = tf.add(tf.sqrt(slots.expAvgSq!), d * eps);
    const g = decay !== 0 && !decouple ? tf.add(grad, tf.mul(decay, x)) : grad;
    const decayed = decay !== 0 && decouple ? tf.add(x, tf.mul(-decay * dlr, x)) : x;
    const m = slots.expAvg;
    const next = m && beta1 > 0 ? tf.add(decayed, tf.mul(-dlr, tf.div(m, denom))) : tf.add(decayed, tf.mul(-dlr * d, tf.div(g, denom)));
    x.assign(next);
  },
};
