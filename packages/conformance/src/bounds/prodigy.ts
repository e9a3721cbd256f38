import { prodigyBeta3, prodigyConstants, type ProdigyOptions } from '@descent/core';
import type { Arith, Tracked } from './arith.js';
import { BoundBuilder, at, type BoundResult, type TensorBound } from './tensor.js';

/** One parameter with a gradient, as the error model of a phased step sees it. */
export interface PhaseBoundParam<O> {
  readonly name: string;
  /** Index of its group. */
  readonly group: number;
  readonly options: O;
  readonly shape: readonly number[];
  /** Its step number, already incremented. */
  readonly step: number;
  readonly param: TensorBound;
  readonly grad: TensorBound;
  readonly slots: Readonly<Record<string, TensorBound>>;
  readonly scalars: Readonly<Record<string, number>>;
}

/** Everything a phased step (core's `GroupPhases`) reads: every group's options and shared scalars, every parameter. */
export interface PhaseBoundContext<O> {
  readonly ar: Arith;
  /** Groups in order; their shared scalars with the budgets they carry (exact after an import: host Float64). */
  readonly groups: ReadonlyArray<{ readonly options: O; readonly scalars: Readonly<Record<string, Tracked>> }>;
  /** The parameters with a gradient, in group order then parameter order (the order of both passes). */
  readonly params: ReadonlyArray<PhaseBoundParam<O>>;
}

/** Bounds of a phased step: every parameter's result, and every group's shared scalars after it. */
export interface PhaseBoundResult {
  readonly params: ReadonlyMap<string, BoundResult>;
  readonly groups: ReadonlyArray<Readonly<Record<string, Tracked>>>;
}

/** The error model of an optimizer whose step has phases: the whole step at once. */
export type PhaseBoundFunction<O = never> = (ctx: PhaseBoundContext<O>) => PhaseBoundResult;

/** Python's max(a, b) (a NaN b gives a), 1-Lipschitz. */
const pyMax = (ar: Arith, a: Tracked, b: Tracked): Tracked => (Number.isNaN(b.v) ? a : ar.max(a, b));
/** Python's min(a, b). */
const pyMin = (ar: Arith, a: Tracked, b: Tracked): Tracked => (Number.isNaN(b.v) ? a : ar.min(a, b));
const unbounded = (v: number): Tracked => ({ v, e: Infinity, a: 0, n: false });

/**
 * A Float64 host value v = c·Π tᵢ^{pᵢ} handed to a float32 kernel: the relative budgets of the tracked factors
 * (times their powers) plus one rounding to float32. Exact factors give the one rounding only.
 */
function hostProduct(v: number, factors: ReadonlyArray<readonly [Tracked, number]>): Tracked {
  let e = Math.abs(v);
  let a = 0;
  for (const [t, p] of factors) {
    if (t.e === 0 && t.a === 0) continue;
    if (t.v === 0) return unbounded(v);
    e += p * (t.e / Math.abs(t.v)) * Math.abs(v);
    a += p * (t.a / Math.abs(t.v)) * Math.abs(v);
  }
  return { v, e, a, n: false };
}

/**
 * Prodigy (core/src/optimizers/prodigy.ts), both passes and the host step between them. Per element the moments,
 * s and the step are bounded as in Adam. The two reductions ⟨ĝ, x̂₀ − x̂⟩ and ‖s‖₁ are float32 sums on the device
 * charged γ_{n−1}·Σ|terms| (any summation order); the host combination over parameters and the D estimate
 * d̂ = d_coef·r/D are Float64 on every backend but charged as if each operation rounded to float32 (a conservative
 * budget). max and min are 1-Lipschitz; the test `d = d₀` is exact on imported (exact) scalars, and unbounded
 * where d carries a budget and equals d₀ (drift: float32 may have left d₀ where Float64 stayed). The new d reaches
 * every element of the second pass through d·ε (and d·dlr with β₁ = 0), host products handed to the kernels as
 * float32 scalars.
 */
