import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { supportedOptimizers } from '@descent/backend-tfjs';
import { browserRequired, chromiumStatus, launchChromium, type ChromiumSession, type EntryPage, type GpuEnvironment } from '../src/index.js';
import type { ConformanceSummary } from './entries/tfjs-conformance.js';
import type { CaseInput, CaseReport, InitResult } from './entries/tfjs-optimizers.js';

/**
 * descent's TF.js optimizers on the `webgl` and `webgpu` backends, inside headless Chromium (SwiftShader here:
 * a CPU implementation of GL/Vulkan, so the shaders really run, without a GPU), against core's Float64
 * reference. One browser per backend; one page per browser; every optimizer the tfjs backend supports.
 *
 * What is measured (in the page, test/entries/tfjs-optimizers.ts): parameters and gradients are float32
 * (Math.fround) and both sides see the same numbers. For every tensor X (a parameter or one state slot) and
 * every element, after every step, the error in units of u·(|ref| + S_X), u = 2⁻²⁴: the K the element needed.
 * S_X = max|X before the step| + max|change of X in the step| (the reference's), which bounds every term that
 * entered the step's arithmetic (see backend-tfjs/test/kernels.test.ts for the same scale on the cpu backend).
 *
 * Two modes:
 * - `resync` (every configuration, STEPS steps): after each step the reference takes over the TF.js values
 *   exactly, so each comparison sees the error of one step only;
 * - `drift` (the first configuration of each optimizer): both run freely for STEPS steps; S_X accumulates the
 *   changes over all steps.
 *
 * Tolerance for GL paths. GLSL ES 3.00 (§4.5.1) and WGSL guarantee correctly rounded +, −, ×, but only 2.5 ULP
 * for division, 2 ULP for inversesqrt, "inherited from 1/inversesqrt" for sqrt (≈ 4.5 ULP), and denormals may
 * flush to zero. One ULP is ≤ 2u relative, so the worst elementary operation is ≈ 9u instead of IEEE's u.
 *
 * - Elementwise and per-tensor-norm updates (SGD … AdaBelief, LAMB, LARS, Adafactor): one step is a chain of at
 *   most ~8 such operations per element on the critical path (host scalars ×, a sum, a square root, a division,
 *   the final subtraction), each ≤ 9u relative to a term bounded by |ref| + S: 72u; the norms of LAMB/LARS/
 *   Adafactor add ≲ (n/2 + 1)u + 9u each for sums of n ≤ 144 terms, a trust ratio of two norms and a division
 *   ≲ 2·(73 + 9)u + 5u, applied to a change ≤ S. K₁ = 256 covers both.
 * - AdamAtan2's atan2: the Vulkan/WGSL precision of atan2 is 4096 ULP (GLSL ES leaves it unspecified; ANGLE
 *   lowers it to SPIR-V's Atan2). The update η·a·atan2(·) is ≤ S, so its parameter gets K₁ + 8192.
 * - Muon's Newton–Schulz (a matrix update): rounding grows by ≤ 3.44 per iteration over 5 iterations with 3
 *   products of ≤ n-term sums (n ≤ 16 here): Σ_{j<5} 3.44ʲ·3n·u ≈ 200·48u ≈ 9600u relative to max|O| ≈ 1, and
 *   the parameter's S holds η·s·max|O|: K₁ + 16384 on a Muon-routed parameter (the normwise bound of
 *   kernels.test.ts with the larger n of our [16, 9] shape). Its momentum buffer is elementwise.
 * - Shampoo: the inverse roots amplify the float32 rounding of the preconditioners by their condition number κ
 *   (see kernels.test.ts): K₁ + 8κ, with κ the largest condition number of the reference's preconditioners.
 * - SOAP: its eigenbases amplify the rounding of the preconditioners by λ_max/gap (Davis–Kahan, the first
 *   basis) and λ_max/λ_min (the QR refresh, Sun 1991), and the projections carry that into every slot and the
 *   parameter (‖Q‖₂ = 1, two products of ≤ 18 terms): K₁ + 16κ with κ the largest of both over the steps
 *   (bounds/soap.ts of the conformance kit has the full model).
 * - Drift over T steps: errors of earlier steps are carried with factors ≤ 1 (decays β < 1, relative errors of
 *   the adaptive denominators pass through at most unchanged), so K_T = T·K₁.
 *
 * Sign and threshold decisions (Lion, signSGD, Rprop, AMSGrad's max) are exact unless the pre-sign value lies
 * within rounding of zero, which these seeded data do not produce; a flipped sign shows as an error of 2η ≫ K·u·S
 * and fails.
 *
 * Memory: tf.memory().numTensors after every step equals its value after the first step, and returns to the
 * value before the optimizer once it and its variables are disposed.
 */

