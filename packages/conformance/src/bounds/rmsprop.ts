import type { RmspropOptions } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction } from './tensor.js';

/**
 * RMSprop (core/src/optimizers/rmsprop.ts): s ← αs + (1−α)g², optionally ḡ ← αḡ + (1−α)g and the centered
 * √(s − ḡ²), then + ε, then θ ← θ − ηg/avg or the momentum buffer b ← μb + g/avg, θ ← θ − ηb.
 *
 * The centered difference s − ḡ² cancels: its budget is that of s plus that of ḡ² (not relative to the
 * difference), and where the difference is within its budget of 0 float32 may return NaN from the square root
 * (PyTorch's float32 RMSprop does the same); such elements are marked as possibly non-finite.
 */
export const rmspropBound: BoundFunction<RmspropOptions> = ({ ar, options: o, param, grad, slots }) => {
  const { lr, alpha, eps, weightDecay: lambda, momentum: mu, maximize } = o;
  const size = param.v.length;
  const gBar = slots.gradAvg;
  const b = slots.momentumBuffer;
  const cAlpha = ar.input(alpha);
  const c1Alpha = ar.input(1 - alpha);
  const cEps = ar.input(eps);
  const cLambda = ar.input(lambda);
  const cMu = ar.input(mu);
  const cLr = ar.input(lr);
  const theta = new BoundBuilder(size);
  const sq = new BoundBuilder(size);
  const ga = new BoundBuilder(size);
  const buf = new BoundBuilder(size);
  for (let i = 0; i < size; i++) {
    const th = at(param, i);
    let g = at(grad, i);
    if (maximize) g = ar.neg(g);
    if (lambda !== 0) g = ar.add(g, ar.mul(cLambda, th));
    const si = ar.add(ar.mul(cAlpha, at(slots.squareAvg!, i)), ar.mul(ar.mul(c1Alpha, g), g));
    sq.set(i, si);
    let avg: Tracked;
    if (gBar) {
      const gi = ar.add(ar.mul(cAlpha, at(gBar, i)), ar.mul(c1Alpha, g));
      ga.set(i, gi);
      avg = ar.sqrt(ar.sub(si, ar.mul(gi, gi)));
    } else {
      avg = ar.sqrt(si);
    }
    avg = ar.add(avg, cEps);
    if (b) {
      const bi = ar.add(ar.mul(cMu, at(b, i)), ar.div(g, avg));
      buf.set(i, bi);
      theta.set(i, ar.sub(th, ar.mul(cLr, bi)));
    } else {
      theta.set(i, ar.sub(th, ar.div(ar.mul(cLr, g), avg)));
    }
  }
  const out: Record<string, ReturnType<BoundBuilder['build']>> = { squareAvg: sq.build() };
  if (b) out.momentumBuffer = buf.build();
  if (gBar) out.gradAvg = ga.build();
  return { param: theta.build(), slots: out, scalars: {} };
};
