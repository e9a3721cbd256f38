import type { AdamOptions, AdamwOptions } from '@descent/core';
import { BoundBuilder, at, type BoundContext, type BoundResult } from './tensor.js';

/**
 * Adam and AdamW (core/src/optimizers/adam.ts, adamw.ts), which differ only in the weight decay.
 *
 * S(m) = |β₁m| + |(1−β₁)g| + |m′|, S(v) = |β₂v| + |(1−β₂)g·g| (+ the rounding of (1−β₂)g) + |v′|; v̂ = max(v̂, v) is
 * 1-Lipschitz and carries the larger budget (AMSGrad's maximum needs no band: whichever side float32 picks is
 * within the budget of both). The denominator √v̂/√(1−β₂ᵗ) + ε carries half the relative budget of v̂ plus its
 * roundings, and the quotient adds the relative budgets of m and the denominator: S(θ) = |θ| + |Δ|·(relative
 * budget of Δ) + |θ′|.
 */
export function adamFamilyBound(ctx: BoundContext<AdamOptions | AdamwOptions>, decoupled: boolean): BoundResult {
  const { ar, options: o, param, grad, slots, step: t } = ctx;
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay: lambda, maximize } = o;
  const size = param.v.length;
  const vMax = slots.maxExpAvgSq;
  const biasCorrection1 = 1 - beta1 ** t;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cLambda = ar.input(lambda);
  const cShrink = ar.input(1 - lr * lambda);
  const cBc2 = ar.input(biasCorrection2Sqrt);
  const cEps = ar.input(eps);
  const cStep = ar.input(lr / biasCorrection1);
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  const vm = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    let th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (decoupled) th = ar.mul(th, cShrink);
    else if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, th));
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, g));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, g), g));
    let vHat = vi;
    if (vMax) {
      vHat = ar.max(at(vMax, i), vi);
      vm.set(i, vHat);
    }
    const denom = ar.add(ar.div(ar.sqrt(vHat), cBc2), cEps);
    theta.set(i, ar.sub(th, ar.div(ar.mul(cStep, mi), denom)));
    m.set(i, mi);
    v.set(i, vi);
  }
  const out: Record<string, ReturnType<BoundBuilder['build']>> = { expAvg: m.build(), expAvgSq: v.build() };
  if (vMax) out.maxExpAvgSq = vm.build();
  return { param: theta.build(), slots: out, scalars: {} };
}

export const adamBound = (ctx: BoundContext<AdamOptions>): BoundResult => adamFamilyBound(ctx, false);
