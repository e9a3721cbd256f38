import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { browserRequired, bundleEntry, chromiumStatus, launchChromium, runInChromium, type ChromiumSession, type EntryPage } from '../src/index.js';

/** The harness itself: bundling, serving, calling exported functions, errors, timeouts, logs. */

const ECHO = fileURLToPath(new URL('./entries/echo.ts', import.meta.url));
const status = chromiumStatus();

function needBrowser(ctx: TestContext): void {
  if (status.available) return;
  if (browserRequired()) throw new Error(`browser tests are required (DESCENT_REQUIRE_BROWSER=1) but cannot run: ${status.reason}`);
  ctx.skip(status.reason);
}

describe('bundleEntry', () => {
  it('puts one copy of @tensorflow/tfjs-core in the bundle, whoever imports it', async () => {
    // pnpm keeps one tfjs-core per peer set; the entry and @descent/backend-tfjs may resolve different ones.
    const bundle = await bundleEntry(fileURLToPath(new URL('./entries/tfjs-optimizers.ts', import.meta.url)));
    const engines = bundle.inputs.filter((f) => f.endsWith('tfjs-core/dist/engine.js'));
    expect(engines).toHaveLength(1);
    // Workspace packages come from their sources (the @descent/source condition).
    expect(bundle.inputs.some((f) => f.endsWith('packages/backend-tfjs/src/optimizer.ts'))).toBe(true);
    expect(bundle.inputs.some((f) => f.endsWith('packages/core/src/reference.ts'))).toBe(true);
  }, 30_000);

  it('without deduplication the same entry would hold more than one tfjs-core (so the test above can fail)', async (ctx) => {
    const bundle = await bundleEntry(fileURLToPath(new URL('./entries/tfjs-optimizers.ts', import.meta.url)), { dedupe: [] });
    const engines = bundle.inputs.filter((f) => f.endsWith('tfjs-core/dist/engine.js'));
    if (engines.length === 1) ctx.skip('every importer resolves the same tfjs-core here, so there is nothing to deduplicate');
    expect(engines.length).toBeGreaterThan(1);
  }, 30_000);
});

describe('runInChromium', () => {
  it('loads an entry, calls one function with an argument, and reports the GPU', async (ctx) => {
    needBrowser(ctx);
    const run = await runInChromium<{ doubled: number[]; special: number[] }>({ entry: ECHO, call: 'double', arg: { values: [1, 2.5, -3] } });
    expect(run.result.doubled).toEqual([2, 5, -6]);
    // Playwright's serializer keeps NaN, ±Infinity and −0, which JSON would lose.
    expect(run.result.special).toEqual([Number.NaN, Number.POSITIVE_INFINITY, -0]);
    expect(Object.is(run.result.special[2], -0)).toBe(true);
    expect(run.logs).toContain('[log] doubling 3 values');
    expect(run.environment.userAgent).toContain('HeadlessChrome');
    expect(run.environment.webglRenderer).toBeTruthy();
    expect(run.timings.launch).toBeGreaterThan(0);
  }, 60_000);
});

describe('a Chromium session', () => {
  let session: ChromiumSession | undefined;
  let page: EntryPage | undefined;
  beforeAll(async () => {
    if (!status.available) return;
    session = await launchChromium();
    page = await session.open(ECHO);
  }, 60_000);
  afterAll(async () => {
    await session?.close();
  });

  it('awaits async functions and serves from a secure origin (127.0.0.1)', async (ctx) => {
    needBrowser(ctx);
    expect(await page!.call('later', 20)).toBe('waited 20 ms');
    expect(await page!.call('secure')).toBe(true);
    expect(page!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/entry\d+\.html$/);
  });

  it("passes on the page's exception with its message", async (ctx) => {
    needBrowser(ctx);
    await expect(page!.call('fail')).rejects.toThrow('fail() was asked to fail');
  });

  it('names the function an entry does not export, and lists those it does', async (ctx) => {
    needBrowser(ctx);
    await expect(page!.call('nope')).rejects.toThrow(/exports no function "nope"; it exports .*double/);
  });

  it('gives up on a call after its timeout, with the last page logs', async (ctx) => {
    needBrowser(ctx);
    await page!.call('double', { values: [1] });
    await expect(page!.call('hang', undefined, { timeoutMs: 300 })).rejects.toThrow(/^hang\(\): no answer from the page in 300 ms\nlast page logs:\n {2}\[log\] doubling 1 values/);
  });

  it('reuses the bundle when an entry is opened again', async (ctx) => {
    needBrowser(ctx);
    const before = session!.timings.bundle;
    const again = await session!.open(ECHO);
    expect(session!.timings.bundle).toBe(before);
    expect(await again.call('later', 1)).toBe('waited 1 ms');
    await again.close();
  });
});
