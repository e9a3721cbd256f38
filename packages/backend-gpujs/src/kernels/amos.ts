import { amosScale, lerpTorch, powInt, type AmosOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';
import { lerpSource } from './muon.js';

/**
 * Amos on gpu.js, following `core/src/optimizers/amos.ts` (pytorch_optimizer's `Amos._step_per_param`). mean(g²)
 * comes from the device reduction (float32 partial sums added in Float64); the per-tensor scalars v, r̂, the
 * decay factors, γ and the accumulated decay b (1-element slots, read back) are computed on the host in Float64,
 * in the reference's order, and written back; one elementwise program then forms
 * u = ((θ·(γ − λ)/2) + η̃·(√r̂·g))·d_t, the optional momentum and θ − u.
 */
export const amosKernel: GpujsKernel<AmosOptions> = {
  *update(ctx) {
    const { options: o, shape, size, step: t } = ctx;
    if (size === 0) return;
    const { lr, beta, momentum, extraL2, cCoef, dCoef, eps } = o;
    const initLr = lr * amosScale(shape);
    const g2 = (yield* ctx.sumSquares('grad')) / size;
    const v = lerpTorch((yield* ctx.read('expAvgSq'))[0] as number, g2, 1 - beta);
    const decay = (yield* ctx.read('decay'))[0] as number;
    const rVHat = (1 - powInt(beta, t)) / (v + eps);
    const decayFactorC = 1 / Math.sqrt(1 + cCoef * Math.sqrt(lr) * decay);
    const decayFactorD = 1 / (1 + dCoef * Math.sqrt(initLr) * decay);
    const gamma = decayFactorC * (lr * lr) * rVHat * g2;
    ctx.write('expAvgSq', [v]);
    ctx.write('decay', [decay * (1 + gamma) + gamma]);
    const values: Record<string, number> = { shrink: (gamma - extraL2) / 2, initLr, rootR: Math.sqrt(rVHat), decayFactorD };
    const reads: Record<string, string> = { theta: 'param', g: 'grad' };
    const lines = [`${o.maximize ? 'g = -g;\n' : ''}let u = (theta * shrink + initLr * (rootR * g)) * decayFactorD;`];
    const writes: Record<string, string> = { param: 'theta' };
    if (momentum > 0) {
      Object.assign(values, { w: 1 - momentum, wComplement: 1 - (1 - momentum) });
      reads.expAvg = 'expAvg';
      lines.push(`expAvg = ${lerpSource('expAvg', 'u', 1 - momentum, 'w', 'wComplement')};`, 'u = expAvg;');
      writes.expAvg = 'expAvg';
    }
    lines.push('theta = theta - u;');
    ctx.run(elementwise(size, { reads, scalars: Object.keys(values), body: lines.join('\n'), writes }), values);
  },
};
