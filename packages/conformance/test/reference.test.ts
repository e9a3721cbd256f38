import { describe, expect, it } from 'vitest';
import { definitions } from '@descent/core';
import { checkConformance, propertyNames, referenceBackend } from '../src/index.js';

/** The reference through the adapter: every check of every optimizer passes, with zero error on exact inputs. */
describe('the kit against the reference itself', () => {
  it('passes every check, with zero error wherever the inputs are exact', async () => {
    const report = await checkConformance(referenceBackend());
    expect(report.summary).toMatch(/0 failed, 0 gaps$/m);
    expect(report.ok).toBe(true);
    for (const r of report.results) {
      // State transfer hands Float64 parameters over as float32 (the adapter's currency), so only there may the
      // reference differ from itself.
      if (r.stats && !r.id.endsWith('/state transfer')) expect([r.id, r.stats.maxAbsError]).toEqual([r.id, 0]);
    }
    // Every optimizer of the registry and every property was checked.
    expect(report.results.filter((r) => r.stats).length).toBe(definitions.size * propertyNames.length);
  });
});