const ENTRY = fileURLToPath(new URL('./entries/tfjs-optimizers.ts', import.meta.url));
const CONFORMANCE_ENTRY = fileURLToPath(new URL('./entries/tfjs-conformance.ts', import.meta.url));
/** Runs per property of the conformance kit in the browser: modest, for time (DESCENT_CONFORMANCE_RUNS overrides). */
const CONFORMANCE_RUNS = Number(process.env.DESCENT_CONFORMANCE_RUNS) || 2;
const STEPS = 4;
const K1 = 256;
const SHAPES: number[][] = [[7], [3, 4], [2, 3, 2], [16, 9]];

interface Config {
  readonly label: string;
  readonly options: Record<string, unknown>;
  readonly groups?: CaseInput['groups'];
  /** Other shapes than {@link SHAPES}. */
  readonly shapes?: number[][];
  /** Other step count than {@link STEPS}. */
  readonly steps?: number;
}

/** Per optimizer: a plain configuration first (also run in drift mode), then one switching its options on. */
const CONFIGS: Readonly<Record<string, readonly Config[]>> = {
  sgd: [
    { label: 'plain', options: { lr: 0.1 } },
    { label: 'momentum, nesterov, decay, maximize', options: { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, maximize: true } },
    { label: 'momentum, dampening', options: { lr: 0.1, momentum: 0.9, dampening: 0.2 } },
  ],
  adam: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'amsgrad, decay, maximize', options: { lr: 0.05, amsgrad: true, weightDecay: 0.1, maximize: true } },
  ],
  nag: [
    { label: 'defaults', options: { lr: 0.1 } },
    { label: 'decay, maximize', options: { lr: 0.1, momentum: 0.5, weightDecay: 0.1, maximize: true } },
  ],
  adagrad: [
    { label: 'defaults', options: { lr: 0.1 } },
    { label: 'lrDecay, decay, initial accumulator, maximize', options: { lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2, maximize: true } },
  ],
  adadelta: [
    { label: 'defaults', options: {} },
    { label: 'rho, eps, decay, maximize', options: { rho: 0.5, eps: 1e-4, weightDecay: 0.1, maximize: true } },
  ],
  rmsprop: [
    { label: 'defaults', options: { lr: 0.01 } },
    { label: 'centered, momentum, decay, maximize', options: { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.1, maximize: true } },
  ],
  adamw: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'amsgrad, maximize', options: { lr: 0.05, weightDecay: 0.5, amsgrad: true, maximize: true } },
  ],
  adamax: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'decay, maximize', options: { lr: 0.05, weightDecay: 0.1, maximize: true } },
  ],
  nadam: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'decoupled decay, maximize', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true } },
  ],
  radam: [
    // ρ_t = ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ) is < t for any β₂, so the rectified branch (ρ_t > 5) needs t ≥ 6: with
    // β₂ = 0.9, ρ₆ = 5.39; 8 steps cover both branches. The default (β₂ = 0.999) stays un-rectified.
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'rectified from step 6, decoupled decay, maximize', options: { lr: 0.05, betas: [0.9, 0.9], weightDecay: 0.1, decoupledWeightDecay: true, maximize: true }, steps: 8 },
  ],
  rprop: [
    { label: 'defaults', options: { lr: 0.01 } },
    { label: 'bounds, maximize', options: { lr: 0.01, etas: [0.3, 1.5], stepSizes: [0.005, 0.03], maximize: true } },
  ],
  lamb: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'decay, debias, clamp', options: { lr: 0.05, weightDecay: 0.1, debias: true, clampValue: 0.8 } },
    { label: 'adam', options: { lr: 0.05, weightDecay: 0.1, adam: true } },
  ],
  lars: [
    { label: 'defaults', options: { lr: 1, trustCoefficient: 0.02 } },
    { label: 'nesterov, decay, trustClip', options: { lr: 0.5, nesterov: true, weightDecay: 0.01, trustCoefficient: 0.02, trustClip: true } },
    { label: 'no adapt, dampening', options: { lr: 1, dampening: 0.2, weightDecay: 0.1, alwaysAdapt: false } },
  ],
  lion: [
    { label: 'defaults', options: { lr: 0.01 } },
    { label: 'decay, maximize', options: { lr: 0.01, weightDecay: 0.5, maximize: true } },
  ],
  signsgd: [
    { label: 'defaults', options: { lr: 0.01 } },
    { label: 'signum, decay, maximize', options: { lr: 0.01, momentum: 0.9, weightDecay: 0.5, maximize: true } },
  ],
  adamAtan2: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'decay, a, b, maximize', options: { lr: 0.05, weightDecay: 0.5, b: 0.5, a: 1, maximize: true } },
  ],
  adabelief: [
    { label: 'defaults', options: { lr: 0.05, weightDecay: 0.1 } },
    { label: 'large eps, rectified from step 6 (as RAdam)', options: { lr: 0.05, eps: 1e-3, betas: [0.9, 0.9] }, steps: 8 },
    { label: 'amsgrad, L2, not rectified, maximize', options: { lr: 0.05, rectify: false, amsgrad: true, decoupledWeightDecay: false, weightDecay: 0.1, maximize: true } },
    { label: 'no SGD while intractable', options: { lr: 0.05, degeneratedToSgd: false } },
  ],
  muon: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'plain momentum, decay, matchRmsAdamw', options: { lr: 0.05, nesterov: false, weightDecay: 0.1, adjustLr: 'matchRmsAdamw' } },
  ],
  muonWithAuxAdam: [
    { label: 'auto routing', options: { lr: 0.05, adamLr: 0.01 } },
    {
      label: 'groups, decays',
      options: { lr: 0.05, adamLr: 0.01, weightDecay: 0.1, adamWeightDecay: 0.2, nesterov: false },
      groups: [{ params: ['p1'], options: { use: 'adam' } }],
    },
  ],
  shampoo: [
    { label: 'eigh', options: { lr: 0.05 } },
    { label: 'paper, momentum, decay, updateFreq', options: { lr: 0.05, exponent: 'paper', statistics: 'paper', momentum: 0.5, weightDecay: 0.1, updateFreq: 3, epsilon: 1e-2 } },
    // Small shapes only: on WebGPU/SwiftShader TF.js's matMul for outputs of ≤ 128 elements (MatMulReduceProgram)
    // takes ~70 ms, and the device iteration makes hundreds of them per step.
    { label: 'newtonSchulz', options: { lr: 0.05, inverseRoot: 'newtonSchulz', epsilon: 0.1 }, shapes: [[7], [3, 4], [2, 3, 2]] },
  ],
  adafactor: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'decay, d, maximize', options: { lr: 0.05, weightDecay: 0.5, d: 1.5, maximize: true, beta2Decay: -0.5 } },
    { label: 'separate roots (fairseq / Hugging Face)', options: { lr: 0.05, factoredRoot: 'separate' } },
  ],
  diffgrad: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'L2, eps, maximize', options: { lr: 0.05, weightDecay: 0.1, eps: 1e-3, maximize: true } },
  ],
  adanorm: [
    { label: 'r 0.5', options: { lr: 0.05, r: 0.5 } },
    { label: 'fixed decay, amsBound, maximize', options: { lr: 0.05, weightDecay: 0.1, fixedDecay: true, amsBound: true, maximize: true } },
    { label: 'L2', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: false } },
  ],
  pnm: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'fixed decay, maximize', options: { lr: 0.05, betas: [0.8, 0.5], weightDecay: 0.1, fixedDecay: true, maximize: true } },
  ],
  adopt: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'no clip, decoupled, maximize', options: { lr: 0.05, clipLambda: 'none', weightDecay: 0.1, decoupledWeightDecay: true, maximize: true } },
  ],
  ademamix: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'warmups, decay, maximize', options: { lr: 0.05, alpha: 5, alphaWarmup: 3, beta3Warmup: 4, weightDecay: 0.1, maximize: true } },
  ],
  muonTorch: [
    { label: 'defaults', options: { lr: 0.05 }, shapes: [[3, 4], [5, 2]] },
    { label: 'plain momentum, decay, matchRmsAdamw', options: { lr: 0.05, nesterov: false, weightDecay: 0.2, adjustLrFn: 'matchRmsAdamw' }, shapes: [[3, 4], [5, 2]] },
  ],
  sm3: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'momentum, beta, eps', options: { lr: 0.05, momentum: 0.9, beta: 0.9, eps: 1e-3 } },
  ],
  amos: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'momentum, extraL2, maximize', options: { lr: 0.1, beta: 0.9, momentum: 0.9, extraL2: 0.01, maximize: true } },
  ],
  scheduleFreeSgd: [
    { label: 'defaults', options: { lr: 0.1 } },
    { label: 'decay, warmup, r', options: { lr: 0.2, momentum: 0.5, weightDecay: 0.1, warmupSteps: 3, r: 1, weightLrPower: 1 } },
  ],
  scheduleFreeAdamw: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'decay at z, warmup', options: { lr: 0.05, weightDecay: 0.2, decayAtZ: true, warmupSteps: 2, r: 2, betas: [0.5, 0.9] } },
  ],
  mars: [
    { label: 'defaults', options: { lr: 0.01 } },
    { label: 'amsgrad, decay, gamma, optimize1d', options: { lr: 0.01, gamma: 0.5, weightDecay: 0.1, amsgrad: true, optimize1d: true, eps: 1e-3 } },
  ],
  adapnm: [
    { label: 'defaults', options: { lr: 0.05 } },
    { label: 'no amsBound, fixed decay, maximize', options: { lr: 0.05, betas: [0.8, 0.99, 0.5], amsBound: false, weightDecay: 0.1, fixedDecay: true, maximize: true } },
  ],
  prodigy: [
    { label: 'd0 1e-3', options: { d0: 1e-3 } },
    { label: 'L2, beta1 0, sliceP, bias correction', options: { d0: 1e-3, weightDecay: 0.1, decouple: false, betas: [0, 0.99], sliceP: 2, useBiasCorrection: true } },
  ],
  // Shapes whose mode statistics have distinct eigenvalues from the first step (a rank-deficient d × d statistic
  // with d > 2 has a repeated zero eigenvalue, whose eigenbasis no two eigensolvers choose alike).
  soap: [
    { label: 'defaults', options: { lr: 0.01 }, shapes: [[7], [3, 3], [2, 3, 3]] },
    {
      label: 'refresh every step, shampooBeta, decay, normalizeGrads',
      options: { lr: 0.01, preconditionFrequency: 1, shampooBeta: 0.8, weightDecay: 0.1, normalizeGrads: true, betas: [0.9, 0.99] },
      shapes: [[7], [3, 3], [2, 3, 3]],
    },
    { label: 'precondition1d, no bias correction', options: { lr: 0.01, precondition1d: true, correctBias: false, preconditionFrequency: 2 }, shapes: [[2], [4, 4]] },
  ],
};

