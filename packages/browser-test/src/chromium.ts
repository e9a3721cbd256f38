import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { chromiumPath } from './availability.js';
import { bundleEntry, ENTRY_GLOBAL, type BundleOptions } from './bundle.js';
import { startServer, type PageServer } from './server.js';

/** Flags from DESIGN.md ("Facts verified on these machines"): no network chatter, no first-run UI. */
export const BASE_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * WebGPU on SwiftShader's Vulkan (no GPU needed); on a machine with a GPU, drop the SwiftShader flags to use it.
 *
 * `--use-angle=swiftshader` is needed for synchronous readback: TF.js's webgpu `dataSync` copies through an
 * OffscreenCanvas with a `webgpu` context, and with ANGLE on its default (Vulkan) backend that copy returns zeros
 * in headless Chromium 156 and leaves the device unusable ("A valid external Instance reference no longer
 * exists" on the next `mapAsync`). With ANGLE on SwiftShader GL the copy is exact.
 */
export const WEBGPU_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];

/** Which GPU the page sees. SwiftShader (a CPU implementation of Vulkan/GL) on these machines. */
export interface GpuEnvironment {
  readonly userAgent: string;
  /** WebGL2's UNMASKED_RENDERER_WEBGL (or RENDERER), or null without WebGL2. */
  readonly webglRenderer: string | null;
  readonly webglVendor: string | null;
  /** Whether float32 colour buffers exist (TF.js's webgl backend needs them for float32 textures). */
  readonly webglFloatRender: boolean;
  /** `navigator.gpu.requestAdapter()`'s info, or null with the reason in `webgpuProblem`. */
  readonly webgpuAdapter: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean } | null;
  readonly webgpuProblem?: string;
}

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** Add the WebGPU flags (see {@link WEBGPU_ARGS}). */
  readonly webgpu?: boolean;
  /** More command-line flags. */
  readonly args?: readonly string[];
  /** Milliseconds to wait for the browser to start; 30 s by default. */
  readonly launchTimeoutMs?: number;
  readonly bundle?: BundleOptions;
}

/** Milliseconds spent in each phase. */
export interface Timings {
  launch: number;
  bundle: number;
  load: number;
  calls: number;
}

/** An entry module loaded in its own page; {@link EntryPage.call} runs one of its exported functions. */
export interface EntryPage {
  readonly url: string;
  /** Console output and page errors so far, oldest first (`[warning] …`, `[pageerror] …`). */
  readonly logs: readonly string[];
  /**
   * Calls the entry's exported function `name` with `arg` (structured-cloned by Playwright: JSON plus NaN,
   * ±Infinity, −0, undefined, Date, typed arrays are not supported — use plain arrays) and resolves with its
   * (awaited) result. Rejects after `timeoutMs` (60 s by default) with the page's last log lines.
   */
  call<T = unknown>(name: string, arg?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  close(): Promise<void>;
}

/** One Chromium with a fresh profile; reuse it for many pages, since starting it is the slow part. */
export interface ChromiumSession {
  readonly webgpu: boolean;
  readonly timings: Timings;
  environment(): Promise<GpuEnvironment>;
  /** Bundles `entry` (see {@link bundleEntry}; once per session), serves it and loads it in a new page. */
  open(entry: string, options?: { timeoutMs?: number }): Promise<EntryPage>;
  close(): Promise<void>;
}

const ENV_PROBE = `(async () => {
  const out = { userAgent: navigator.userAgent, webglRenderer: null, webglVendor: null, webglFloatRender: false, webgpuAdapter: null };
  const gl = document.createElement('canvas').getContext('webgl2');
  if (gl) {
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    out.webglRenderer = String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    out.webglVendor = String(gl.getParameter(dbg ? dbg.UNMASKED_VENDOR_WEBGL : gl.VENDOR));
    out.webglFloatRender = gl.getExtension('EXT_color_buffer_float') !== null;
    const lose = gl.getExtension('WEBGL_lose_context');
    if (lose) lose.loseContext();
  }
  if (!('gpu' in navigator)) {
    out.webgpuProblem = 'navigator.gpu is missing (WebGPU disabled, or not a secure context)';
  } else {
    try {
      const a = await navigator.gpu.requestAdapter();
      if (!a) out.webgpuProblem = 'navigator.gpu.requestAdapter() returned null';
      else {
        const i = a.info || {};
        out.webgpuAdapter = { vendor: i.vendor || '', architecture: i.architecture || '', device: i.device || '',
          description: i.description || '', isFallbackAdapter: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter) };
      }
    } catch (e) { out.webgpuProblem = 'requestAdapter threw: ' + e; }
  }
  return out;
})()`;

function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(what())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const tail = (logs: readonly string[]): string => (logs.length ? `\nlast page logs:\n  ${logs.slice(-15).join('\n  ')}` : '');

class Session implements ChromiumSession {
  readonly timings: Timings = { launch: 0, bundle: 0, load: 0, calls: 0 };
  private pages = 0;
  /** Bundles by entry path: a page opened again reuses its bundle. */
  private readonly bundles = new Map<string, string>();
  constructor(
    readonly webgpu: boolean,
    private readonly context: BrowserContext,
    private readonly server: PageServer,
    private readonly profile: string,
    private readonly bundleOptions: BundleOptions,
  ) {}

