/**
 * `@descent/browser-test`: runs test entries inside headless Chromium (Debian's, never a downloaded one), for the
 * TF.js `webgl`/`webgpu` backends and gpu.js's browser modes.
 *
 * An entry is an ES module (TypeScript is fine) that imports what it needs, workspace packages included; the
 * harness bundles it with esbuild (`@descent/source` condition, browser platform), serves it on 127.0.0.1 and
 * loads it in a page; Node then calls its exported functions, which return JSON-like results.
 *
 * @example
 * ```ts
 * const { result, environment } = await runInChromium({ entry: 'test/entries/probe.ts', webgpu: true, call: 'main' });
 * console.log(environment.webgpuAdapter, result);
 * ```
 *
 * @packageDocumentation
 */
export { browserRequired, chromiumPath, chromiumStatus } from './availability.js';
export { bundleEntry, ENTRY_GLOBAL, type Bundle, type BundleOptions } from './bundle.js';
export {
  BASE_ARGS,
  WEBGPU_ARGS,
  launchChromium,
  runInChromium,
  type ChromiumSession,
  type EntryPage,
  type GpuEnvironment,
  type LaunchOptions,
  type RunOptions,
  type RunResult,
  type Timings,
} from './chromium.js';
export { startServer, type PageServer } from './server.js';
