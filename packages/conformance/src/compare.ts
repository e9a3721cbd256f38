import { decodeNumber, type PortableState } from '@descent/core';
import { BoundBuilder, U32, type TensorBound, type Tracked } from './bounds/index.js';
import { ConformanceFailure, groupBoundsOf, scalarValues, slotValues, type Snapshot, type TrackedParam } from './harness.js';

/**
 * The comparison of a backend's result with the reference's under the bounds of the error model.
 *
 * @packageDocumentation
 */

/** What the comparisons of a property saw, for reports (and for the self-test that the reference is exact). */
export interface AgreementStats {
  /** Elements compared. */
  checked: number;
  /** Elements whose bound was unbounded (a division by a value within its budget of 0, and the like). */
  unbounded: number;
  /** Largest |x − ref| seen. */
  maxAbsError: number;
  /** Largest |x − ref| / (k·u·S + a) seen in element-wise compared tensors: how much of its bound a backend used. */
  maxRatio: number;
  /** Largest (normwise excess over the element-wise bound) / allowance seen in matrix updates. */
  maxNormRatio: number;
}

export function emptyStats(): AgreementStats {
  return { checked: 0, unbounded: 0, maxAbsError: 0, maxRatio: 0, maxNormRatio: 0 };
}

export function mergeStats(into: AgreementStats, from: AgreementStats): void {
  into.checked += from.checked;
  into.unbounded += from.unbounded;
  into.maxAbsError = Math.max(into.maxAbsError, from.maxAbsError);
  into.maxRatio = Math.max(into.maxRatio, from.maxRatio);
  into.maxNormRatio = Math.max(into.maxNormRatio, from.maxNormRatio);
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toPrecision(9) : String(x));

/**
 * Compares one tensor. Element-wise: |x − ref| ≤ k·u·e + a, NaN where the reference is NaN, the same infinity
 * where it is infinite (unless the model says float32 may be non-finite there). With a normwise allowance, the
 * excess over the element-wise bound may have a Frobenius norm up to `extra`.
 */
export function compareTensor(what: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: TensorBound, k: number, stats: AgreementStats): void {
  if (got.length !== want.length) throw new ConformanceFailure(`${what}: the backend has ${got.length} values, the reference ${want.length}`);
  let excess = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const x = got[i] as number;
    const r = want[i] as number;
    stats.checked++;
    const mayBeNonFinite = bound.n[i] === 1;
    if (Number.isNaN(r)) {
      // NaN where the reference has NaN; anything where the model says the NaN itself is a rounding accident (a
      // square root of a difference that Float64 rounded below 0).
      if (mayBeNonFinite) stats.unbounded++;
      else if (!Number.isNaN(x)) throw new ConformanceFailure(`${what}[${i}]: the backend has ${fmt(x)}, the reference NaN`);
      continue;
    }
    if (!Number.isFinite(r)) {
      if (x !== r && !mayBeNonFinite) throw new ConformanceFailure(`${what}[${i}]: the backend has ${fmt(x)}, the reference ${fmt(r)}`);
      continue;
    }
    if (!Number.isFinite(x)) {
      if (mayBeNonFinite) continue;
      throw new ConformanceFailure(`${what}[${i}]: the backend has ${fmt(x)}, the reference ${fmt(r)} (finite, and float32 cannot overflow or fail here)`);
    }
    const limit = k * U32 * (bound.e[i] as number) + (bound.a[i] as number);
    const d = Math.abs(x - r);
    if (!(limit < Infinity) || Number.isNaN(limit)) {
      stats.unbounded++;
      continue;
    }
    stats.maxAbsError = Math.max(stats.maxAbsError, d);
    if (bound.extra === 0) {
      if (limit > 0) stats.maxRatio = Math.max(stats.maxRatio, d / limit);
      else if (d > 0) stats.maxRatio = Infinity;
    }
    if (d > limit) {
      excess += (d - limit) ** 2;
      if (d - limit > worstExcess) {
        worstExcess = d - limit;
        worst = i;
      }
    }
  }
  if (bound.extra > 0 && bound.extra < Infinity) stats.maxNormRatio = Math.max(stats.maxNormRatio, Math.sqrt(excess) / bound.extra);
  if (worst < 0) return;
  const i = worst;
  const detail = `the backend has ${fmt(got[i] as number)}, the reference ${fmt(want[i] as number)}: |Δ| = ${Math.abs((got[i] as number) - (want[i] as number)).toExponential(3)} > bound ${(k * U32 * (bound.e[i] as number) + (bound.a[i] as number)).toExponential(3)} (k·u·S with k = ${k}, S = ${(bound.e[i] as number).toExponential(3)}${(bound.a[i] as number) > 0 ? `, plus ${(bound.a[i] as number).toExponential(3)} for ambiguous signs` : ''})`;
  if (bound.extra === 0) throw new ConformanceFailure(`${what}[${i}]: ${detail}`);
  if (!(bound.extra < Infinity)) {
    stats.unbounded++;
    return;
  }
  const norm = Math.sqrt(excess);
  if (norm > bound.extra) {
    throw new ConformanceFailure(
      `${what}: normwise excess ${norm.toExponential(3)} over the element-wise bound exceeds the allowance ${bound.extra.toExponential(3)}${bound.note ? ` (${bound.note})` : ''}; worst element [${i}]: ${detail}`,
    );
  }
}

