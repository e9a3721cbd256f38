import fc from 'fast-check';
import { Arith, type TensorBound } from '../bounds/index.js';
import type { BackendOptimizer, GradInputs } from '../adapter.js';
import { checkModel, compareSnapshots, compareTensor } from '../compare.js';
import { problemArbitrary, describeProblem, type Problem } from '../arbitraries.js';
import {
  backendFor,
  backendSnapshot,
  checkOutcome,
  ConformanceFailure,
  gradientsAt,
  pointBounds,
  referenceFor,
  referenceGradients,
  referenceSnapshot,
  roundParams,
  roundState,
  shapesOf,
  stepBounds,
  trackedFromSnapshot,
  using,
  type ReferenceOptimizer,
} from '../harness.js';
import type { PropertyContext, PropertyDefinition } from './types.js';

interface OneStepCase {
  readonly problem: Problem;
  /** Reference steps before the compared ones (to reach a state other than the initial one). */
  readonly warmup: number;
  /** Compared steps, each from the reference's state rounded to float32. */
  readonly steps: number;
  /** Whether the compared steps go through `step(closure)` (when the adapter has `stepClosure`). */
  readonly closure: boolean;
}

const copyPoint = (point: ReadonlyMap<string, ArrayLike<number>>): Map<string, Float64Array> => new Map([...point].map(([n, v]) => [n, Float64Array.from(v)]));

/**
 * One step through `step(closure)` on both sides: the closure must be called once, receive the evaluation point
 * (the parameters; NAG's look-ahead point, within its error model) and its gradients must be the ones used.
 */
async function closureStep(
  opt: BackendOptimizer,
  ref: ReferenceOptimizer,
  grads: GradInputs,
  points: ReadonlyMap<string, TensorBound>,
  ctx: PropertyContext,
): Promise<void> {
  let want: Map<string, Float64Array> | undefined;
  const outcome = ref.step((point) => {
    want = copyPoint(new Map([...point].map(([n, t]) => [n, t.data])));
    return referenceGradients(grads);
  });
  let calls = 0;
  let got: Map<string, Float64Array> | undefined;
  checkOutcome(
    await opt.stepClosure!((point) => {
      calls++;
      got = copyPoint(point);
      return grads;
    }),
    outcome,
  );
  if (calls !== 1) throw new ConformanceFailure(`step(closure) called the closure ${calls} times, expected once`);
  for (const [name, bound] of points) {
    const values = got!.get(name);
    if (!values) throw new ConformanceFailure(`step(closure): the point given to the closure has no parameter "${name}"`);
    compareTensor(`step(closure): the evaluation point of "${name}"`, values, want!.get(name)!, bound, ctx.tolerance.k, ctx.stats);
  }
}

/**
 * One step at a time, resynchronised (PyTorch's TensorTracker habit): before every compared step the
 * reference's parameters and state are rounded to float32 and imported into a fresh backend optimizer and a
 * fresh reference, both step with the same float32 gradients, and the parameters and every state slot and
 * scalar are compared under the optimizer's error model. So each step is judged on exactly the inputs the
 * backend got, and an error cannot hide behind an earlier one. Problems may carry an LR schedule and Lookahead; in
 * half the cases the compared steps go through `step(closure)` (see {@link closureStep}).
 */
export const oneStepProperty: PropertyDefinition<OneStepCase> = {
  name: 'one step',
  summary:
    'every step agrees with the reference on float32-rounded inputs, parameters and every state slot and scalar (resynchronised before each step); half the cases through step(closure), whose point is checked too',
  arbitrary: (optimizer, ctx) =>
    fc.record({
      problem: problemArbitrary(optimizer, { transforms: ctx.transforms, wrappers: true }),
      warmup: fc.integer({ min: 0, max: 3 }),
      steps: fc.integer({ min: 1, max: 3 }),
      closure: fc.boolean(),
    }),
  describe: (c) => `${describeProblem(c.problem)}\n  ${c.warmup} reference steps, then ${c.steps} compared steps${c.closure ? ' through step(closure)' : ''}`,
  async check(ctx, { problem, warmup, steps, closure }) {
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
      const tracked = trackedFromSnapshot({ params, state });
      const points = closure ? pointBounds(resynced, tracked, ar, ctx.tolerance.matrixFactor) : undefined;
      const bounds = stepBounds(resynced, tracked, grads, ar, ctx.tolerance.matrixFactor);
      const opt = await backendFor(ctx.backend, problem.spec, problem.groups, params, shapes, state);
      await using(opt, async () => {
        if (points && opt.stepClosure) await closureStep(opt, resynced, grads, points, ctx);
        else checkOutcome(await opt.step(grads), resynced.step(referenceGradients(grads)));
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
