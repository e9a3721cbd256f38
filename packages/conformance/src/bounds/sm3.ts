import type { Sm3Options } from '@descent/core';
import type { Tracked } from './arith.js';
import { BoundBuilder, at, type BoundFunction, type TensorBound } from './tensor.js';

/**
 * SM3 (core/src/optimizers/sm3.ts, pytorch_optimizer's): ν = min of the covering accumulators (exact, carries
 * their budgets), β·ν + ((1 − β)·g)·g (three roundings), each accumulator the max of ν over its slice (exact, with
 * the old accumulator when β > 0), u = (1/√(ν + ε))·g, m = μ·m + (1 − μ)·u, θ + (−η)·u; one float32 rounding per
 * operation, host scalars 1 − β, 1 − μ and −η rounded to float32 once.
 */
export const sm3Bound: BoundFunction<Sm3Options> = ({ ar, options: o, shape, param, grad, slots }) => {
  const { lr, momentum, beta, eps } = o;
  const size = param.v.length;
  if (size === 0) return { param, slots: { ...slots }, scalars: {} };
  const r = shape.length;
  const accIn: TensorBound[] = (r === 0 ? [0] : shape.map((_, i) => i)).map((i) => slots[`accumulator${i}`]!);
  const strides = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  const index = (k: number, i: number): number => (r === 0 ? 0 : Math.floor(k / (strides[i] as number)) % (shape[i] as number));
  const cBeta = ar.input(beta);
  const cOneMinusBeta = ar.input(1 - beta);
  const cEps = ar.input(eps);
  const cMu = ar.input(momentum);
  const cOneMinusMu = ar.input(1 - momentum);
  const cNegLr = ar.input(-lr);
  const nu: Tracked[] = [];
  for (let k = 0; k < size; k++) {
    let v = at(accIn[0]!, index(k, 0));
    for (let i = 1; i < r; i++) v = ar.min(v, at(accIn[i]!, index(k, i)));
    if (beta > 0) v = ar.mul(v, cBeta);
    const g = at(grad, k);
    nu.push(ar.add(v, ar.mul(ar.mul(cOneMinusBeta, g), g)));
  }
  // A 0-D parameter's accumulator is never written (upstream's loop over dimensions is empty).
  const outSlots: Record<string, TensorBound> = r === 0 ? { accumulator0: accIn[0]! } : {};
  for (let i = 0; i < r; i++) {
    const n = shape[i] as number;
    const maxima: (Tracked | undefined)[] = new Array<Tracked | undefined>(n).fill(undefined);
    for (let k = 0; k < size; k++) {
      const j = index(k, i);
      const cur = maxima[j];
      maxima[j] = cur === undefined ? nu[k]! : ar.max(cur, nu[k]!);
    }
    const b = new BoundBuilder(n);
    for (let j = 0; j < n; j++) b.set(j, beta > 0 ? ar.max(at(accIn[i]!, j), maxima[j]!) : maxima[j]!);
    outSlots[`accumulator${i}`] = b.build();
  }
  const theta = new BoundBuilder(size);
  const m = new BoundBuilder(size);
  for (let k = 0; k < size; k++) {
    const g = at(grad, k);
    let u = ar.mul(ar.div(ar.exact(1), ar.sqrt(ar.add(nu[k]!, cEps))), g);
    if (momentum > 0) {
      u = ar.add(ar.mul(at(slots.momentumBuffer!, k), cMu), ar.mul(cOneMinusMu, u));
      m.set(k, u);
    }
    theta.set(k, ar.add(at(param, k), ar.mul(cNegLr, u)));
  }
  outSlots.momentumBuffer = momentum > 0 ? m.build() : slots.momentumBuffer!; // unchanged without momentum
  return { param: theta.build(), slots: outSlots, scalars: {} };
};
