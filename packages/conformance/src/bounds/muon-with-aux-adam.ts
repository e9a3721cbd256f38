import { muonRoute, type MuonWithAuxAdamOptions } from '@descent/core';
import { muonBoundPart } from './muon.js';
import { BoundBuilder, at, type BoundContext, type BoundResult } from './tensor.js';

/**
 * Muon with auxiliary Adam (core/src/optimizers/muon-with-aux-adam.ts): parameters routed to Muon get Muon's
 * bounds; the others get the Adam bounds of this optimizer's own formulation (torch's lerp for the moments,
 * m/(1−β₁ᵗ)/(√(v/(1−β₂ᵗ)) + ε), decoupled decay θ(1 − η_Aλ_A)).
 */
export const muonWithAuxAdamBound = (ctx: BoundContext<MuonWithAuxAdamOptions>): BoundResult => {
  const { ar, options: o, shape, param, grad, slots, step: t } = ctx;
  if (muonRoute(o.use, shape) === 'muon') return muonBoundPart(ctx, ar);
  const [beta1, beta2] = o.adamBetas;
  const { adamLr: lr, adamEps: eps, adamWeightDecay: lambda } = o;
  const size = param.v.length;
  const cBc1 = ar.input(1 - beta1 ** t);
  const cBc2 = ar.input(1 - beta2 ** t);
  const cDecay = ar.input(1 - lr * lambda);
  const cEps = ar.input(eps);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const g = at(grad, i);
    const mi = ar.lerp(at(slots.expAvg!, i), g, 1 - beta1);
    const vi = ar.lerp(at(slots.expAvgSq!, i), ar.mul(g, g), 1 - beta2);
    const update = ar.div(ar.div(mi, cBc1), ar.add(ar.sqrt(ar.div(vi, cBc2)), cEps));
    theta.set(i, ar.sub(ar.mul(at(param, i), cDecay), ar.mul(cLr, update)));
    m.set(i, mi);
    v.set(i, vi);
  }
  return { param: theta.build(param.extra), slots: { expAvg: m.build(), expAvgSq: v.build() }, scalars: {} };
};