export const prodigyBound: PhaseBoundFunction<ProdigyOptions> = ({ ar, groups, params }) => {
  const first = groups[0]!;
  const o0 = first.options;
  const view = groups.map((g) => ({ options: g.options, scalars: Object.fromEntries(Object.entries(g.scalars).map(([k, t]) => [k, t.v])) }));
  const { lr, dlr } = prodigyConstants(view, 'prodigy bound');
  const dPrev = first.scalars.d!;
  const d = dPrev.v;
  // Host products of d (Float64), each handed to float32 kernels rounded once; d may carry a budget (drift).
  const dlrT = hostProduct(dlr, [[dPrev, 1]]);
  const out = new Map<string, BoundResult>();
  const dots: Tracked[] = [];
  const l1s: Tracked[] = [];
  const firstPass = new Map<string, Record<string, TensorBound>>();
  for (const p of params) {
    const o = p.options;
    const [beta1, beta2] = o.betas;
    const size = p.param.v.length;
    const { weightDecay: decay, decouple, d0, sliceP } = o;
    const slots: Record<string, TensorBound> = { ...p.slots };
    const mLen = slots.p0!.v.length;
    if (p.step === 1) {
      const p0 = new BoundBuilder(mLen);
      for (let j = 0; j < mLen; j++) p0.set(j, at(p.param, j * sliceP));
      slots.p0 = p0.build();
    }
    if (!(o.lr > 0)) {
      firstPass.set(p.name, slots);
      continue;
    }
    const coupled = decay !== 0 && !decouple;
    const cDecay = ar.input(decay);
    const gOf = (i: number): Tracked => (coupled ? ar.add(at(p.grad, i), ar.mul(cDecay, at(p.param, i))) : at(p.grad, i));
    const terms: Tracked[] = [];
    for (let j = 0; j < mLen; j++) terms.push(ar.mul(gOf(j * sliceP), ar.sub(at(slots.p0!, j), at(p.param, j * sliceP))));
    dots.push(ar.sum(terms));
    const cB1 = ar.input(beta1);
    const cMScale = hostProduct(d * (1 - beta1), [[dPrev, 1]]);
    const cB2 = ar.input(beta2);
    const cVScale = hostProduct(d * d * (1 - beta2), [[dPrev, 2]]);
    const m = slots.expAvg ? new BoundBuilder(size) : undefined;
    const v = new BoundBuilder(size);
    for (let i = 0; i < size; i++) {
      const g = gOf(i);
      if (m) m.set(i, ar.add(ar.mul(at(slots.expAvg!, i), cB1), ar.mul(cMScale, g)));
      v.set(i, ar.add(ar.mul(at(slots.expAvgSq!, i), cB2), ar.mul(ar.mul(cVScale, g), g)));
    }
    if (m) slots.expAvg = m.build();
    slots.expAvgSq = v.build();
    const cB3 = ar.input(prodigyBeta3(o));
    const cSScale = hostProduct(o.safeguardWarmup ? (d / d0) * d : (d / d0) * dlr, [[dPrev, 2]]);
    const s = new BoundBuilder(mLen);
    const abs: Tracked[] = [];
    for (let j = 0; j < mLen; j++) {
      const sj = ar.add(ar.mul(at(p.slots.s!, j), cB3), ar.mul(cSScale, gOf(j * sliceP)));
      s.set(j, sj);
      abs.push(ar.abs(sj));
    }
    slots.s = s.build();
    l1s.push(ar.sum(abs));
    firstPass.set(p.name, slots);
  }

  // Between the passes (host): the D estimate.
  const scale = hostProduct((d / o0.d0) * dlr, [[dPrev, 2]]);
  const delta = ar.sum(dots.map((x) => ar.mul(scale, x)));
  const dDenom = ar.sum(l1s);
  let next: Array<Record<string, Tracked>> = groups.map((g) => ({ ...g.scalars }));
  const move = dDenom.v !== 0;
  if (move) {
    const dNumerator = ar.add(ar.mul(first.scalars.dNumerator!, ar.exact(prodigyBeta3(o0))), delta);
    let dNew = dPrev;
    let dMax = first.scalars.dMax!;
    if (lr > 0) {
      const dHat = ar.div(ar.mul(ar.exact(o0.dCoef), dNumerator), dDenom);
      // The test d = d₀ is exact on exact scalars; with a budget on d, float32 may be on the other side of it.
      const ambiguous = ar.radius(dPrev) > 0 && Math.abs(d - o0.d0) <= ar.radius(dPrev);
      if (d === o0.d0) dNew = pyMax(ar, dNew, dHat);
      if (ambiguous) dNew = unbounded(dNew.v);
      dMax = pyMax(ar, dMax, dHat);
      // min(d_max, d·growthRate): with growthRate null (∞) that is d_max.
      dNew = o0.growthRate === null ? dMax : pyMin(ar, dMax, ar.mul(dNew, ar.exact(o0.growthRate)));
    }
    next = groups.map((g) => ({ d: dNew, dMax, dNumerator, k: ar.exact(g.scalars.k!.v + 1) }));
  }

  // Second pass.
  const dT = next[0]!.d!;
  for (const p of params) {
    const o = p.options;
    const slots = firstPass.get(p.name)!;
    const size = p.param.v.length;
    if (!move) {
      out.set(p.name, { param: p.param, slots, scalars: p.scalars });
      continue;
    }
    const { weightDecay: decay, decouple, eps } = o;
    const cDEps = hostProduct(dT.v * eps, [[dT, 1]]);
    const cDecayScale = hostProduct(-decay * dlr, [[dlrT, 1]]);
    const cMinusDlr = hostProduct(-dlr, [[dlrT, 1]]);
    const cMinusDlrD = hostProduct(-dlr * dT.v, [[dlrT, 1], [dT, 1]]);
    const cDecay = ar.input(decay);
    const theta = new BoundBuilder(size);
    for (let i = 0; i < size; i++) {
      const denom = ar.add(ar.sqrt(at(slots.expAvgSq!, i)), cDEps);
      let x = at(p.param, i);
      const g = decay !== 0 && !decouple ? ar.add(at(p.grad, i), ar.mul(cDecay, x)) : at(p.grad, i);
      if (decay !== 0 && decouple) x = ar.add(x, ar.mul(cDecayScale, x));
      x = slots.expAvg ? ar.add(x, ar.mul(cMinusDlr, ar.div(at(slots.expAvg, i), denom))) : ar.add(x, ar.mul(cMinusDlrD, ar.div(g, denom)));
      theta.set(i, x);
    }
    out.set(p.name, { param: theta.build(), slots, scalars: p.scalars });
  }
  return { params: out, groups: next };
};
