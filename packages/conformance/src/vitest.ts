/**
 * The conformance kit as vitest blocks: {@link describeConformance}.
 *
 * @module @descent/conformance/vitest
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ConformanceBackend } from './adapter.js';
import { planConformance, type ConformanceOptions, type PlannedCheck } from './plan.js';

/**
 * Registers the conformance checks of a backend as vitest blocks: one `describe` per optimizer with one `it`
 * per property (and per bad-input row), and a `describe` for core's validation table. Gaps appear as skipped
 * tests whose names carry the reason. A failing property fails its test with the report (seed and path included).
 *
 * @example
 * <!-- not runnable: registers vitest blocks, so it must be a test file of its own -->
 * ```ts
 * import { describeConformance } from '@descent/conformance/vitest';
 * describeConformance(myBackend, { numRuns: 100 });
 * ```
 */
export function describeConformance(backend: ConformanceBackend, options: ConformanceOptions & { readonly timeout?: number } = {}): void {
  const plan = planConformance(backend, options);
  const timeout = options.timeout ?? 600_000;
  const register = (c: PlannedCheck, label: string): void => {
    if (c.gap !== undefined) {
      it.skip(`${label} — gap: ${c.gap}`, () => {});
      return;
    }
    it(
      label,
      async () => {
        const r = await c.run();
        if (r.status === 'failed') throw new Error(r.message ?? `${c.id} failed`);
      },
      timeout,
    );
  };
  describe(`descent conformance: ${backend.name}`, () => {
    beforeAll(async () => {
      await backend.setup?.();
    });
    afterAll(async () => {
      await backend.teardown?.();
    });
    // One block per optimizer, then the transforms (gaps only) and core's validation table.
    const blocks = new Map<string, PlannedCheck[]>();
    for (const c of plan) {
      const key = c.optimizer ?? (c.id.startsWith('validation/') ? 'validation table' : c.id.startsWith('robustness/') ? 'robustness' : 'transforms');
      blocks.set(key, [...(blocks.get(key) ?? []), c]);
    }
    for (const [name, checks] of blocks) {
      describe(name, () => {
        for (const c of checks) register(c, c.property);
      });
    }
  });
}

export type { ConformanceOptions } from './plan.js';
