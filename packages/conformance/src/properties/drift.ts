import { problemArbitrary, describeProblem, type Problem } from '../arbitraries.js';
import { Arith } from '../bounds/index.js';
import { checkModel, compareSnapshots } from '../compare.js';
import {
  backendFor,
  backendSnapshot,
  checkOutcome,
  gradientsAt,
  referenceFor,
  referenceGradients,
  referenceSnapshot,
  shapesOf,
  stepBounds,
  trackedFromSnapshot,
  using,
} from '../harness.js';
import type { PropertyDefinition } from './types.js';

/**
 * Many steps without resynchronisation: the backend and the reference run the same gradients from the same
 * float32 parameters for `driftSteps` steps (50 by default), and the results are compared at the end.
 *
 * The bound is the same running error analysis carried through the whole trajectory: every step's inputs carry
 * the budgets of the previous step's outputs, so an error in the state propagates, to first order, exactly as
 * the update rule propagates it (a decaying average forgets it geometrically; θ accumulates one step's error per
 * step; a sign decision whose argument drifted into its band may flip, costing its allowance). Normwise
 * allowances of matrix updates add up step by step. No extra slack is given for the length of the run.
 */
export const driftProperty: PropertyDefinition<Problem> = {
  name: 'drift',
  summary: 'many steps without resynchronisation stay within the error budget propagated through the trajectory',
  // One parameter: the drift is a matter of time, not of parameter interplay (which the one-step property covers),
  // and the cost of a run grows with the number of tensors.
  arbitrary: (optimizer, ctx) => problemArbitrary(optimizer, { maxParams: 1, transforms: ctx.transforms, wrappers: true }),
  describe: (p) => describeProblem(p),
  async check(ctx, problem) {
    const shapes = shapesOf(problem);
    const initial = new Map(problem.params.map((p) => [p.name, Float64Array.from(p.data)] as const));
    const ref = referenceFor(problem.spec, problem.groups, initial, shapes);
    const ar = new Arith(ctx.tolerance.k);
    let tracked = trackedFromSnapshot(referenceSnapshot(ref));
    const opt = await backendFor(ctx.backend, problem.spec, problem.groups, initial, shapes);
    await using(opt, async () => {
      for (let s = 0; s < ctx.driftSteps; s++) {
        const grads = gradientsAt(problem, s);
        tracked = stepBounds(ref, tracked, grads, ar, ctx.tolerance.matrixFactor);
        const want = ref.step(referenceGradients(grads));
        checkOutcome(await opt.step(grads), want);
      }
      const expected = referenceSnapshot(ref);
      checkModel(expected, tracked, ctx.tolerance.k);
      compareSnapshots(await backendSnapshot(opt), expected, tracked, ctx.tolerance.k, ctx.tolerance.scalarRelative, ctx.stats);
    }).catch((e: unknown) => {
      if (e instanceof Error) e.message = `after ${ctx.driftSteps} steps: ${e.message}`;
      throw e;
    });
  },
};