  async environment(): Promise<GpuEnvironment> {
    const page = await this.context.newPage();
    try {
      await page.goto(this.server.add('probe', ''));
      return (await page.evaluate(ENV_PROBE)) as GpuEnvironment;
    } finally {
      await page.close();
    }
  }

  async open(entry: string, options: { timeoutMs?: number } = {}): Promise<EntryPage> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    let code = this.bundles.get(entry);
    if (code === undefined) {
      const bundle = await bundleEntry(entry, this.bundleOptions);
      this.timings.bundle += bundle.ms;
      code = bundle.code;
      this.bundles.set(entry, code);
    }
    const url = this.server.add(`entry${++this.pages}`, code);
    const page = await this.context.newPage();
    const logs: string[] = [];
    page.on('console', (m: ConsoleMessage) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e: Error) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    const started = performance.now();
    await page.goto(url);
    await withTimeout(
      page.waitForFunction(() => Boolean((globalThis as Record<string, unknown>).__descentReady), undefined, { timeout: 0, polling: 50 }),
      timeoutMs,
      () => `${entry}: the page did not finish loading the entry in ${timeoutMs} ms${tail(logs)}`,
    );
    this.timings.load += performance.now() - started;
    return makeEntryPage(page, url, logs, this.timings);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.server.close();
    await rm(this.profile, { recursive: true, force: true });
  }
}

function makeEntryPage(page: Page, url: string, logs: string[], timings: Timings): EntryPage {
  return {
    url,
    logs,
    async call<T>(name: string, arg?: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const started = performance.now();
      const run = page.evaluate(
        async ([key, fn, a]) => {
          const entry = (globalThis as Record<string, unknown>)[key] as Record<string, unknown>;
          const f = entry[fn];
          if (typeof f !== 'function') throw new Error(`the entry exports no function ${JSON.stringify(fn)}; it exports ${Object.keys(entry).join(', ')}`);
          return (await (f as (x: unknown) => unknown)(a)) as never;
        },
        [ENTRY_GLOBAL, name, arg] as const,
      );
      try {
        return (await withTimeout(run, timeoutMs, () => `${name}(): no answer from the page in ${timeoutMs} ms${tail(logs)}`)) as T;
      } catch (e) {
        if (e instanceof Error && !e.message.includes('last page logs')) e.message += tail(logs);
        throw e;
      } finally {
        timings.calls += performance.now() - started;
      }
    },
    close: () => page.close(),
  };
}

/**
 * Starts Debian's Chromium (never a downloaded browser) headless with a fresh profile, and a static server for
 * the entry pages. Throws when the executable is missing: check {@link chromiumStatus} first.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<ChromiumSession> {
  const started = performance.now();
  const profile = await mkdtemp(join(tmpdir(), 'descent-chromium-'));
  const server = await startServer();
  try {
    const args = [...BASE_ARGS, ...(options.webgpu ? WEBGPU_ARGS : []), ...(options.args ?? [])];
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args,
      timeout: options.launchTimeoutMs ?? 30_000,
    });
    // The persistent context opens a blank page; the entries get their own.
    for (const p of context.pages()) await p.close();
    const session = new Session(Boolean(options.webgpu), context, server, profile, options.bundle ?? {});
    session.timings.launch = performance.now() - started;
    return session;
  } catch (e) {
    await server.close();
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
}

/** Options of {@link runInChromium}. */
export interface RunOptions extends LaunchOptions {
  /** The entry module (TypeScript or JavaScript). */
  readonly entry: string;
  /** Exported function to call; `main` by default. */
  readonly call?: string;
  readonly arg?: unknown;
  /** Limit for loading the entry and for the call, each; 60 s by default. */
  readonly timeoutMs?: number;
}

/** What {@link runInChromium} returns. */
export interface RunResult<T> {
  readonly result: T;
  readonly environment: GpuEnvironment;
  readonly logs: readonly string[];
  readonly timings: Timings;
}

/** One-shot: start Chromium, load `entry`, call one function, report the GPU environment, and close it all. */
export async function runInChromium<T = unknown>(options: RunOptions): Promise<RunResult<T>> {
  const session = await launchChromium(options);
  try {
    const environment = await session.environment();
    const page = await session.open(options.entry, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    const result = await page.call<T>(options.call ?? 'main', options.arg, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    return { result, environment, logs: [...page.logs], timings: { ...session.timings } };
  } finally {
    await session.close();
  }
}
