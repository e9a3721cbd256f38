/**
 * Opens pages of the built site (docs/.vitepress/dist) in Debian's headless Chromium and reports what a reader
 * would see: whether KaTeX rendered the math (KaTeX elements present, its fonts styled, no error nodes, no raw
 * `$$` left in the text), and a screenshot of each page's first update rule. Used by test/site.test.ts and by
 * `pnpm --filter @descent/docs screenshots`, which writes docs/screenshots/.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE_ARGS, chromiumPath } from '@descent/browser-test';
import { distDir, docsRoot } from './generate.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/** A static server for a folder on 127.0.0.1 (random port); `/x/` serves `/x/index.html`. */
export async function serveStatic(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204).end(); // the site has none; Chromium asks anyway
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** What one page showed. */
export interface PageReport {
  readonly path: string;
  readonly title: string;
  /** Rendered KaTeX expressions (`.katex`), of which display blocks (`.katex-display`). */
  readonly katex: number;
  readonly katexDisplay: number;
  /** KaTeX's own error nodes (a formula it could not parse). */
  readonly katexErrors: number;
  /** Whether the visible text still holds `$$` (math the markdown plugin missed). */
  readonly rawDollars: boolean;
  /** The computed font family of the first KaTeX expression (KaTeX's stylesheet loaded: `KaTeX_Main`). */
  readonly katexFont: string;
  /** Console errors and page errors. */
  readonly errors: readonly string[];
  /** The screenshot written, when asked for. */
  readonly screenshot?: string;
}

/** Loads each page (paths such as `/optimizers/adam.html`) and reports it; screenshots go to `screenshotDir`. */
export async function checkPages(paths: readonly string[], screenshotDir?: string): Promise<PageReport[]> {
  const server = await serveStatic(resolve(distDir));
  const profile = await mkdtemp(join(tmpdir(), 'descent-docs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: [...BASE_ARGS, '--disable-gpu'],
    viewport: { width: 1200, height: 900 },
    timeout: 60_000,
  });
  try {
    if (screenshotDir) await mkdir(screenshotDir, { recursive: true });
    const reports: PageReport[] = [];
    for (const path of paths) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('response', (r) => {
        if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${server.origin}${path}`, { waitUntil: 'networkidle', timeout: 60_000 });
      const seen = await page.evaluate(() => {
        const first = document.querySelector('.katex');
        return {
          title: document.querySelector('h1')?.textContent ?? '',
          katex: document.querySelectorAll('.katex').length,
          katexDisplay: document.querySelectorAll('.katex-display').length,
          katexErrors: document.querySelectorAll('.katex-error').length,
          rawDollars: (document.querySelector('.vp-doc')?.textContent ?? document.body.innerText).includes('$$'),
          katexFont: first ? getComputedStyle(first).fontFamily : '',
        };
      });
      let screenshot: string | undefined;
      if (screenshotDir) {
        // The first update rule, in the middle of the view: what the page is for.
        const rule = page.locator('.katex-display').first();
        if ((await rule.count()) > 0) await rule.evaluate((h) => h.scrollIntoView({ block: 'center' }));
        await page.waitForTimeout(200);
        screenshot = join(screenshotDir, `${path.replace(/^\//, '').replace(/\.html$/, '').replace(/[^\w-]+/g, '-')}.png`);
        await page.screenshot({ path: screenshot });
      }
      reports.push({ path, ...seen, errors, ...(screenshot ? { screenshot } : {}) });
      await page.close();
    }
    return reports;
  } finally {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reports = await checkPages(['/optimizers/adam.html', '/optimizers/muon.html'], join(docsRoot, 'screenshots'));
  for (const r of reports) console.log(JSON.stringify(r));
}
