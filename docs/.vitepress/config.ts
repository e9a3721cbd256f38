import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { katex, type MarkdownItKatexOptions } from '@mdit/plugin-katex';
import { defineConfig, type DefaultTheme } from 'vitepress';

// Written by scripts/generate.ts before every build (`pnpm docs:build` runs it first).
const sidebarFile = fileURLToPath(new URL('./sidebar.generated.json', import.meta.url));
if (!existsSync(sidebarFile)) throw new Error('docs/.vitepress/sidebar.generated.json is missing: run `pnpm docs:build` (it generates the pages first)');
const generated = JSON.parse(readFileSync(sidebarFile, 'utf8')) as Record<'optimizers' | 'transforms' | 'schedules', DefaultTheme.SidebarItem[]>;

// KaTeX writes MathML next to its HTML (for screen readers); Vue must leave those elements alone.
const mathMl = new Set(['math', 'annotation', 'semantics', 'mrow', 'mi', 'mn', 'mo', 'ms', 'mspace', 'mtext', 'msub', 'msup', 'msubsup', 'mfrac', 'msqrt', 'mroot', 'mstyle', 'mtable', 'mtr', 'mtd', 'mover', 'munder', 'munderover', 'mpadded', 'mphantom', 'menclose', 'mlabeledtr', 'none', 'mprescripts', 'mmultiscripts', 'merror']);

const guides: DefaultTheme.SidebarItem[] = [
  { text: 'Getting started', link: '/guide/getting-started' },
  { text: 'Param groups, Muon + auxiliary Adam', link: '/guide/param-groups' },
  { text: 'Saving and resuming state', link: '/guide/state' },
  { text: 'TF.js model.fit', link: '/guide/tfjs-layers' },
  { text: 'Verify your backend', link: '/guide/conformance' },
  { text: 'Numerics', link: '/guide/numerics' },
  { text: 'The CLI', link: '/guide/cli' },
  { text: 'Architecture', link: '/architecture' },
];

export default defineConfig({
  title: 'descent',
  description: 'Deep-learning optimizers in TypeScript, specified by a readable Float64 reference.',
  // Pages outside the site: benchmark logs, the screenshot folder, the generator and its tests.
  srcExclude: ['bench/**', 'screenshots/**', 'scripts/**', 'test/**', 'figures/**', 'README.md'],
  cleanUrls: false,
  lastUpdated: false,
  // Broken internal links fail the build (VitePress's default, kept on deliberately).
  ignoreDeadLinks: false,
  markdown: {
    config(md) {
      const options: MarkdownItKatexOptions = { output: 'htmlAndMathml', throwOnError: true };
      // VitePress and @mdit/plugin-katex are typed against two releases of @types/markdown-it (14.1 / 14.2) that
      // differ only in utils; the plugin works with VitePress's markdown-it 14 at run time.
      md.use(katex as unknown as Parameters<typeof md.use>[0], options);
    },
  },
  vue: { template: { compilerOptions: { isCustomElement: (tag) => mathMl.has(tag) } } },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Optimizers', link: '/optimizers/' },
      { text: 'Transforms', link: '/transforms/' },
      { text: 'Schedules', link: '/schedules/' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/guide/': [{ text: 'Guides', items: guides }],
      '/architecture': [{ text: 'Guides', items: guides }],
      '/optimizers/': [{ text: 'Optimizers', link: '/optimizers/', items: generated.optimizers }, { text: 'Lookahead', link: '/lookahead' }],
      '/lookahead': [{ text: 'Optimizers', link: '/optimizers/', items: generated.optimizers }, { text: 'Lookahead', link: '/lookahead' }],
      '/transforms/': [{ text: 'Gradient transforms', link: '/transforms/', items: generated.transforms }],
      '/schedules/': [{ text: 'Schedules', link: '/schedules/', items: generated.schedules }],
      // typedoc's entry points (docs/typedoc.json), one module page each.
      '/api/': [
        {
          text: 'API reference',
          link: '/api/',
          items: ['core', 'conformance', 'conformance/vitest', 'backend-tfjs', 'backend-tfjs/bench', 'backend-gpujs', 'backend-gpujs/bench'].map((m) => ({
            text: `@descent/${m}`,
            link: `/api/${m}/`,
          })),
        },
      ],
    },
    search: { provider: 'local' },
    outline: [2, 3],
  },
});
