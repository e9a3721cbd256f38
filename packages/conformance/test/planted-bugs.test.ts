import { describe, expect, it } from 'vitest';
import { checkConformance, propertyNames, type ConformanceReport } from '../src/index.js';
import { badGaps, epsInsideSqrt, forgetsSteps, ignoresMatrixView, ignoresNonFinite, missingAsZero, rewordsErrors, wrongBeta } from './fakes.js';

/** The kit can fail: one planted bug per property family, each reported by the property meant to catch it. */
const status = (report: ConformanceReport, id: string): string | undefined => report.results.find((r) => r.id === id)?.status;

describe('the kit fails backends with planted bugs', () => {
  const only = { optimizers: ['adam', 'sgd'], shrink: false } as const;
  it('Adam with β₁ in place of β₂: every numerical property of adam fails, sgd passes', async () => {
    const report = await checkConformance(wrongBeta(), { ...only, validation: false });
    for (const p of ['one step', 'drift', 'state transfer']) expect([p, status(report, `adam/${p}`)]).toEqual([p, 'failed']);
    for (const p of propertyNames) expect([p, status(report, `sgd/${p}`)]).toEqual([p, 'passed']);
    const failure = report.results.find((r) => r.id === 'adam/one step')!;
    expect(failure.message).toMatch(/(parameter "p\d"|slot "expAvgSq" of "p\d")\[\d+\]: the backend has .* > bound/);
    expect(failure.message).toMatch(/reproduce: seed \d+, path "[\d:]*": DESCENT_CONFORMANCE_REPLAY='adam\/one step@\d+@[\d:]*'/);
  });
  it('Adam with ε inside the square root fails the one-step property', async () => {
    const report = await checkConformance(epsInsideSqrt(), { ...only, properties: ['one step'], validation: false });
    expect(status(report, 'adam/one step')).toBe('failed');
    expect(status(report, 'sgd/one step')).toBe('passed');
    expect(report.results.find((r) => r.id === 'adam/one step')!.message).toMatch(/parameter "p\d"/);
  });
  it('a backend that ignores matrixView fails the one-step property of Muon and Shampoo (the kit draws views)', async () => {
    const report = await checkConformance(ignoresMatrixView(), { optimizers: ['muon', 'shampoo'], properties: ['one step'], validation: false, shrink: false });
    expect(status(report, 'muon/one step')).toBe('failed');
    expect(status(report, 'shampoo/one step')).toBe('failed');
  });
  it('a replayed failure fails again at once', async () => {
    const first = (await checkConformance(wrongBeta(), { optimizers: ['adam'], properties: ['one step'], validation: false })).results[0]!;
    const again = await checkConformance(wrongBeta(), { replay: { id: 'adam/one step', seed: first.seed!, path: first.path! } });
    expect(again.results.map((r) => [r.id, r.status, r.numRuns])).toEqual([['adam/one step', 'failed', 1]]);
  });
  it('a missing gradient treated as zero fails the missing-gradient property', async () => {
    const report = await checkConformance(missingAsZero(), { ...only, properties: ['missing gradient'], validation: false });
    expect(status(report, 'adam/missing gradient')).toBe('failed');
    expect(report.results.find((r) => r.id === 'adam/missing gradient')!.message).toMatch(/got (a null gradient|no gradient) but its (values|state) changed/);
  });
  it('an ignored nonFinite policy fails the non-finite property', async () => {
    const report = await checkConformance(ignoresNonFinite(), { ...only, properties: ['non-finite'], validation: false });
    expect(status(report, 'adam/non-finite')).toBe('failed');
    expect(report.results.find((r) => r.id === 'adam/non-finite')!.message).toMatch(/nonFinite: "(skip|throw)"/);
  });
  it('state imported without its step counts fails the state-transfer property', async () => {
    const report = await checkConformance(forgetsSteps(), { ...only, properties: ['state transfer'], validation: false });
    expect(status(report, 'adam/state transfer')).toBe('failed');
  });
  it('reworded error messages fail the validation table', async () => {
    const report = await checkConformance(rewordsErrors(), { ...only, properties: [] });
    const rows = report.results.filter((r) => r.id.startsWith('validation/'));
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.every((r) => r.status === 'failed')).toBe(true);
    expect(rows[0]!.message).toContain('the backend raises "adam: option "lr" must be a number in [0, ∞), got -1 (sic)"');
  });
  it('gaps are reported with their reason, and a backend must refuse what it lacks by name', async () => {
    const backend = { ...badGaps(), knownGaps: { 'sgd/drift': 'known float32 drift' } };
    const report = await checkConformance(backend, { optimizers: ['sgd', 'adamax', 'lion'], numRuns: 5 });
    expect(status(report, 'sgd/drift')).toBe('gap');
    expect(report.results.find((r) => r.id === 'sgd/drift')!.reason).toBe('known float32 drift');
    expect(status(report, 'adamax/one step')).toBe('gap');
    expect(report.results.find((r) => r.id === 'adamax/one step')!.reason).toBe('not implemented by the bad gaps backend');
    expect(status(report, 'lion/refused by name')).toBe('failed');
    expect(report.results.find((r) => r.id === 'lion/refused by name')!.message).toContain('creates it without an error');
    expect(report.results.find((r) => r.id === 'adamax/refused by name')!.message).toContain('does not name it');
    expect(report.summary).toContain('gaps:');
    expect(report.summary).toContain('not implemented by the bad gaps backend: adamax/one step');
  });
});
