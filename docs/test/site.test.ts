import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { browserRequired, chromiumStatus } from '@descent/browser-test';
import { distDir, docsRoot } from '../scripts/generate.js';
import { pageProblems } from '../scripts/check-dist.js';
import { checkPages, type PageReport } from '../scripts/site-check.js';

// The built site in Debian's headless Chromium: two optimizer pages and a guide, KaTeX rendered, no raw `$$`,
// no console errors, and a screenshot of each (into a temporary folder; `pnpm --filter @descent/docs screenshots`
// writes the committed ones). Without a build (a fresh clone running `pnpm test`) the site is built first.
const status = chromiumStatus();
const required = browserRequired();
if (!status.available && !required) console.warn(`[docs] skipping the Chromium checks of the site: ${status.reason} (DESCENT_REQUIRE_BROWSER=1 makes this a failure)`);

function unavailable(ctx: TestContext, reason: string): void {
  if (required) throw new Error(`browser tests are required (DESCENT_REQUIRE_BROWSER=1) but cannot run: ${reason}`);
  ctx.skip(reason);
}

describe('the built documentation site', () => {
  const shots = mkdtempSync(join(tmpdir(), 'descent-docs-shots-'));
  let reports: PageReport[] = [];
  beforeAll(async () => {
    if (!existsSync(join(distDir, 'optimizers/adam.html'))) execFileSync('pnpm', ['run', 'site'], { cwd: docsRoot, stdio: 'inherit', timeout: 300_000 });
    if (status.available) reports = await checkPages(['/optimizers/adam.html', '/optimizers/muon.html', '/guide/numerics.html'], shots);
  }, 360_000);
  afterAll(() => rmSync(shots, { recursive: true, force: true }));

  it('the dist check finds unrendered math (it is not vacuous)', () => {
    expect(pageProblems('optimizers/x.html', '<p>$$ a $$</p>')).toEqual(['raw $$ left in the text (math not rendered)', 'no rendered update rule']);
    expect(pageProblems('optimizers/x.html', '<p><span class="katex-display">…</span> <code>$$</code></p>')).toEqual([]);
    expect(pageProblems('optimizers/adam.html', readFileSync(join(distDir, 'optimizers/adam.html'), 'utf8'))).toEqual([]);
  });

  for (const [i, title] of ['Adam', 'Muon', 'Numerics'].entries()) {
    it(`renders the math of the ${title} page in Chromium`, (ctx) => {
      if (!status.available) return unavailable(ctx, status.reason);
      const r = reports[i]!;
      expect(r.title).toContain(title);
      expect(r.katex).toBeGreaterThan(0);
      expect(r.katexDisplay).toBeGreaterThan(0);
      expect(r.katexErrors).toBe(0);
      expect(r.rawDollars).toBe(false);
      expect(r.katexFont).toContain('KaTeX_Main'); // KaTeX's stylesheet is loaded, not only its markup
      expect(r.errors).toEqual([]);
      const png = readFileSync(r.screenshot!);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.length).toBeGreaterThan(10_000);
    });
  }
});