/** K₁ (one step) for a tensor key (`p0`, `p0.expAvg`) of an optimizer; see the header for the derivations. */
function oneStepK(name: string, key: string, report: CaseReport): number {
  const isParam = !key.includes('.');
  const param = key.split('.')[0] as string;
  if (name === 'adamAtan2' && isParam) return K1 + 8192;
  if ((name === 'muon' || name === 'muonTorch' || name === 'muonWithAuxAdam') && isParam && report.routes[param] === 'muon') return K1 + 16384;
  if (name === 'shampoo') return K1 + 8 * (report.kappa[param] ?? 1);
  if (name === 'soap') return K1 + 16 * (report.kappa[param] ?? 1);
  return K1;
}

interface Outcome {
  passed: boolean;
  worst: number;
  where: string;
  notes: string[];
}

/** Checks one case report; returns the failures (empty when it passes) and the worst K/K_allowed. */
function judge(name: string, label: string, report: CaseReport, mode: CaseInput['mode'], steps: number): { failures: string[]; worst: number; where: string } {
  const failures: string[] = [];
  let worst = 0;
  let where = '';
  for (const [key, t] of Object.entries(report.tensors)) {
    const allowed = oneStepK(name, key, report) * (mode === 'drift' ? steps : 1);
    const ratio = t.k / allowed;
    if (ratio > worst) {
      worst = ratio;
      where = `${key} K ${t.k.toFixed(1)} of ${allowed.toFixed(0)} (${t.where})`;
    }
    if (!(t.k <= allowed)) failures.push(`${label} [${mode}] ${key}: needs K = ${t.k}, allowed ${allowed}: ${t.where}`);
  }
  if (Object.keys(report.tensors).length === 0) failures.push(`${label} [${mode}]: no tensors were compared`);
  failures.push(...report.structural.map((s) => `${label} [${mode}]: ${s}`));
  if (report.path !== 'ops') failures.push(`${label} [${mode}]: the optimizer took the ${report.path} path, not composed TF.js ops`);
  const m = report.memory;
  if (m.later.some((n) => n !== m.afterFirst)) failures.push(`${label} [${mode}]: live tensors after steps 2…: ${m.later.join(', ')}; after step 1: ${m.afterFirst}`);
  if (m.afterDispose !== m.baseline) failures.push(`${label} [${mode}]: ${m.afterDispose} live tensors after dispose, ${m.baseline} before the optimizer`);
  return { failures, worst, where };
}

