import { muonRoute, type MuonWithAuxAdamOptions } from '@descent/core';
import { elementwise, type GpujsKernel, type GpujsKernelContext } from '../kernel.js';
import { lerpSource, muonApply, muonUpdateDevice } from './muon.js';

/**
 * Muon with auxiliary Adam on gpu.js, following `core/src/optimizers/muon-with-aux-adam.ts`: Muon's half as
 * `muon.ts`, Adam's half as Keller Jordan's `adam_update` (moving averages in `lerp` form, bias corrections and the
 * decoupled decay as Float64 host scalars).
 */
export const muonWithAuxAdamKernel: GpujsKernel<MuonWithAuxAdamOptions> = {
  *update(ctx) {
    const o = ctx.options;
    if (muonRoute(o.use, ctx.shape) === 'muon') {
      const { orthogonal, scale } = yield* muonUpdateDevice(ctx as GpujsKernelContext<unknown>, o);
      muonApply(ctx as GpujsKernelContext<unknown>, orthogonal, o.lr, o.weightDecay, scale);
      return;
    }
    const [beta1, beta2] = o.adamBetas;
    const t = ctx.step;
    const w1 = 1 - beta1;
    const w2 = 1 - beta2;
    const values = {
      w1,
      w1Complement: 1 - w1,
      w2,
      w2Complement: 1 - w2,
      biasCorrection1: 1 - beta1 ** t,
      biasCorrection2: 1 - beta2 ** t,
      eps: o.adamEps,
      decay: 1 - o.adamLr * o.adamWeightDecay,
      lr: o.adamLr,
    };
    ctx.run(
      elementwise(ctx.size, {
        reads: { theta: 'param', g: 'grad', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
        scalars: Object.keys(values),
        body: `expAvg = ${lerpSource('expAvg', 'g', w1, 'w1', 'w1Complement')};
const gg = g * g;
expAvgSq = ${lerpSource('expAvgSq', 'gg', w2, 'w2', 'w2Complement')};
const update = expAvg / biasCorrection1 / (Math.sqrt(expAvgSq / biasCorrection2) + eps);
theta = theta * decay - lr * update;`,
        writes: { param: 'theta', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
      }),
      values,
    );
  },
};
