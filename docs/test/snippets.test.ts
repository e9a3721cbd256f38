import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addImports, docsRoot, generatePages } from '../scripts/generate.js';
import { extractSnippets, type Snippet } from '../scripts/snippets.js';
import { readDocComments } from '../scripts/tsdoc.js';

// Every ```ts block of the site is run here: the hand-written guides from disk, the generated pages as the
// generator makes them now (so a change in core's TSDoc or options is tested without a docs build).
const handWritten = ['index.md', ...readdirSync(join(docsRoot, 'guide')).filter((f) => f.endsWith('.md')).map((f) => `guide/${f}`)];
const pages = [
  ...handWritten.map((page) => ({ page, markdown: readFileSync(join(docsRoot, page), 'utf8') })),
  ...generatePages().pages.map((p) => ({ page: p.path, markdown: p.markdown })),
];
// The TSDoc of the published packages, which typedoc renders into the API reference: its examples may leave out
// the imports of their own package (added here as a reader would), and are run once each.
const packageSources = ['core', 'conformance', 'backend-tfjs', 'backend-gpujs'].flatMap((pkg) => {
  const src = join(docsRoot, '../packages', pkg, 'src');
  return (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(src, f));
});
const seenCode = new Set<string>();
const apiSnippets = packageSources.flatMap((file) =>
  readDocComments(file).flatMap(({ line, text }) =>
    extractSnippets(`${file.slice(file.indexOf('packages/'))}:${line}`, text).map((s) => ({ ...s, code: addImports(s.code) })),
  ),
);
const snippets: Snippet[] = [...pages.flatMap((p) => extractSnippets(p.page, p.markdown)), ...apiSnippets].filter((s) => {
  if (seenCode.has(s.code)) return false;
  seenCode.add(s.code);
  return true;
});
const runnable = snippets.filter((s) => s.notRunnable === undefined);
const skipped = snippets.filter((s) => s.notRunnable !== undefined);

// Snippets run from files next to the docs package, so they resolve @descent/* (to source) and TF.js as users do.
const dir = join(docsRoot, 'test/.snippets');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

describe('documentation snippets', () => {
  it('finds the snippets, and only a few are marked not runnable, each with a reason', () => {
    expect(runnable.length).toBeGreaterThan(60);
    expect(skipped.length).toBeLessThanOrEqual(6);
    for (const s of skipped) expect(s.notRunnable!.length, `${s.page}:${s.line}`).toBeGreaterThan(5);
  });

  it('an intentionally broken snippet fails the way a rotten one would', async () => {
    const file = join(dir, 'broken.ts');
    writeFileSync(file, "import { adam } from '@descent/core';\nadam({ lr: -1 });\n");
    await expect(import(pathToFileURL(file).href)).rejects.toThrow(/option "lr" must be a number in \[0, ∞\)/);
  });

  it('a snippet that fails after an await fails its test too', async () => {
    const file = join(dir, 'broken-async.ts');
    writeFileSync(file, "await Promise.resolve();\nthrow new Error('rotten after await');\n");
    await expect(import(pathToFileURL(file).href)).rejects.toThrow('rotten after await');
  });

  for (const [i, s] of runnable.entries()) {
    it(`${s.page}:${s.line}`, async () => {
      const file = join(dir, `${s.page.replace(/[^A-Za-z0-9]+/g, '_')}_${s.line}_${i}.ts`);
      writeFileSync(file, `// ${s.page}:${s.line}\n${s.code}`);
      await import(pathToFileURL(file).href);
    });
  }
});