/**
 * Optimizers that do not match the reference on one TF.js browser backend, by backend and name, with what was seen.
 * Found when SM3 joined (its cpu, wasm and webgl runs pass); the cause is not diagnosed yet.
 */
const BROWSER_GAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  webgpu: {
    sm3: 'on TF.js 4.22 webgpu (SwiftShader) SM3 gives NaN accumulators from its second step with beta 0.9, and wrong parameters on the first step after a state import; not diagnosed',
  },
};

/**
 * Conformance failures known and explained, recognised by their message (which cases hit them depends on the
 * kit's random draws, so they are matched by cause, not by check id). Anything else fails the test.
 */
const KNOWN_GAPS: ReadonlyArray<{ readonly reason: string; readonly matches: (message: string) => boolean }> = [
  {
    reason: "@descent/conformance's validation rows use Node's Buffer (validation.ts), which browsers lack",
    matches: (m) => m.includes('Buffer is not defined'),
  },
  {
    reason: `sm3 on webgpu: ${BROWSER_GAPS.webgpu!.sm3}`,
    matches: (m) => m.startsWith('sm3 ›') && m.includes('"tfjs-webgpu"'),
  },
];

const status = chromiumStatus();
const required = browserRequired();
const names = supportedOptimizers();

/** Skips (with the reason as the note) or, under DESCENT_REQUIRE_BROWSER=1, fails. */
function unavailable(ctx: TestContext, reason: string): never {
  if (required) throw new Error(`browser tests are required (DESCENT_REQUIRE_BROWSER=1) but cannot run: ${reason}`);
  ctx.skip(reason);
  throw new Error('unreachable');
}

