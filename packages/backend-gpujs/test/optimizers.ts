import { describe, expect, it } from 'vitest';
import type { GpujsActualMode } from '../src/index.js';
import { DEFAULT_SHAPES, cases, specOf } from './cases.js';
import { compareStepwise, unavailableMode } from './helpers.js';

/** The stepwise comparison of every optimizer and option combination on one gpu.js mode (see helpers.ts for the bounds). */
export function optimizerSuite(mode: GpujsActualMode, unavailable?: string, limits: { optionSets?: number; steps?: number } = {}): void {
  describe(`every optimizer on gpu.js ${mode}: ${limits.steps ?? 10} steps against the Float64 reference`, () => {
    if (unavailable) {
      unavailableMode(mode, unavailable);
      return;
    }
    for (const c of cases) {
      const optionSets = c.options.slice(0, limits.optionSets ?? c.options.length);
      it(`${c.name}: params and every state slot within the bound, ${optionSets.length} option sets`, async () => {
        let worst = 0;
        for (const [k, options] of optionSets.entries()) {
          const result = await compareStepwise(specOf(c.name, options), {
            mode,
            kind: c.kind,
            shapes: c.shapes ?? DEFAULT_SHAPES,
            seed: 17 + k,
            steps: limits.steps ?? 10,
            ...(c.ambiguous ? { ambiguous: c.ambiguous } : {}),
            ...(c.groups ? { groups: c.groups } : {}),
          });
          expect(result.opt.mode).toBe(mode);
          expect(result.mismatches, `${c.name} ${JSON.stringify(options)}`).toEqual([]);
          expect(result.compared).toBeGreaterThan(10);
          // The sign-ambiguity band must stay exceptional, or the comparison would prove little.
          expect(result.skippedElements).toBeLessThan(5);
          worst = Math.max(worst, result.worst);
          result.opt.dispose();
        }
        // Not trivially loose: some error reaches a measurable fraction of its bound somewhere, or is exactly 0.
        expect(worst).toBeLessThanOrEqual(1);
      });
    }
  });
}
