import fc from 'fast-check';
import { Arith } from '../bounds/index.js';
import { checkModel, compareSnapshots } from '../compare.js';
import { problemArbitrary, describeProblem, type Problem } from '../arbitraries.js';
import {
  backendFor,
  backendSnapshot,
  checkOutcome,
  gradientsAt,
  referenceFor,
  referenceGradients,
  referenceSnapshot,
  roundParams,
  roundState,
  shapesOf,
  stepBounds,
  trackedFromSnapshot,
  using,
} from '../harness.js';
import type { PropertyDefinition } from './types.js';

interface OneStepCase {
  readonly problem: Problem;
  /** Reference steps before the compared ones (to reach a state other than the initial one). */
  readonly warmup: number;
  /** Compared steps, each from the reference's state rounded to float32. */
  readonly steps: number;
}

/**
 * One step at a time, resynchronised (PyTorch's TensorTracker habit): before every compared step the
 * reference's parameters and state are rounded to float32 and imported into a fresh backend optimizer and a
 * fresh reference, both step with the same float32 gradients, and the parameters and every state slot and
 * scalar are compared under the optimizer's error model. So each step is judged on exactly the inputs the
 * backend got, and an error cannot hide behind an earlier one.
 */
export const oneStepProperty: PropertyDefinition<OneStepCase> = {
  name: 'one step',
  summary: 'every step agrees with the reference on float32-rounded inputs, parameters and every state slot and scalar (resynchronised before each step)',
  arbitrary: (optimizer, ctx) =>
    fc.record({ problem: problemArbitrary(optimizer, { transforms: ctx.transforms }), warmup: fc.integer({ min: 0, max: 3 }), steps: fc.integer({ min: 1, max: 3 }) }),
  describe: (c) => `${describeProblem(c.problem)}\n  ${c.warmup} reference steps, then ${c.steps} compared steps`,
  async check(ctx, { problem, warmup, steps }) {
    const shapes = shapesOf(problem);
    const initial = new Map(problem.params.map((p) => [p.name, p.data] as const));
    let ref = referenceFor(problem.spec, problem.groups, initial, shapes);
    for (let s = 0; s < warmup; s++) ref.step(referenceGradients(gradientsAt(problem, s)));
    const ar = new Arith(ctx.tolerance.k);
    for (let s = warmup; s < warmup + steps; s++) {
      const pre = referenceSnapshot(ref);
      const params = roundParams(pre.params);
      const state = roundState(pre.state);
      const resynced = referenceFor(problem.spec, problem.groups, params, shapes);
      resynced.importState(state);
      const grads = gradientsAt(problem, s);
      const bounds = stepBounds(resynced, trackedFromSnapshot({ params, state }), grads, ar, ctx.tolerance.matrixFactor);
      const opt = await backendFor(ctx.backend, problem.spec, problem.groups, params, shapes, state);
      await using(opt, async () => {
        const want = resynced.step(referenceGradients(grads));
        checkOutcome(await opt.step(grads), want);
        const expected = referenceSnapshot(resynced);
        checkModel(expected, bounds, ctx.tolerance.k);
        compareSnapshots(await backendSnapshot(opt), expected, bounds, ctx.tolerance.k, ctx.tolerance.scalarRelative, ctx.stats);
      }).catch((e: unknown) => {
        if (e instanceof Error) e.message = `compared step ${s - warmup + 1} of ${steps} (parameter steps ${JSON.stringify(Object.fromEntries(Object.entries(state.params).map(([n, p]) => [n, p.step])))}): ${e.message}`;
        throw e;
      });
      ref = resynced;
    }
  },
};