if (!status.available && !required) console.warn(`[browser-test] skipping the Chromium tests: ${status.reason} (DESCENT_REQUIRE_BROWSER=1 makes this a failure)`);

const BACKENDS = [
  { backend: 'webgl', webgpu: false },
  { backend: 'webgpu', webgpu: true },
] as const;

for (const { backend, webgpu } of BACKENDS) {
  describe(`tfjs ${backend} in headless Chromium`, () => {
    let session: ChromiumSession | undefined;
    let page: EntryPage | undefined;
    let env: GpuEnvironment | undefined;
    let init: InitResult | undefined;
    let problem: string | undefined = status.available ? undefined : status.reason;
    const outcomes = new Map<string, Outcome>();
    let started = 0;

    beforeAll(async () => {
      started = performance.now();
      if (problem) return;
      session = await launchChromium({ webgpu });
      env = await session.environment();
      if (webgpu && !env.webgpuAdapter) {
        problem = `Chromium at ${status.path} offers no WebGPU adapter: ${env.webgpuProblem}`;
        return;
      }
      if (!webgpu && !env.webglRenderer) {
        problem = `Chromium at ${status.path} offers no WebGL2 context`;
        return;
      }
      page = await session.open(ENTRY, { timeoutMs: 60_000 });
      init = await page.call<InitResult>('init', { backend });
    }, 120_000);

    afterAll(async () => {
      await session?.close();
      if (!session) return;
      const t = session.timings;
      const rows = [...outcomes].map(([n, o]) => `  ${o.passed ? 'pass' : 'FAIL'}  ${n.padEnd(16)} worst ${(o.worst * 100).toFixed(1).padStart(5)}% of the allowed error  ${o.where}`);
      console.log(
        [
          `[browser-test] tfjs ${backend}: ${[...outcomes.values()].filter((o) => o.passed).length}/${outcomes.size} optimizers pass`,
          `  renderer: ${env?.webglRenderer ?? 'none'}`,
          `  webgpu adapter: ${env?.webgpuAdapter ? JSON.stringify(env.webgpuAdapter) : (env?.webgpuProblem ?? 'none')}`,
          `  tfjs ${init?.tfjsVersion ?? '?'} backend ${init?.backend ?? '?'}, flags ${JSON.stringify(init?.flags ?? {})}`,
          `  ms: launch ${t.launch.toFixed(0)}, bundle ${t.bundle.toFixed(0)}, load ${t.load.toFixed(0)}, calls ${t.calls.toFixed(0)}, total ${(performance.now() - started).toFixed(0)}`,
          ...rows,
        ].join('\n'),
      );
    });

    it('runs on the backend it names, on the GPU Chromium reports', (ctx) => {
      if (problem) unavailable(ctx, problem);
      expect(init?.backend).toBe(backend);
      expect(init?.supported).toEqual(names);
      if (webgpu) expect(env?.webgpuAdapter).not.toBeNull();
      else {
        expect(env?.webglRenderer).toBeTruthy();
        expect(env?.webglFloatRender).toBe(true);
      }
    });

    for (const name of names) {
      it(`${name} matches the reference (resync and drift) with flat memory`, async (ctx) => {
        if (problem) unavailable(ctx, problem);
        const configs = CONFIGS[name];
        if (!configs) throw new Error(`no configurations for ${name}: add it to CONFIGS in this file`);
        const failures: string[] = [];
        const outcome: Outcome = { passed: false, worst: 0, where: '', notes: [] };
        outcomes.set(name, outcome);
        const runs: Array<[Config, CaseInput['mode']]> = [...configs.map((c) => [c, 'resync'] as [Config, CaseInput['mode']]), [configs[0]!, 'drift']];
        for (const [i, [config, mode]] of runs.entries()) {
          const input: CaseInput = { name, options: config.options, shapes: config.shapes ?? SHAPES, steps: config.steps ?? STEPS, seed: 1000 + i, mode, ...(config.groups ? { groups: config.groups } : {}) };
          const report = await page!.call<CaseReport>('runCase', input, { timeoutMs: 60_000 });
          const j = judge(name, config.label, report, mode, config.steps ?? STEPS);
          failures.push(...j.failures);
          if (j.worst > outcome.worst) {
            outcome.worst = j.worst;
            outcome.where = `${config.label} [${mode}] ${j.where}`;
          }
        }
        outcome.passed = failures.length === 0;
        const gap = BROWSER_GAPS[backend]?.[name];
        // A known gap is pinned: it must still fail, so that a fix shows (then remove the entry).
        if (gap) expect(failures.length, `${name} on tfjs ${backend} is a known gap (${gap}) but passed`).toBeGreaterThan(0);
        else expect(failures, `${name} on tfjs ${backend}`).toEqual([]);
      }, 90_000);
    }

    if (!webgpu) {
      it('the GPU-residency check notices ops that ran on the CPU (WebGL CPU forwarding on)', async (ctx) => {
        if (problem) unavailable(ctx, problem);
        const other = await session!.open(ENTRY);
        try {
          await other.call('init', { backend, cpuForward: true });
          const report = await other.call<CaseReport>('runCase', { name: 'sgd', options: { lr: 0.1 }, shapes: [[3]], steps: 1, seed: 1, mode: 'resync' } satisfies CaseInput);
          expect(report.structural.join('\n')).toContain('p0 was assigned a value that is not (only) on the GPU');
        } finally {
          await other.close();
        }
      });
    }

    it(`passes the conformance kit (checkConformance, ${CONFORMANCE_RUNS} runs per property), known gaps listed`, async (ctx) => {
      if (problem) unavailable(ctx, problem);
      const conf = await session!.open(CONFORMANCE_ENTRY);
      let report: ConformanceSummary;
      try {
        await conf.call('init', { backend });
        report = await conf.call<ConformanceSummary>('conformance', { backend, numRuns: CONFORMANCE_RUNS, driftSteps: 10 }, { timeoutMs: 150_000 });
      } finally {
        await conf.close();
      }
      const gaps = new Map<string, string[]>();
      const unexpected: string[] = [];
      for (const r of report.results) {
        if (r.status === 'gap') gaps.set(r.reason ?? '', [...(gaps.get(r.reason ?? '') ?? []), r.id]);
        if (r.status !== 'failed') continue;
        const known = KNOWN_GAPS.find((g) => g.matches(r.message ?? ''));
        if (known) gaps.set(known.reason, [...(gaps.get(known.reason) ?? []), r.id]);
        else unexpected.push(r.message ?? r.id);
      }
      console.log(
        [
          `[browser-test] conformance on tfjs ${backend}: ${report.passed} passed, ${report.failed} failed (${report.failed - unexpected.length} of them known gaps), ${report.gaps} gaps declared`,
          ...[...gaps].map(([reason, ids]) => `  known gap: ${reason}:\n    ${ids.join(', ')}`),
          `  live tensors before ${report.liveTensorsBefore}, after ${report.liveTensorsAfter}`,
        ].join('\n'),
      );
      expect(unexpected, `conformance failures on tfjs ${backend} that are not known gaps`).toEqual([]);
      expect(report.liveTensorsAfter).toBe(report.liveTensorsBefore);
    }, 180_000);
  });
}
