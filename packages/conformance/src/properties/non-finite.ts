import fc from 'fast-check';
import { problemArbitrary, describeProblem, type Problem } from '../arbitraries.js';
import { Arith } from '../bounds/index.js';
import { checkModel, compareSnapshots } from '../compare.js';
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
  thrown,
  trackedFromSnapshot,
  using,
  type Snapshot,
} from '../harness.js';
import { mix, prng } from '../random.js';
import type { GradInput } from '../adapter.js';
import type { PropertyDefinition } from './types.js';

interface NonFiniteCase {
  readonly problem: Problem;
  /** Finite steps before the poisoned one. */
  readonly before: number;
  /** How many values to poison, and with what. */
  readonly poison: ReadonlyArray<'NaN' | 'Infinity' | '-Infinity'>;
}

function unchanged(a: Snapshot, b: Snapshot, what: string): void {
  for (const [name, x] of a.params) {
    const y = b.params.get(name)!;
    x.forEach((v, i) => {
      if (!Object.is(v, y[i])) throw new ConformanceFailure(`${what}: parameter "${name}"[${i}] changed from ${v} to ${y[i]}`);
    });
  }
  const pa = JSON.stringify(a.state.params);
  const pb = JSON.stringify(b.state.params);
  if (pa !== pb) throw new ConformanceFailure(`${what}: the parameter states changed:\n    before ${pa}\n    after  ${pb}`);
}

/**
 * Non-finite gradients under the spec's `nonFinite` policy (drawn at random). `apply`: the step runs and the
 * NaN/∞ propagate exactly where the reference's do (elements the reference keeps finite stay within bounds).
 * `skip`: the step returns "skipped", changes no parameter or state, and counts itself in `skippedSteps`.
 * `throw`: the step raises the reference's message (naming the gradient, the value and its index) and changes
 * nothing.
 */
export const nonFiniteProperty: PropertyDefinition<NonFiniteCase> = {
  name: 'non-finite',
  summary: 'NaN and ±∞ gradients behave as the nonFinite policy says (apply / skip / throw)',
  arbitrary: (optimizer, ctx) =>
    fc.record({
      problem: problemArbitrary(optimizer, { nonEmpty: true, nonFinite: fc.constantFrom('apply', 'skip', 'throw'), missing: fc.constant(0), transforms: ctx.transforms }),
      before: fc.integer({ min: 0, max: 2 }),
      poison: fc.array(fc.constantFrom('NaN' as const, 'Infinity' as const, '-Infinity' as const), { minLength: 1, maxLength: 3 }),
    }),
  describe: (c) => `${describeProblem(c.problem)}\n  ${c.before} finite steps, then gradients with ${c.poison.join(', ')}`,
  async check(ctx, { problem, before, poison }) {
    const shapes = shapesOf(problem);
    const policy = problem.spec.options.nonFinite;
    const initial = new Map(problem.params.map((p) => [p.name, p.data] as const));
    const opt = await backendFor(ctx.backend, problem.spec, problem.groups, initial, shapes);
    await using(opt, async () => {
      for (let s = 0; s < before; s++) await opt.step(gradientsAt(problem, s));
      // Poison the gradient of one non-empty parameter.
      const grads = gradientsAt(problem, before, 0);
      const next = prng(mix(problem.seed, 'poison'));
      const targets = problem.params.filter((p) => p.data.length > 0);
      const target = targets[Math.floor(next() * targets.length)]!;
      const g = grads.get(target.name) as GradInput;
      const data = Float32Array.from(g.data);
      for (const p of poison) data[Math.floor(next() * data.length)] = Number(p);
      grads.set(target.name, { shape: g.shape, data });

      const pre = await backendSnapshot(opt);
      const ref = referenceFor(problem.spec, problem.groups, pre.params, shapes);
      ref.importState(JSON.parse(JSON.stringify(pre.state)));
      if (policy === 'throw') {
        const want = await thrown(() => ref.step(referenceGradients(grads)));
        if (!want) throw new ConformanceFailure('the reference did not throw under nonFinite: "throw" (kit out of date)');
        const got = await thrown(() => opt.step(grads));
        if (!got) throw new ConformanceFailure(`nonFinite "throw": the backend did not throw; the reference throws "${want.message}"`);
        if (got.message !== want.message) throw new ConformanceFailure(`nonFinite "throw": the backend throws "${got.message}", the reference "${want.message}"`);
        unchanged(pre, await backendSnapshot(opt), 'nonFinite "throw" must change nothing');
        const post = await backendSnapshot(opt);
        if (post.state.stepCount !== pre.state.stepCount) throw new ConformanceFailure('nonFinite "throw": stepCount changed');
        return;
      }
      if (policy === 'skip') {
        checkOutcome(await opt.step(grads), 'skipped');
        const post = await backendSnapshot(opt);
        unchanged(pre, post, 'nonFinite "skip" must change nothing');
        if (post.state.stepCount !== pre.state.stepCount) throw new ConformanceFailure(`nonFinite "skip": stepCount went from ${pre.state.stepCount} to ${post.state.stepCount}`);
        if (post.state.skippedSteps !== pre.state.skippedSteps + 1) {
          throw new ConformanceFailure(`nonFinite "skip": skippedSteps went from ${pre.state.skippedSteps} to ${post.state.skippedSteps}, expected +1`);
        }
        return;
      }
      const ar = new Arith(ctx.tolerance.k);
      const bounds = stepBounds(ref, trackedFromSnapshot(pre), grads, ar, ctx.tolerance.matrixFactor);
      checkOutcome(await opt.step(grads), ref.step(referenceGradients(grads)));
      const expected = referenceSnapshot(ref);
      checkModel(expected, bounds, ctx.tolerance.k);
      compareSnapshots(await backendSnapshot(opt), expected, bounds, ctx.tolerance.k, ctx.tolerance.scalarRelative, ctx.stats);
    }).catch((e: unknown) => {
      if (e instanceof Error) e.message = `nonFinite: "${policy}": ${e.message}`;
      throw e;
    });
  },
};
