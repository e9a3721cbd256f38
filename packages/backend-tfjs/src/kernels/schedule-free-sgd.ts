import * as tf from '@tensorflow/tfjs-core';
import type { ScheduleFreeSgdOptions } from '@descent/core';
import { scheduleFreeAverageWeight, scheduleFreeWarmup } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';

/**
 * Schedule-Free SGD on TF.js; the update rule and its order of operations are those of
 * `core/src/optimizers/schedule-free-sgd.ts`. The warmed-up lr, the average's weight c_{t+1} and the scalars
 * `lrMax`/`weightSum` are Float64 host values; on a parameter's first step z and x start from the parameter.
 */
export const scheduleFreeSgdKernel: TfjsKernel<ScheduleFreeSgdOptions> = {
  update({ options: o, param: y, grad, slots, scalars, step: t }) {
    const lr = o.lr * scheduleFreeWarmup(t, o.warmupSteps);
    const ckp1 = scheduleFreeAverageWeight(scalars, lr, t, o.r, o.weightLrPower);
    const zv = slots.z!;
    const xv = slots.x!;
    const z0: tf.Tensor = t === 1 ? y : zv;
    const x0: tf.Tensor = t === 1 ? y : xv;
    const g = o.weightDecay !== 0 ? tf.add(grad, tf.mul(o.weightDecay, y)) : grad;
    const z = tf.sub(z0, tf.mul(lr, g));
    const x = tf.add(tf.mul(x0, 1 - ckp1), tf.mul(ckp1, z));
    const yNew = tf.add(tf.mul(x, o.momentum), tf.mul(1 - o.momentum, z));
    zv.assign(z);
    xv.assign(x);
    y.assign(yNew);
  },
};
