import type { ConformanceBackend } from './adapter.js';
import { planConformance, type CheckResult, type ConformanceOptions } from './plan.js';

/** Everything a conformance run found. */
export interface ConformanceReport {
  readonly backend: string;
  /** True when no check failed (gaps do not fail a run; they are listed). */
  readonly ok: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly gaps: number;
  readonly results: readonly CheckResult[];
  /** A readable summary: failures in full, gaps with their reasons. */
  readonly summary: string;
}

/**
 * Runs the conformance kit against a backend without any test framework and returns the results.
 *
 * @example
 * ```ts
 * import { checkConformance, referenceBackend } from '@descent/conformance';
 * const report = await checkConformance(referenceBackend(), { optimizers: ['sgd'], numRuns: 20 });
 * if (!report.ok) throw new Error(report.summary);
 * ```
 */
export async function checkConformance(backend: ConformanceBackend, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const plan = planConformance(backend, options);
  const results: CheckResult[] = [];
  await backend.setup?.();
  try {
    for (const c of plan) results.push(await c.run());
  } finally {
    await backend.teardown?.();
  }
  const failed = results.filter((r) => r.status === 'failed');
  const gaps = results.filter((r) => r.status === 'gap');
  const passed = results.length - failed.length - gaps.length;
  const lines = [`descent conformance of "${backend.name}": ${passed} passed, ${failed.length} failed, ${gaps.length} gaps`];
  for (const f of failed) lines.push('', f.message ?? f.id);
  if (gaps.length) {
    lines.push('', 'gaps:');
    const byReason = new Map<string, string[]>();
    for (const g of gaps) byReason.set(g.reason ?? '', [...(byReason.get(g.reason ?? '') ?? []), g.id]);
    for (const [reason, ids] of byReason) lines.push(`  ${reason}: ${ids.join(', ')}`);
  }
  return { backend: backend.name, ok: failed.length === 0, passed, failed: failed.length, gaps: gaps.length, results, summary: lines.join('\n') };
}
