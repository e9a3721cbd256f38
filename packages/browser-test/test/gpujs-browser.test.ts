import { describe, expect, it, type TestContext } from 'vitest';
import { supportedOptimizers } from '@descent/backend-gpujs';
import { gpujsPage } from './gpujs-session.js';
import type { ConformanceSummary, OptimizerRun } from './entries/gpujs.js';

/**
 * descent's gpu.js backend inside headless Chromium, in gpu.js's `webgl2` mode (WebGL2 on SwiftShader here: the
 * GLSL really runs, on the CPU). One browser, one page (test/entries/gpujs.ts).
 *
 * Optimizers: every one `supportedOptimizers()` reports, its first option set from backend-gpujs/test/cases.ts,
 * STEPS steps of backend-gpujs/test/helpers.ts's `compareStepwise` (float32 inputs and options rounded with
 * Math.fround, both sides from identical state after every step, parameters and every state slot compared
 * normwise). The bound is the one backend-gpujs uses for headlessgl, `kFor(kind, mode)` (helpers.ts): k = 32 per
 * elementwise update (a chain of ≲ 12 roundings with a margin of 2–3) and SUM_BLOCK + 32 with per-tensor norms,
 * doubled on every GL mode because GLSL ES allows 2.5 ulp for division and a few for square roots and may flush
 * denormals; Muon's Newton–Schulz is compared normwise at NS_RELATIVE = 1e-4. The same code and figures apply to
 * webgl2 as to headlessgl: both run gpu.js's GLSL through ANGLE.
 *
 * Conformance: the kit's plain API (`checkConformance`) with backend-gpujs's adapter (`gpujsBackend('webgl2')`:
 * GL tolerance k = 64, and the GL known gaps `glNonFiniteGaps` — GLSL's max/min/atan drop NaN), CONFORMANCE_RUNS
 * runs per property.
 */

const STEPS = 3;
/** Supported optimizers that backend-gpujs/test/cases.ts has no case for. */
const NO_CASE = ['shampoo'];
/** Runs per property of the conformance kit (DESCENT_CONFORMANCE_RUNS overrides). */
const CONFORMANCE_RUNS = Number(process.env.DESCENT_CONFORMANCE_RUNS) || 1;

describe('gpu.js backend in Chromium (webgl2)', () => {
  const session = gpujsPage('gpujs-browser', false);
  if (!session) return;
  const p = session.page;

  it('runs in a page with WebGL2', () => {
    expect(session.environment()?.webglRenderer, JSON.stringify(session.environment())).toBeTruthy();
    expect(session.environment()?.webglFloatRender).toBe(true);
  });

  it('the page sees the same optimizers as Node', async () => {
    expect(await p().call<string[]>('supported')).toEqual(supportedOptimizers());
  });

  for (const name of supportedOptimizers()) {
    if (NO_CASE.includes(name)) {
      it.skip(`${name}: no stepwise case in backend-gpujs/test/cases.ts (its conditioning-aware bounds live inline in shampoo.test.ts, not importable); covered here by the conformance kit only`, () => {});
      continue;
    }
    it(`${name}: ${STEPS} steps on webgl2 against the Float64 reference, params and every slot within kFor`, async (ctx: TestContext) => {
      const r = await p().call<OptimizerRun>('runOptimizer', { name, optionSets: 1, steps: STEPS });
      ctx.annotate?.(`webgl2 ${name}: worst ${r.worst.toPrecision(3)} of the bound (k = ${r.k}), ${r.compared} checks, ${Math.round(r.ms)} ms`);
      expect(r.modes).toEqual(['webgl2']);
      expect(r.mismatches).toEqual([]);
      expect(r.compared).toBeGreaterThan(10);
      expect(r.skippedElements).toBeLessThan(5);
      expect(r.worst).toBeLessThanOrEqual(1);
    });
  }

  it('the synchronous createGpujs refuses webgpu, naming the asynchronous API (webgpu runs in gpujs-webgpu-browser.test.ts)', async () => {
    const r = await p().call<{ ok: boolean; unsupported?: boolean; message?: string }>('ask', { mode: 'webgpu' });
    expect(r.ok).toBe(false);
    expect(r.unsupported).toBe(true);
    expect(r.message).toBe(
      'sgd: gpu.js mode "webgpu" reads back asynchronously: create the optimizer with await createGpujsAsync(spec, params, { mode: "webgpu" }) and step it with await opt.stepAsync(grads)',
    );
  });

  it(`passes the conformance kit on webgl2 (${CONFORMANCE_RUNS} run(s) per property, GL known gaps)`, async (ctx: TestContext) => {
    const r = await p().call<ConformanceSummary>('conformance', { numRuns: CONFORMANCE_RUNS, driftSteps: 5 }, { timeoutMs: 150_000 });
    ctx.annotate?.(r.summary);
    const failures = r.results.filter((x) => x.status === 'failed');
    expect(failures, r.summary).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.passed).toBeGreaterThan(0);
    // Every optimizer was checked, Shampoo included (it used to crash in gpu.js for a [1, 1] parameter).
    for (const name of supportedOptimizers()) expect(r.results.some((x) => x.id.startsWith(`${name}/`) && x.status === 'passed'), name).toBe(true);
    // The GL gaps the adapter declares are in force (AMSGrad's max drops NaN) and nothing else is waived.
    expect(r.knownGaps['adam/non-finite']).toMatch(/GLSL drops NaN/);
    expect(r.results.filter((x) => x.status === 'gap').every((x) => x.id in r.knownGaps)).toBe(true);
    expect(r.tolerance).toEqual({ k: 64 });
  }, 180_000);

  it('Shampoo on a [1, 1] parameter resumes from imported state bit for bit (gpu.js webgl2 host→texture kernel switch)', async () => {
    const r = await p().call<{ straight: number[]; resumed: number[]; mode: string }>('shampooResume', {});
    expect(r.mode).toBe('webgl2');
    expect(r.straight.every(Number.isFinite)).toBe(true);
    expect(r.straight).not.toEqual([0.5, 0.1, -0.2, 0.3, -0.4, 0.5, -0.6].map(Math.fround));
    expect(r.resumed).toEqual(r.straight);
  }, 150_000);
});
