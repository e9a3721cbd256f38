import * as tf from '@tensorflow/tfjs-core';
import type { RpropOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { direction, maximumTorch, minimumTorch, select, signTorch } from './common.js';

/**
 * Rprop (iRprop⁻) on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/rprop.ts`. The sign decisions use `tf.sign` (sign(0) = 0, as `torch.sign`) on g·p, which
 * is exact in float32 for gradients that are neither tiny nor huge: p is a previous gradient (or 0) stored
 * unchanged, so only an underflow of g·p to 0 (|g·p| < 2⁻¹⁴⁹) can decide differently from the Float64
 * reference. A NaN g·p gives the factor NaN, as in the reference and PyTorch.
 */
export const rpropKernel: TfjsKernel<RpropOptions> = {
  update({ options: o, param: theta, grad, slots }) {
    const [etaMinus, etaPlus] = o.etas;
    const [stepSizeMin, stepSizeMax] = o.stepSizes;
    const prev = slots.prev!;
    const delta = slots.stepSize!;
    const g = direction(grad, o.maximize);
    const s = signTorch(tf.mul(g, prev));
    const negative = tf.less(s, 0);
    const factor = select(tf.isNaN(s), s, select(tf.greater(s, 0), etaPlus, select(negative, etaMinus, 1)));
    delta.assign(minimumTorch(maximumTorch(tf.mul(delta, factor), stepSizeMin), stepSizeMax));
    const gKept = select(negative, tf.zerosLike(g), g);
    theta.assign(tf.sub(theta, tf.mul(signTorch(gKept), delta)));
    prev.assign(gKept);
  },
};
