import type { LambOptions } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * LAMB (core/src/optimizers/lamb.ts), a per-tensor-norm update. Per element the moments and the Adam step
 * uᵢ = m/(√v + ε) + λθ are bounded as in Adam. The norms ‖θ‖ and ‖u‖ are reductions: a sum of n squares is
 * charged γ_{n−1}·Σ|xᵢ²| whatever the summation order (sequential, pairwise, GPU tree), so each norm carries a
 * relative budget of about n/2 (plus the budgets of its terms), the clamp min(‖θ‖, c) is 1-Lipschitz, and the
 * trust ratio ‖θ‖/‖u‖ adds both relative budgets. Every element of the update θ ← θ − η·r·uᵢ inherits the relative
 * budget of r: this is the per-tensor-norm rule, an element-wise bound whose scale grows with the tensor size.
 * The zero tests of the norms (ratio 1 when a norm is 0) are exact: a norm of float32 values is 0 only when every
 * value is 0, in float32 as in Float64 (inputs stay far from underflow).
 */
export const lambBound: BoundFunction<LambOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay: lambda, clampValue, adam, debias } = o;
  const size = param.v.length;
  const s = debias ? Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) : 1;
  const cStep = ar.input(lr * s);
  const cB1 = ar.input(beta1);
  const c1B1 = ar.input(1 - beta1);
  const cB2 = ar.input(beta2);
  const c1B2 = ar.input(1 - beta2);
  const cEps = ar.input(eps);
  const cLambda = ar.input(lambda);
  const cClamp = ar.input(clampValue);

  const thetaSq: Tracked[] = [];
  for (let i = 0; i < size; i++) thetaSq.push(ar.mul(at(param, i), at(param, i)));
  const weightNorm = ar.min(ar.max(ar.sqrt(ar.sum(thetaSq)), ar.exact(0)), cClamp);

  const m = new BoundBuilder(size);
  const v = new BoundBuilder(size);
  const u: Tracked[] = [];
  const uSq: Tracked[] = [];
  for (let i = 0; i < size; i++) {
    const gi = at(grad, i);
    const mi = ar.add(ar.mul(cB1, at(slots.expAvg!, i)), ar.mul(c1B1, gi));
    const vi = ar.add(ar.mul(cB2, at(slots.expAvgSq!, i)), ar.mul(ar.mul(c1B2, gi), gi));
    let ui = ar.div(mi, ar.add(ar.sqrt(vi), cEps));
    if (lambda !== 0) ui = ar.add(ui, ar.mul(cLambda, at(param, i)));
    m.set(i, mi);
    v.set(i, vi);
    u.push(ui);
    uSq.push(ar.mul(ui, ui));
  }
  const adamNorm = ar.sqrt(ar.sum(uSq));
  let trustRatio = weightNorm.v === 0 || adamNorm.v === 0 ? ar.exact(1) : ar.div(weightNorm, adamNorm);
  if (adam) trustRatio = ar.exact(1);

  const theta = new BoundBuilder(size);
  for (let i = 0; i < size; i++) theta.set(i, ar.sub(at(param, i), ar.mul(ar.mul(cStep, trustRatio), u[i]!)));
  return { param: theta.build(), slots: { expAvg: m.build(), expAvgSq: v.build() }, scalars: {} };
};