/** Compares step counts and the optimizer-wide counters of two states. */
export function compareCounters(got: PortableState, want: PortableState): void {
  if (got.optimizer !== want.optimizer) throw new ConformanceFailure(`state is from optimizer ${JSON.stringify(got.optimizer)}, expected ${JSON.stringify(want.optimizer)}`);
  if (got.stepCount !== want.stepCount) throw new ConformanceFailure(`stepCount is ${got.stepCount}, the reference's ${want.stepCount}`);
  if (got.skippedSteps !== want.skippedSteps) throw new ConformanceFailure(`skippedSteps is ${got.skippedSteps}, the reference's ${want.skippedSteps}`);
  for (const [name, p] of Object.entries(want.params)) {
    const q = got.params[name];
    if (!q) throw new ConformanceFailure(`the backend's state has no parameter ${JSON.stringify(name)}`);
    if (q.step !== p.step) throw new ConformanceFailure(`parameter ${JSON.stringify(name)}: step is ${q.step}, the reference's ${p.step}`);
    const slots = Object.keys(p.slots).sort().join(', ');
    const gotSlots = Object.keys(q.slots).sort().join(', ');
    if (slots !== gotSlots) throw new ConformanceFailure(`parameter ${JSON.stringify(name)}: the backend's state has slots [${gotSlots}], the reference's [${slots}]`);
  }
  for (const name of Object.keys(got.params)) {
    if (!want.params[name]) throw new ConformanceFailure(`the backend's state has parameter ${JSON.stringify(name)}, which the reference does not`);
  }
}

/** Group scalar `key` of group `gi` of a state (phased steps: Prodigy's d, …), as a one-element array. */
function groupScalar(state: PortableState, gi: number, key: string, who: string): number[] {
  const v = state.groups?.[gi]?.scalars[key];
  if (v === undefined) throw new ConformanceFailure(`the ${who}'s state has no scalar "${key}" of group ${gi}`);
  return [decodeNumber(v) as number];
}

const single = (t: Tracked): TensorBound => {
  const b = new BoundBuilder(1);
  b.set(0, t);
  return b.build();
};

/** Compares a backend snapshot with a reference snapshot under tracked bounds of every parameter. */
export function compareSnapshots(got: Snapshot, want: Snapshot, bounds: ReadonlyMap<string, TrackedParam>, k: number, scalarRelative: number, stats: AgreementStats): void {
  compareCounters(got.state, want.state);
  for (const [name, b] of bounds) {
    const x = got.params.get(name);
    const r = want.params.get(name);
    if (!x) throw new ConformanceFailure(`the backend did not return parameter ${JSON.stringify(name)}`);
    compareTensor(`parameter "${name}"`, x, r as Float64Array, b.param, k, stats);
    for (const [slot, sb] of Object.entries(b.slots)) {
      compareTensor(`slot "${slot}" of "${name}"`, slotValues(got.state, name, slot), slotValues(want.state, name, slot), sb, k, stats);
    }
    const gs = scalarValues(got.state, name);
    const ws = scalarValues(want.state, name);
    for (const [key, w] of Object.entries(ws)) {
      const g = gs[key] as number;
      const same = Number.isNaN(w) ? Number.isNaN(g) : Math.abs(g - w) <= scalarRelative * Math.abs(w);
      if (!same) throw new ConformanceFailure(`scalar "${key}" of "${name}": the backend has ${fmt(g)}, the reference ${fmt(w)} (host scalars are Float64: relative tolerance ${scalarRelative})`);
    }
  }
  // Shared group scalars of a phased step: host Float64 computed from float32 device sums, under their bounds.
  for (const [gi, group] of (groupBoundsOf(bounds) ?? []).entries()) {
    for (const [key, t] of Object.entries(group)) {
      compareTensor(`scalar "${key}" of group ${gi}`, groupScalar(got.state, gi, key, 'backend'), groupScalar(want.state, gi, key, 'reference'), single(t), k, stats);
    }
  }
}

/**
 * The error model must mirror the reference: its Float64 values must be the reference's outputs (to a tiny
 * fraction of the float32 bound). If not, the kit is out of date with core, which is reported as such.
 */
export function checkModel(want: Snapshot, bounds: ReadonlyMap<string, TrackedParam>, k: number): void {
  const check = (what: string, model: TensorBound, ref: ArrayLike<number>): void => {
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i] as number;
      const v = model.v[i] as number;
      if (Number.isNaN(r) && Number.isNaN(v)) continue;
      if (r === v) continue;
      const tol = 1e-6 * (k * U32 * (model.e[i] as number) + (model.a[i] as number)) + 1e-12 * Math.abs(r) + 1e-300;
      if (!(tol < Infinity)) continue;
      if (!(Math.abs(r - v) <= tol) && model.extra === 0) {
        throw new ConformanceFailure(
          `conformance kit out of date: its error model of ${what}[${i}] computes ${v.toPrecision(17)} where the reference computes ${r.toPrecision(17)} (tolerance ${tol.toExponential(2)}); update packages/conformance/src/bounds/ to mirror the reference`,
        );
      }
    }
  };
  for (const [name, b] of bounds) {
    check(`parameter "${name}"`, b.param, want.params.get(name) as Float64Array);
    for (const [slot, sb] of Object.entries(b.slots)) check(`slot "${slot}" of "${name}"`, sb, slotValues(want.state, name, slot));
  }
  for (const [gi, group] of (groupBoundsOf(bounds) ?? []).entries()) {
    for (const [key, t] of Object.entries(group)) check(`scalar "${key}" of group ${gi}`, single(t), groupScalar(want.state, gi, key, 'reference'));
  }
}
