import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ARGS, WEBGPU_ARGS, browserRequired, chromiumStatus } from '@descent/browser-test';
import { clipGradNorm, createReference, createSpec, rosenbrock, withTransforms, type Tensor } from '@descent/core';
import { toHash, DEFAULT_STATE, type PlaygroundState } from '../src/permalink.js';

/**
 * The built playground in Debian's Chromium: two optimizers race 100 steps on Rosenbrock on every backend Chromium
 * has here (the reference, TF.js webgl and webgpu on SwiftShader, gpu.js webgl2), and the paths the page shows are
 * checked against the Float64 reference run on the gradients the page fed; a bad hyperparameter shows the
 * library's message next to its field and nothing runs; a screenshot is saved.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('./out/', import.meta.url));
const status = chromiumStatus();
const run = status.available || browserRequired() ? describe : describe.skip;

interface PageResult {
  optimizer: string;
  options: Record<string, unknown>;
  points: Array<[number, number]>;
  gradients: Array<[number, number]>;
  error: string | null;
}

run('playground in Chromium', () => {
  let server: PreviewServer;
  let page: Page;
  let base: string;
  // The WebGPU flags go only to the browser that runs the WebGPU backends, as in packages/browser-test.
  const browsers = new Map<boolean, Browser>();
  const usePage = async (webgpu: boolean): Promise<void> => {
    let browser = browsers.get(webgpu);
    if (!browser) {
      browser = await chromium.launch({ executablePath: status.path, args: [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])], headless: true });
      browsers.set(webgpu, browser);
    }
    // A new page for every race: each starts from a fresh page, as a visitor following a permalink would.
    await page?.close();
    page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    page.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
  };

  beforeAll(async () => {
    if (!status.available) throw new Error(status.reason);
    await build({ root, logLevel: 'warn', configFile: `${root}/vite.config.ts` });
    server = await preview({ root, configFile: `${root}/vite.config.ts`, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
    base = server.resolvedUrls!.local[0]!;
  }, 300_000);

  afterAll(async () => {
    for (const b of browsers.values()) await b.close();
    await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()));
  });

  /** A fresh load of the page at `state`'s permalink (a goto that changes only the fragment would not reload it). */
  const open = async (state: PlaygroundState): Promise<void> => {
    await usePage(state.backend.endsWith('webgpu'));
    await page.goto(`${base}${toHash(state)}`);
    await page.waitForFunction(() => document.body.dataset.status === 'idle', undefined, { timeout: 60_000 });
  };

  const race = async (state: PlaygroundState): Promise<PageResult[]> => {
    await open(state);
    await page.click('#play');
    await page.waitForFunction(() => document.body.dataset.status === 'done' || document.body.dataset.status === 'error', undefined, { timeout: 240_000 });
    expect(await page.textContent('#status')).toMatch(/^step 100 \/ 100 on /);
    return page.evaluate(() => (globalThis as unknown as { __playground: { results(): PageResult[] } }).__playground.results());
  };

  /**
   * The reference run on the gradients the page fed (rounded to float32, as the backends got them), from the same start: the
   * page's path must be within `bound` of it at every step. The replayed gradients remove the landscape's own
   * amplification of rounding differences, so what is left is the backend's arithmetic.
   */
  const replay = (r: PageResult, start: readonly [number, number], clip: number | null): Array<[number, number]> => {
    const xy: Tensor = { shape: [2], data: Float64Array.from(start) };
    const spec = createSpec(r.optimizer, r.options);
    const opt = createReference(clip === null ? spec : withTransforms(spec, clipGradNorm({ maxNorm: clip })), { xy });
    const path: Array<[number, number]> = [[xy.data[0]!, xy.data[1]!]];
    // The float32 backends were fed the gradients rounded to float32 (Float32Array.from): so is the replay.
    for (const g of r.gradients) {
      opt.step({ xy: { shape: [2], data: Float64Array.from(g, Math.fround) } });
      path.push([xy.data[0]!, xy.data[1]!]);
    }
    return path;
  };

  const state: PlaygroundState = { ...DEFAULT_STATE, fn: 'rosenbrock', steps: 100, clip: 1, racers: [{ optimizer: 'adam', options: { lr: 0.05 } }, { optimizer: 'rmsprop', options: { lr: 0.01 } }] };

  it('reference: the page reproduces the Float64 reference bit for bit (closure gradients at the page\'s points)', async () => {
    const results = await race({ ...state, backend: 'reference' });
    expect(results.map((r) => r.optimizer)).toEqual(['adam', 'rmsprop']);
    for (const r of results) {
      expect(r.error).toBeNull();
      expect(r.points).toHaveLength(101);
      // The same optimizer in Node, gradients from core's Rosenbrock at its own points.
      const xy: Tensor = { shape: [2], data: Float64Array.from(rosenbrock.start) };
      const opt = createReference(withTransforms(createSpec(r.optimizer, r.options), clipGradNorm({ maxNorm: 1 })), { xy });
      const g = new Float64Array(2);
      for (let t = 0; t < 100; t++) opt.step(() => ({ xy: { shape: [2], data: rosenbrock.gradient(xy.data, g) } }));
      expect(r.points[100]).toEqual([xy.data[0], xy.data[1]]);
    }
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: `${out}/playground.png` });
  });

  // Per step the kit allows k·u·S with S the sum of the magnitudes of the update's terms, k = 8 for IEEE float32
  // and doubled for shader paths; here S ≤ |θ| + lr·(a few terms of the update, each ≤ 1 with Adam's and RMSprop's
  // normalised steps), and θ accumulates one step's error per step (the replay feeds the same gradients, and the
  // moments' errors decay geometrically). So |θ_page − θ_ref| ≤ Σₜ k·u·(|θₜ| + 4·lr) with k = 64 bounds all four paths.
  const U = 2 ** -24;
  const checkAgainstReplay = (backend: string, results: PageResult[], clip: number | null): void => {
    for (const r of results) {
      expect(r.error, `${backend} ${r.optimizer}`).toBeNull();
      expect(r.points).toHaveLength(101);
      const start: [number, number] = [Math.fround(rosenbrock.start[0]!), Math.fround(rosenbrock.start[1]!)];
      const ref = replay(r, start, clip);
      const lr = r.options.lr as number;
      let budget = 0;
      let worst = 0;
      for (let t = 1; t <= 100; t++) {
        budget += 64 * U * (Math.hypot(...ref[t - 1]!) + 4 * lr);
        const error = Math.max(Math.abs(r.points[t]![0] - ref[t]![0]), Math.abs(r.points[t]![1] - ref[t]![1]));
        expect(error, `${backend} ${r.optimizer} step ${t}`).toBeLessThanOrEqual(budget);
        worst = Math.max(worst, error / budget);
      }
      console.log(`playground ${backend} ${r.optimizer}: largest error ${(100 * worst).toFixed(1)}% of the budget over 100 steps`);
      // And it moved: the race is not vacuous.
      expect(Math.hypot(r.points[100]![0] - start[0], r.points[100]![1] - start[1])).toBeGreaterThan(0.1);
    }
  };

  for (const backend of ['tfjs-webgl', 'tfjs-webgpu', 'tfjs-wasm', 'gpujs-webgpu'] as const) {
    it(`${backend}: 100 steps within the float32 bound of the reference replayed on the page's gradients`, async () => {
      checkAgainstReplay(backend, await race({ ...state, backend }), 1);
    });
  }

  it("gpujs-webgl2: 100 steps within the float32 bound of the reference replayed on the page's gradients", async () => {
    checkAgainstReplay('gpujs-webgl2', await race({ ...state, backend: 'gpujs-webgl2' }), 1);
  });

  it('a bad hyperparameter shows the library\'s message next to its field, and nothing runs', async () => {
    await open({ ...state, backend: 'reference' });
    await page.fill('.racer[data-optimizer="adam"] input[data-option="lr"]', '-1');
    await page.waitForFunction(() => document.body.dataset.status === 'error');
    expect(await page.textContent('.racer[data-optimizer="adam"] [data-error-for="lr"]')).toBe('adam: option "lr" must be a number in [0, ∞), got -1');
    await page.fill('.racer[data-optimizer="rmsprop"] input[data-option="alpha"]', 'often');
    expect(await page.textContent('.racer[data-optimizer="rmsprop"] [data-error-for="alpha"]')).toBe('rmsprop: option "alpha" must be a number in [0, 1], got "often"');
    await page.click('#play');
    await page.click('#step');
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as unknown as { __playground: { stepCount(): number } }).__playground.stepCount())).toBe(0);
    expect(await page.textContent('#status')).toBe('fix the options marked in red: nothing runs until the library accepts them');
    await page.screenshot({ path: `${out}/playground-error.png` });
  });

  it('a typed expression races with its symbolic gradient; clicking the picture moves the start there', async () => {
    await open({ ...state, backend: 'reference', fn: 'custom', expr: '(x - 1)^2 + 3 * (y + 0.5)^2', steps: 100 });
    expect(await page.textContent('#gradient-source')).toBe('gradient: symbolic derivative (mathjs), checked against central differences');
    // The centre of the 480-pixel picture of [−3, 3]² is (0, 0).
    await page.click('#surface', { position: { x: 240, y: 240 } });
    const start = await page.evaluate(() => (globalThis as unknown as { __playground: { state(): { start: [number, number] } } }).__playground.state().start);
    expect(Math.abs(start[0])).toBeLessThan(0.02);
    expect(Math.abs(start[1])).toBeLessThan(0.02);
    await page.click('#play');
    await page.waitForFunction(() => document.body.dataset.status === 'done');
    const results = await page.evaluate(() => (globalThis as unknown as { __playground: { results(): PageResult[] } }).__playground.results());
    // Adam (lr 0.05) ends near the minimum (1, −0.5) of the bowl.
    const end = results[0]!.points[100]!;
    expect(Math.hypot(end[0] - 1, end[1] + 0.5)).toBeLessThan(0.2);
    await page.fill('#expr', 'x +* y');
    await page.dispatchEvent('#expr', 'change');
    expect(await page.textContent('#race-error')).toMatch(/^cannot parse the expression: /);
  });

  it('the training tab trains the spiral network with the race\'s optimizers and draws the curves', async () => {
    await open({ ...state, backend: 'reference' });
    await page.click('[data-tab="train-tab"]');
    await page.click('#train-run');
    await page.waitForFunction(() => document.getElementById('train-status')!.textContent!.startsWith('step 400 / 400'), undefined, { timeout: 120_000 });
    const text = (await page.textContent('#train-status'))!;
    // Both optimizers fit the spiral well past chance (1/3).
    for (const m of text.matchAll(/accuracy ([\d.]+)/g)) expect(Number(m[1])).toBeGreaterThan(0.6);
    expect([...text.matchAll(/accuracy/g)]).toHaveLength(2);
    await page.screenshot({ path: `${out}/playground-train.png` });
  });
});
