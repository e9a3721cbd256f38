import type { LarsOptions } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * LARS (core/src/optimizers/lars.ts), a per-tensor-norm update: the local rate r = η‖θ‖/(‖g‖ + λ‖θ‖ + ε) is
 * built from two reductions, each charged γ_{n−1} times the sum of its absolute terms (any summation order), so
 * r carries a relative budget of about n plus its roundings; LARC's min(r/γ, 1) is 1-Lipschitz. Every element of
 * d = (g + λθ)·r and of the momentum buffer and θ inherits that relative budget (the per-tensor-norm rule).
 * The tests ‖θ‖ > 0 and ‖g‖ > 0 are exact for float32 inputs far from underflow.
 */
export const larsBound: BoundFunction<LarsOptions> = ({ ar, options: o, param, grad, slots, step: t }) => {
  const { lr, momentum: mu, dampening: tau, weightDecay: lambda, nesterov, trustCoefficient: eta, eps, trustClip, alwaysAdapt } = o;
  const size = param.v.length;
  const b = slots.momentumBuffer;
  const adapt = lambda !== 0 || alwaysAdapt;
  const cLambda = ar.input(lambda);
  const cMu = ar.input(mu);
  const cDamp = ar.input(1 - tau);
  const cLr = ar.input(lr);

  let r = ar.exact(1);
  if (adapt) {
    const thetaSq: Tracked[] = [];
    const gSq: Tracked[] = [];
    for (let i = 0; i < size; i++) {
      thetaSq.push(ar.mul(at(param, i), at(param, i)));
      const g = at(grad, i);
      gSq.push(ar.mul(g, g));
    }
    const wNorm = ar.sqrt(ar.sum(thetaSq));
    const gNorm = ar.sqrt(ar.sum(gSq));
    if (wNorm.v > 0 && gNorm.v > 0) r = ar.div(ar.mul(ar.input(eta), wNorm), ar.add(ar.add(gNorm, ar.mul(wNorm, cLambda)), ar.input(eps)));
    if (trustClip) r = ar.min(ar.div(r, cLr), ar.exact(1));
  }

  const theta = new BoundBuilder(size);
  const buf = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    const g = at(grad, i);
    const d = adapt ? ar.mul(ar.add(g, ar.mul(cLambda, th)), r) : g;
    let delta = d;
    if (b) {
      const bi = t === 1 ? d : ar.add(ar.mul(cMu, at(b, i)), ar.mul(cDamp, d));
      buf.set(i, bi);
      delta = nesterov ? ar.add(d, ar.mul(cMu, bi)) : bi;
    }
    theta.set(i, ar.sub(th, ar.mul(cLr, delta)));
  }
  return { param: theta.build(), slots: b ? { momentumBuffer: buf.build() } : {}, scalars: {} };
};
