import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definitions, fullSchema, scheduleDefinitions, transformDefinitions } from '@descent/core';
import { kernels as gpujsKernels } from '@descent/backend-gpujs';
import { generatePages, tsdocToMarkdown } from '../scripts/generate.js';

const figuresDir = mkdtempSync(join(tmpdir(), 'descent-figures-'));
// Stand-in figure files in a temporary folder (the real ones come from `descent race --figures`).
writeFileSync(join(figuresDir, 'rosenbrock_adam.gif'), 'GIF89a');
writeFileSync(join(figuresDir, 'beale_muon.png'), 'png');
afterAll(() => rmSync(figuresDir, { recursive: true, force: true }));

const { pages, sidebar } = generatePages({ figuresDir });
const page = (path: string): string => {
  const p = pages.find((x) => x.path === path);
  if (!p) throw new Error(`no page ${path}`);
  return p.markdown;
};

describe('generated reference pages', () => {
  it('has one page per optimizer, transform and schedule of the registries, plus Lookahead and the indexes', () => {
    for (const name of definitions.keys()) expect(pages.map((p) => p.path)).toContain(`optimizers/${name}.md`);
    for (const name of transformDefinitions.keys()) expect(pages.map((p) => p.path)).toContain(`transforms/${name}.md`);
    for (const name of scheduleDefinitions.keys()) expect(pages.map((p) => p.path)).toContain(`schedules/${name}.md`);
    expect(pages.length).toBe(definitions.size + transformDefinitions.size + scheduleDefinitions.size + 1 + 3);
    expect(sidebar.optimizers!.map((e) => e.text)).toEqual([...definitions.keys()]);
  });

  it('renders the update rule from the TSDoc and an options row for every option of the schema', () => {
    for (const [name, def] of definitions) {
      const md = page(`optimizers/${name}.md`);
      expect(md, name).toMatch(/\n\$\$\n[\s\S]+?\n\$\$\n/);
      for (const key of Object.keys(fullSchema(def as never))) expect(md, `${name}.${key}`).toContain(`| \`${key}\` |`);
    }
    expect(page('optimizers/adam.md')).toContain('\\hat v_t &= \\max(\\hat v_{t-1}, v_t)');
    expect(page('optimizers/adam.md')).toContain('**Formulation:** following `torch.optim.Adam`');
    expect(page('optimizers/adam.md')).toContain('**Paper:** Kingma & Ba');
  });

  it('lists state slots with their memory, and the options that add slots', () => {
    const adam = page('optimizers/adam.md');
    expect(adam).toContain('| 1024 × 512 | `expAvg` (1024 × 512), `expAvgSq` (1024 × 512) | 2 | 8 / 16 |');
    expect(adam).toContain('with `amsgrad: true`: adds `maxExpAvgSq`');
    expect(page('optimizers/muon.md')).toMatch(/\| 1024 \| refused: /);
  });

  it('takes backends from the kernel registries and gaps from the conformance plan', () => {
    for (const name of definitions.keys()) {
      expect(page(`optimizers/${name}.md`)).toContain(`| \`@descent/backend-gpujs\` | ${name in gpujsKernels ? 'yes' : 'no'} |`);
    }
    expect(page('optimizers/adam.md')).toMatch(/\| gpu\.js headlessgl, webgl2, webgpu \| `adam\/non-finite` \| GLSL drops NaN/);
  });

  it('shows a figure when its file exists and a placeholder otherwise', () => {
    const adam = page('optimizers/adam.md');
    expect(adam).toContain('![adam on rosenbrock](../figures/rosenbrock_adam.gif)');
    expect(adam).toContain('- rastrigin: no figure in docs/figures: `pnpm descent race --figures docs/figures --fn rastrigin --optimizers adam --size 240 --frames 40` draws it');
    expect(adam).not.toContain('- rosenbrock: no figure');
    expect(page('optimizers/muon.md')).toContain('![muon on beale](../figures/beale_muon.png)');
  });

  it('turns {@link} into page links and escapes what Vue would read as markup', () => {
    const link = (n: string) => (n === 'adamw' ? '../optimizers/adamw.md' : undefined);
    expect(tsdocToMarkdown('see {@link adamwDefinition} and {@link other}', link)).toBe('see [`adamw`](../optimizers/adamw.md) and `other`');
    expect(tsdocToMarkdown('a < b {{ x }} `a < b` $$\n a < b\n$$', link)).toBe('a &lt; b &#123;&#123; x }} `a < b` \n$$\n a < b\n$$\n');
  });
});
