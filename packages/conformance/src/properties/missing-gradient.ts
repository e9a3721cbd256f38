import fc from 'fast-check';
import { problemArbitrary, describeProblem, type Problem } from '../arbitraries.js';
import { backendFor, backendSnapshot, ConformanceFailure, gradientsAt, shapesOf, using } from '../harness.js';
import type { PropertyDefinition } from './types.js';

interface MissingCase {
  readonly problem: Problem;
  readonly steps: number;
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

/**
 * A parameter without a gradient (null, or its name left out) is skipped: its values and its whole state
 * (slots, scalars, step) stay bitwise unchanged, also before its first update, while the others move on.
 */
export const missingGradientProperty: PropertyDefinition<MissingCase> = {
  name: 'missing gradient',
  summary: 'a parameter without a gradient keeps its values and its state bitwise unchanged',
  arbitrary: (optimizer) =>
    fc.record({ problem: problemArbitrary(optimizer, { missing: fc.constantFrom(0.3, 0.6) }), steps: fc.integer({ min: 1, max: 4 }) }),
  describe: (c) => `${describeProblem(c.problem)}\n  ${c.steps} steps`,
  async check(ctx, { problem, steps }) {
    const shapes = shapesOf(problem);
    const initial = new Map(problem.params.map((p) => [p.name, p.data] as const));
    const opt = await backendFor(ctx.backend, problem.spec, problem.groups, initial, shapes);
    await using(opt, async () => {
      for (let s = 0; s < steps; s++) {
        const grads = gradientsAt(problem, s);
        const before = await backendSnapshot(opt);
        await opt.step(grads);
        const after = await backendSnapshot(opt);
        if (after.state.stepCount !== before.state.stepCount + 1) {
          throw new ConformanceFailure(`step ${s + 1}: stepCount went from ${before.state.stepCount} to ${after.state.stepCount}, expected +1`);
        }
        for (const p of problem.params) {
          if (grads.get(p.name)) continue;
          const how = grads.has(p.name) ? 'a null gradient' : 'no gradient';
          if (!sameBits(after.params.get(p.name) ?? [], before.params.get(p.name) ?? [])) {
            throw new ConformanceFailure(`step ${s + 1}: parameter "${p.name}" got ${how} but its values changed`);
          }
          const a = JSON.stringify(after.state.params[p.name]);
          const b = JSON.stringify(before.state.params[p.name]);
          if (a !== b) throw new ConformanceFailure(`step ${s + 1}: parameter "${p.name}" got ${how} but its state changed:\n    before ${b}\n    after  ${a}`);
        }
      }
    });
  },
};
