import fc from 'fast-check';
import { decodeNumber, type PortableState } from '@descent/core';
import { problemArbitrary, describeProblem, type Problem } from '../arbitraries.js';
import { Arith } from '../bounds/index.js';
import { checkModel, compareCounters, compareSnapshots } from '../compare.js';
import {
  backendFor,
  backendSnapshot,
  checkOutcome,
  ConformanceFailure,
  gradientsAt,
  referenceFor,
  referenceGradients,
  referenceSnapshot,
  shapesOf,
  stepBounds,
  trackedFromSnapshot,
  using,
  type Snapshot,
} from '../harness.js';
import type { PropertyDefinition } from './types.js';

interface TransferCase {
  readonly problem: Problem;
  /** Reference steps before the hand-over. */
  readonly before: number;
}

/** Each imported value must come back as itself, or rounded to float32 (a float32 backend stores it so). */
function checkImported(got: PortableState, imported: PortableState): void {
  compareCounters(got, imported);
  for (const [name, p] of Object.entries(imported.params)) {
    const q = got.params[name]!;
    for (const [slot, s] of Object.entries(p.slots)) {
      const back = q.slots[slot]!.data;
      s.data.forEach((x, i) => {
        const want = decodeNumber(x) as number;
        const have = decodeNumber(back[i]) as number;
        if (!(Object.is(have, want) || Object.is(have, Math.fround(want)) || (Number.isNaN(have) && Number.isNaN(want)))) {
          throw new ConformanceFailure(`import then export changed slot "${slot}" of "${name}" at [${i}]: imported ${want}, exported ${have} (expected it, or it rounded to float32)`);
        }
      });
    }
    for (const [key, x] of Object.entries(p.scalars)) {
      if (!Object.is(decodeNumber(q.scalars[key]), decodeNumber(x))) {
        throw new ConformanceFailure(`import then export changed scalar "${key}" of "${name}": imported ${String(x)}, exported ${String(q.scalars[key])} (host scalars are Float64)`);
      }
    }
  }
}

function sameSnapshot(a: Snapshot, b: Snapshot, what: string): void {
  for (const [name, x] of a.params) {
    const y = b.params.get(name)!;
    x.forEach((v, i) => {
      if (!Object.is(v, y[i])) throw new ConformanceFailure(`${what}: parameter "${name}"[${i}] is ${v} in one and ${y[i]} in the other`);
    });
  }
  const sa = JSON.stringify(a.state);
  const sb = JSON.stringify(b.state);
  if (sa !== sb) throw new ConformanceFailure(`${what}: the states differ:\n    ${sa}\n    ${sb}`);
}

/**
 * Portable state, both ways. (1) Reference → backend: Float64 state exported by the reference (after a few
 * steps) is imported by the backend (through JSON), exports back as itself rounded to float32, and the next step
 * agrees with the reference continuing on its own, under the one-step bound with inputs rounded once. (2) Backend
 * → reference: the backend's state imported into a fresh reference continues like the backend (one-step bound).
 * (3) Backend → backend: a fresh backend optimizer resumed from the exported state continues bit for bit like the
 * one that exported it (configurable: `tolerance.exactResume`).
 */
export const stateTransferProperty: PropertyDefinition<TransferCase> = {
  name: 'state transfer',
  summary: 'state exported by the reference imports into the backend and vice versa, and continuing equals never stopping',
  arbitrary: (optimizer, ctx) => fc.record({ problem: problemArbitrary(optimizer, { missing: fc.constant(0), transforms: ctx.transforms, wrappers: true }), before: fc.integer({ min: 1, max: 4 }) }),
  describe: (c) => `${describeProblem(c.problem)}\n  ${c.before} reference steps before the hand-over`,
  async check(ctx, { problem, before }) {
    const shapes = shapesOf(problem);
    const ar = new Arith(ctx.tolerance.k);
    const { k, scalarRelative, matrixFactor } = ctx.tolerance;
    const initial = new Map(problem.params.map((p) => [p.name, Float64Array.from(p.data)] as const));
    const ref = referenceFor(problem.spec, problem.groups, initial, shapes);
    for (let s = 0; s < before; s++) ref.step(referenceGradients(gradientsAt(problem, s)));

    // (1) reference → backend, unrounded.
    const handed = referenceSnapshot(ref);
    const opt = await backendFor(ctx.backend, problem.spec, problem.groups, handed.params, shapes, handed.state);
    await using(opt, async () => {
      checkImported((await backendSnapshot(opt)).state, handed.state);
      const g1 = gradientsAt(problem, before);
      const bounds1 = stepBounds(ref, trackedFromSnapshot(handed), g1, ar, matrixFactor);
      checkOutcome(await opt.step(g1), ref.step(referenceGradients(g1)));
      const want1 = referenceSnapshot(ref);
      checkModel(want1, bounds1, k);
      const mid = await backendSnapshot(opt);
      try {
        compareSnapshots(mid, want1, bounds1, k, scalarRelative, ctx.stats);
      } catch (e) {
        throw new ConformanceFailure(`reference → backend, first step after the import: ${(e as Error).message}`);
      }

      // (2) backend → reference, and (3) backend → backend.
      const back = referenceFor(problem.spec, problem.groups, mid.params, shapes);
      back.importState(JSON.parse(JSON.stringify(mid.state)));
      const resumed = await backendFor(ctx.backend, problem.spec, problem.groups, mid.params, shapes, mid.state);
      await using(resumed, async () => {
        const g2 = gradientsAt(problem, before + 1);
        const bounds2 = stepBounds(back, trackedFromSnapshot(mid), g2, ar, matrixFactor);
        const want2 = back.step(referenceGradients(g2));
        checkOutcome(await opt.step(g2), want2);
        checkOutcome(await resumed.step(g2), want2);
        const expected = referenceSnapshot(back);
        checkModel(expected, bounds2, k);
        const fromOriginal = await backendSnapshot(opt);
        const fromResumed = await backendSnapshot(resumed);
        try {
          compareSnapshots(fromOriginal, expected, bounds2, k, scalarRelative, ctx.stats);
        } catch (e) {
          throw new ConformanceFailure(`backend → reference, next step: ${(e as Error).message}`);
        }
        // Bit for bit only when the hand-over was exact: float32 parameters always are (a Float64 backend's are not,
        // since parameters are handed over as float32); otherwise within the one-step bound.
        const exact = [...mid.params.values()].every((v) => v.every((x) => Object.is(Math.fround(x), x) || Number.isNaN(x)));
        if (ctx.tolerance.exactResume && exact) sameSnapshot(fromOriginal, fromResumed, 'backend → backend: the resumed optimizer and the original differ after one step');
        else compareSnapshots(fromResumed, expected, bounds2, k, scalarRelative, ctx.stats);
      });
    });
  },
};
