import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, it } from 'vitest';
import { browserRequired, chromiumStatus, launchChromium, type ChromiumSession, type EntryPage, type GpuEnvironment } from '../src/index.js';

/** The page entry of the gpu.js browser tests. */
export const GPUJS_ENTRY = fileURLToPath(new URL('./entries/gpujs.ts', import.meta.url));
/** Modules the entry's imports name but never call in the page (see the entry's header). */
export const GPUJS_EMPTY = ['node:module', 'vitest', '@descent/conformance/vitest'];

/**
 * Registers the hooks of a gpu.js browser suite (gpujs-browser.test.ts for webgl2, gpujs-webgpu-browser.test.ts for
 * webgpu): one Chromium, one page with test/entries/gpujs.ts, closed after the suite with its timings logged. Call
 * inside the suite's `describe`. Without Chromium it registers a skipped test saying so (a failing one under
 * DESCENT_REQUIRE_BROWSER=1) and returns undefined.
 */
export function gpujsPage(label: string, webgpu: boolean): { page: () => EntryPage; environment: () => GpuEnvironment | undefined } | undefined {
  const status = chromiumStatus();
  if (!status.available) {
    if (browserRequired()) {
      it('needs Chromium', () => {
        throw new Error(`DESCENT_REQUIRE_BROWSER=1 but ${status.reason}`);
      });
    } else {
      it.skip(`Chromium is not available: ${status.reason}`, () => {});
    }
    return undefined;
  }
  let session: ChromiumSession | undefined;
  let page: EntryPage | undefined;
  let environment: GpuEnvironment | undefined;
  const started = performance.now();
  beforeAll(async () => {
    session = await launchChromium({ webgpu, bundle: { empty: GPUJS_EMPTY } });
    environment = await session.environment();
    page = await session.open(GPUJS_ENTRY);
  }, 90_000);
  afterAll(async () => {
    if (session) console.info(`${label}: ${JSON.stringify(session.timings)} ms; total ${Math.round(performance.now() - started)} ms`);
    await session?.close();
  });
  return {
    page: () => {
      if (!page) throw new Error('the page did not load');
      return page;
    },
    environment: () => environment,
  };
}
