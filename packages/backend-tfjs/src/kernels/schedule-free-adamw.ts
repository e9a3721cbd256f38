import * as tf from '@tensorflow/tfjs-core';
import type { ScheduleFreeAdamwOptions } from '@descent/core';
import { powInt, scheduleFreeAverageWeight, scheduleFreeWarmup } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';

/**
 * Schedule-Free AdamW on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/schedule-free-adamw.ts`. The lr γ·s_t·√(1 − β₂ᵗ), the average's weight c_{t+1} and the
 * scalars `lrMax`/`weightSum` are Float64 host values; on a parameter's first step z and x start from the parameter.
 */
export const scheduleFreeAdamwKernel: TfjsKernel<ScheduleFreeAdamwOptions> = {
  update({ options: o, param: y, grad: g, slots, scalars, step: t }) {
    const [beta1, beta2] = o.betas;
    const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps) * Math.sqrt(1 - powInt(beta2, t));
    const ckp1 = scheduleFreeAverageWeight(scalars, lr, t, o.r, o.weightLrPower);
    const zv = slots.z!;
    const xv = slots.x!;
    const v = slots.expAvgSq!;
    let z: tf.Tensor = t === 1 ? y : zv;
    const x0: tf.Tensor = t === 1 ? y : xv;
    if (o.weightDecay !== 0) z = tf.sub(z, tf.mul(lr * o.weightDecay, o.decayAtZ ? z : y));
    const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.mul(1 - beta2, g), g));
    const denom = tf.add(tf.sqrt(vNew), o.eps);
    z = tf.sub(z, tf.div(tf.mul(lr, g), denom));
    const x = tf.add(tf.mul(x0, 1 - ckp1), tf.mul(ckp1, z));
    const yNew = tf.add(tf.mul(x, beta1), tf.mul(1 - beta1, z));
    v.assign(vNew);
    zv.assign(z);
    xv.assign(x);
    y.assign(yNew);
  },
};
