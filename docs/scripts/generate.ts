/**
 * Generates the reference pages of the site from the code: one page per optimizer, gradient transform and
 * schedule, and Lookahead's. Everything on them comes from somewhere that the tests or the backends use:
 * core's registries (names, titles, option schemas, state slots), the TSDoc of each definition and factory
 * (read with the TypeScript compiler API: paper, formulation, the update rule in LaTeX, examples), each
 * backend's own kernel registry, and the conformance kit's plan (its gaps, with their reasons). Run it with
 * `pnpm --filter @descent/docs generate` (the docs build does); the pages it writes are not committed.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@descent/core';
import {
  commonSchema,
  definitions,
  describeInterval,
  lookaheadSchema,
  scheduleDefinitions,
  testFunctions,
  transformDefinitions,
  type OptionSchema,
  type OptionsSchema,
  type OptionValue,
} from '@descent/core';
import * as conformance from '@descent/conformance';
import { declaredGaps, type DeclaredGap } from '@descent/conformance';
import { backendConfigurations } from '@descent/cli/optimizers';
import * as tfjs from '@descent/backend-tfjs';
import * as gpujs from '@descent/backend-gpujs';
import { readDefinitionDocs, readFunctionDoc, readInterfaceDocs, type DefinitionDoc } from './tsdoc.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The docs folder (the VitePress source root). */
export const docsRoot = resolve(here, '..');
/** Where `vitepress build` writes the site. */
export const distDir = join(docsRoot, '.vitepress/dist');
const coreSrc = resolve(docsRoot, '../packages/core/src');

/** A page written by the generator: path relative to the docs root, and its markdown. */
export interface Page {
  readonly path: string;
  readonly markdown: string;
}

/** The test functions trajectory figures are drawn on (`descent race --figures` writes `<fn>_<optimizer>.gif|png`). */
const figureFunctions = [...testFunctions.keys()];

function allDocs(folder: string): Map<string, DefinitionDoc> {
  const out = new Map<string, DefinitionDoc>();
  for (const f of readdirSync(join(coreSrc, folder)).sort()) {
    if (!f.endsWith('.ts')) continue;
    for (const d of readDefinitionDocs(join(coreSrc, folder, f))) out.set(d.name, d);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- markdown helpers

/** Page link of a definition name, from a page in `fromFolder`. */
type Linker = (name: string) => string | undefined;

/**
 * TSDoc text → markdown: `{@link x}` becomes a link to x's page when x is documented on the site, else code; text
 * outside math and code has `<` and `{{` escaped (VitePress compiles markdown as a Vue template).
 */
export function tsdocToMarkdown(text: string, link: Linker): string {
  const parts = text.split(/(\$\$[\s\S]*?\$\$|```[\s\S]*?```|`[^`\n]*`)/);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return part.startsWith('$$') ? `\n${part}\n` : part;
      return part
        .replace(/\{@link\s+([^}\s|]+)(?:\s*\|\s*([^}]+)|\s+([^}]+))?\}/g, (_m, target: string, alt1?: string, alt2?: string) => {
          const label = (alt1 ?? alt2 ?? target).trim();
          const base = target.replace(/Definition$/, '');
          const href = link(base);
          return href ? `[\`${label === target ? base : label}\`](${href})` : `\`${label}\``;
        })
        .replace(/</g, '&lt;')
        .replace(/\{\{/g, '&#123;&#123;');
    })
    .join('');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

function showValue(v: OptionValue | undefined): string {
  if (v === undefined) return '—';
  if (Array.isArray(v)) return `\`[${v.join(', ')}]\``;
  return `\`${typeof v === 'string' || typeof v === 'object' ? JSON.stringify(v) : String(v)}\``;
}

/** The range column: core's own interval text (the one its error messages use). */
export function rangeOf(s: OptionSchema): string {
  switch (s.type) {
    case 'number':
      return describeInterval(s);
    case 'pair':
      return `a pair: ${describeInterval(s.items[0])}, ${describeInterval(s.items[1])}`;
    case 'triple':
      return `a triple: ${s.items.map(describeInterval).join(', ')}`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${s.values.map((v) => `\`"${v}"\``).join(', ')}`;
    case 'view':
      return 'a matrix view `{ rows: [axes…], cols: [axes…] }`: distinct integer axes of the parameter, negative counting from the end';
  }
}

function optionsTable(
  schema: OptionsSchema,
  docs: ReadonlyMap<string, string>,
  link: Linker,
  extra: { required?: readonly string[]; extraNames?: readonly string[]; common?: boolean } = {},
): string {
  const rows = ['| option | default | range | meaning |', '| --- | --- | --- | --- |'];
  const required = new Set(extra.required ?? []);
  const meaning = (key: string, fallback: string): string => cell(tsdocToMarkdown(docs.get(key) ?? fallback, link));
  for (const [key, s] of Object.entries(schema)) {
    const def = required.has(key) ? '**required**' : showValue(s.default);
    rows.push(`| \`${key}\` | ${def} | ${cell(rangeOf(s))} | ${meaning(key, s.doc)} |`);
  }
  for (const key of extra.extraNames ?? []) {
    rows.push(`| \`${key}\` | ${required.has(key) ? '**required**' : 'see meaning'} | see meaning | ${meaning(key, '')} |`);
  }
  if (extra.common) {
    for (const [key, s] of Object.entries(commonSchema)) {
      rows.push(`| \`${key}\` | ${showValue(s.default)} | ${cell(rangeOf(s))} | ${cell(s.doc)} Whole optimizer only, not per group; see [Getting started](../guide/getting-started.md#non-finite-gradients). |`);
    }
  }
  return rows.join('\n');
}

/** The packages whose exports a TSDoc example may use without importing them (the example's own package). */
const exampleModules: ReadonlyArray<readonly [string, object]> = [
  ['@descent/core', core],
  ['@descent/conformance', conformance],
  ['@descent/backend-tfjs', tfjs],
  ['@descent/backend-gpujs', gpujs],
];

/**
 * A TSDoc example's code with the imports it leaves out: each name it uses that one of descent's packages exports
 * (first package wins) is imported from there. Code that has its own `import` lines is returned as it is.
 */
export function addImports(body: string): string {
  if (/^\s*import\s/m.test(body)) return body;
  // Names the snippet declares itself (`const opt = …`) or reads as properties (`opt.step`) are not imports.
  const declared = new Set([...body.matchAll(/\b(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  const taken = new Set<string>();
  const lines: string[] = [];
  for (const [module, exports] of exampleModules) {
    const used = Object.keys(exports).filter((k) => !taken.has(k) && !declared.has(k) && new RegExp(`(?<![.\\w$])${k.replace(/\$/g, '\\$')}\\b`).test(body));
    for (const k of used) taken.add(k);
    if (used.length) lines.push(`import { ${used.sort().join(', ')} } from '${module}';`);
  }
  return lines.length ? `${lines.join('\n')}\n\n${body}` : body;
}

/** The factory's `@example`s as runnable snippets, with their imports (see {@link addImports}). */
export function withImports(example: string): string {
  const body = example.replace(/^```ts\n?/, '').replace(/\n?```$/, '');
  return ['```ts', addImports(body), '```'].join('\n');
}

function figures(name: string, figuresDir: string): string {
  const shown: string[] = [];
  const missing: string[] = [];
  for (const fn of figureFunctions) {
    const file = ['gif', 'png'].map((ext) => `${fn}_${name}.${ext}`).find((f) => existsSync(join(figuresDir, f)));
    if (file) shown.push(`![${name} on ${fn}](../figures/${file})`);
    // `pnpm figures` commits Rosenbrock and Rastrigin only; name the command that draws any other.
    else missing.push(`- ${fn}: no figure in docs/figures: \`pnpm descent race --figures docs/figures --fn ${fn} --optimizers ${name} --size 240 --frames 40\` draws it`);
  }
  const intro = `Trajectories of \`${name}\` on core's test functions, drawn by \`descent race --figures\` into \`docs/figures/<fn>_${name}.gif\` (or \`.png\`).`;
  return [intro, ...shown, missing.join('\n')].filter(Boolean).join('\n\n');
}

// --------------------------------------------------------------------------------- backends and conformance gaps

type Gap = DeclaredGap;

/**
 * Gaps the conformance kit's plan declares for checks whose id starts with `prefix`, per backend configuration
 * (the configurations and the planning are shared with `descent optimizers`).
 */
function gapsOf(prefix: string): Gap[] {
  return declaredGaps(backendConfigurations(), prefix);
}

function gapsSection(gaps: readonly Gap[], none = 'None: every property of the conformance kit runs on every backend configuration.'): string {
  if (gaps.length === 0) return none;
  const byReason = new Map<string, Gap[]>();
  for (const g of gaps) byReason.set(`${g.where}\u0000${g.reason}`, [...(byReason.get(`${g.where}\u0000${g.reason}`) ?? []), g]);
  const rows = ['| where | checks | reason |', '| --- | --- | --- |'];
  for (const list of byReason.values()) {
    const first = list[0]!;
    rows.push(`| ${first.where} | ${list.map((g) => `\`${g.id}\``).join(', ')} | ${cell(tsdocToMarkdown(first.reason, () => undefined))} |`);
  }
  return rows.join('\n');
}

function backendsTable(name: string): string {
  const fused = name in tfjs.fusedKernels;
  const rows = [
    '| backend | runs it | how |',
    '| --- | --- | --- |',
    '| `@descent/core` reference | yes | Float64 loops, the spec |',
    `| \`@descent/backend-tfjs\` | ${name in tfjs.kernels ? 'yes' : 'no'} | ${name in tfjs.kernels ? `composed TF.js ops${fused ? `; a fused loop on cpu and wasm${tfjs.fusedKernels[name]?.simd ? ' (wasm SIMD)' : ''}` : ''}` : '—'} |`,
    `| \`@descent/backend-gpujs\` | ${name in gpujs.kernels ? 'yes' : 'no'} | ${name in gpujs.kernels ? 'gpu.js kernels: webasm, cpu, headlessgl, webgl2, webgpu (async)' : cell(gpujs.knownGaps[name] ?? '—')} |`,
  ];
  return rows.join('\n');
}

// ------------------------------------------------------------------------------------------------- state memory

/**
 * Option sets that may change the state layout, one option away from the defaults: each flag flipped, each other
 * value of an enum, each number whose default is 0 set to 0.5 (momentum, β of Signum, …).
 */
function stateVariants(name: string): Array<{ label: string; options: Record<string, OptionValue> }> {
  const def = definitions.get(name)!;
  const out: Array<{ label: string; options: Record<string, OptionValue> }> = [];
  for (const [key, s] of Object.entries(def.schema)) {
    const values: OptionValue[] =
      s.type === 'boolean' ? [!s.default] : s.type === 'enum' ? s.values.filter((v) => v !== s.default) : s.type === 'number' && s.default === 0 ? [0.5] : [];
    for (const v of values) {
      try {
        out.push({ label: `\`${key}: ${JSON.stringify(v)}\``, options: core.makeSpec(def, { [key]: v }).options as Record<string, OptionValue> });
      } catch {
        // an option that needs another one (Nesterov needs momentum): its slots show with that one
      }
    }
  }
  return out;
}

function slotsSection(name: string): string {
  const def = definitions.get(name)!;
  const defaults = core.makeSpec(def, {}).options;
  const shapes: Array<readonly number[]> = [[1024, 512], [1024]];
  const lines = ['| parameter shape | slots (shape) | numbers per parameter element | bytes per parameter element (float32 / Float64) |', '| --- | --- | --- | --- |'];
  for (const shape of shapes) {
    const rejected = def.rejectShape?.(shape, defaults);
    const elements = core.sizeOf(shape);
    if (rejected) {
      lines.push(`| ${shape.join(' × ')} | refused: ${cell(rejected)} | — | — |`);
      continue;
    }
    const slots = def.slots(defaults, shape);
    const total = slots.reduce((s, x) => s + core.sizeOf(x.shape), 0);
    const per = total / elements;
    const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(4));
    const list = slots.length ? slots.map((s) => `\`${s.name}\` (${s.shape.join(' × ') || 'scalar'})`).join(', ') : 'none';
    lines.push(`| ${shape.join(' × ')} | ${list} | ${fmt(per)} | ${fmt(4 * per)} / ${fmt(8 * per)} |`);
  }
  const base = new Set(def.slots(defaults, [1024, 512]).map((s) => s.name));
  const extra: string[] = [];
  for (const v of stateVariants(name)) {
    let slots: string[];
    try {
      slots = def.slots(v.options as never, [1024, 512]).map((s) => s.name);
    } catch {
      continue;
    }
    const added = slots.filter((s) => !base.has(s));
    const removed = [...base].filter((s) => !slots.includes(s));
    const list = (names: string[]): string => names.map((s) => `\`${s}\``).join(', ');
    if (removed.length) extra.push(`- with ${v.label}: ${list(slots)} instead of ${list(removed)}`);
    else if (added.length) extra.push(`- with ${v.label}: adds ${list(added)}`);
  }
  const scalars = def.scalars ? Object.keys(def.scalars(defaults)) : [];
  const parts = [`With the default options:\n\n${lines.join('\n')}`];
  if (extra.length) parts.push(`Options that change the state:\n\n${extra.join('\n')}`);
  if (scalars.length) parts.push(`Host scalars per parameter (Float64, in the portable state): ${scalars.map((s) => `\`${s}\``).join(', ')}.`);
  parts.push('Every parameter also keeps its step count. `pnpm descent memory --params N --optimizer ' + name + '` totals the state for a model.');
  return parts.join('\n\n');
}

// ------------------------------------------------------------------------------------------------------- pages

function paperOf(text: string): string | undefined {
  // The first parenthesis that cites a year: "(Kingma & Ba, "Adam: …", ICLR 2015)".
  const m = /\(([^()]*?(?:19|20)\d\d[^()]*?)\)/.exec(text.split('$$')[0] ?? '');
  return m?.[1];
}

function followsOf(text: string): string | undefined {
  const prose = (text.split('$$')[0] ?? '').replace(/\n/g, ' ');
  // Up to the first colon, semicolon or sentence end (a period before a space: "PyTorch 2.5+" stays whole).
  const m = /\b(following|Follows|in the form|as written in)\s+(.*?)(?=[:;]|\.\s|\.$|$)/.exec(prose);
  return m ? `${m[1] === 'Follows' ? 'follows' : m[1]} ${m[2]!.trim()}` : undefined;
}

function runnableExample(name: string, factory: string): string {
  // One parameter matrix (a vector for shape-agnostic optimizers would do too), f(w) = ½‖w‖², gradient w.
  return [
    '```ts',
    `import { createReference, ${factory}, tensor } from '@descent/core';`,
    '',
    'const w = tensor([1.5, -0.5, 0.25, -1, 0.75, 2], [2, 3]);',
    'const f = (): number => 0.5 * w.data.reduce((s, x) => s + x * x, 0);  // f(w) = ½‖w‖², ∇f = w',
    `const opt = createReference(${factory}(), { w });`,
    'const before = f();',
    'for (let i = 0; i < 100; i++) opt.step({ w: tensor(w.data.slice(), [2, 3]) });',
    `if (!(f() < before)) throw new Error(\`${name} did not descend: \${before} → \${f()}\`);`,
    `console.log(\`${name}: f = \${before} → \${f()} after \${opt.stepCount} steps\`);`,
    '```',
  ].join('\n');
}

const link =
  (from: 'optimizers' | 'transforms' | 'schedules' | 'root'): Linker =>
  (name) => {
    const up = from === 'root' ? './' : '../';
    if (definitions.has(name)) return `${up}optimizers/${name}.md`;
    if (transformDefinitions.has(name)) return `${up}transforms/${name}.md`;
    if (scheduleDefinitions.has(name)) return `${up}schedules/${name}.md`;
    if (name === 'lookahead') return `${up}lookahead.md`;
    return undefined;
  };

function optimizerPage(name: string, d: DefinitionDoc, figuresDir: string): Page {
  const def = definitions.get(name)!;
  const l = link('optimizers');
  const paper = paperOf(d.doc.text);
  const follows = followsOf(d.doc.text);
  const factory = d.factory?.name ?? name;
  const sections = [
    `# ${def.title} <Badge type="info" text="${name}" />`,
    [
      `\`${factory}(options)\` from \`@descent/core\` · kind \`${def.kind}\` · source \`packages/core/src/optimizers/${d.file.split('/').pop()}\``,
    ].join(''),
    paper ? `**Paper:** ${tsdocToMarkdown(paper, l)}` : '',
    follows ? `**Formulation:** ${tsdocToMarkdown(follows, l)}.` : '',
    '## Update rule and formulation',
    '::: tip From the TSDoc\nThe text and the update rule below are the TSDoc of the definition in core, rendered as written; the Float64 reference implements it loop for loop.\n:::',
    tsdocToMarkdown(d.doc.text, l),
    d.factory ? `### The factory\n\n${tsdocToMarkdown(d.factory.doc.text, l)}` : '',
    ...(d.factory?.doc.examples ?? []).map(withImports),
    '## Options',
    optionsTable(def.schema, d.optionDocs, l, { common: true }),
    def.lrOptions && def.lrOptions.length > 1 ? `Learning-rate options a schedule rescales: ${def.lrOptions.map((o) => `\`${o}\``).join(', ')}.` : '',
    '## State',
    slotsSection(name),
    '## Backends',
    backendsTable(name),
    '### Known gaps in the conformance kit',
    'From the conformance kit\'s plan for each backend (`planConformance`): checks it declares as gaps, by name, instead of running them.',
    gapsSection(gapsOf(`${name}/`)),
    '## Trajectories',
    figures(name, figuresDir),
    '## Example',
    'Runs as written (this page\'s snippets are executed by the docs tests):',
    runnableExample(name, factory),
  ];
  return { path: `optimizers/${name}.md`, markdown: sections.filter(Boolean).join('\n\n') + '\n' };
}

function transformPage(name: string, d: DefinitionDoc): Page {
  const def = transformDefinitions.get(name)!;
  const l = link('transforms');
  const known = new Set(Object.keys(def.schema));
  const extraNames = Object.keys(def.extraOptions ?? {}).filter((k) => !known.has(k));
  const sections = [
    `# ${def.title} <Badge type="info" text="${name}" />`,
    `\`${d.factory?.name ?? name}(options)\` from \`@descent/core\` · scope \`${def.scope}\` (${def.scope === 'global' ? 'all gradients of the step together' : 'each tensor on its own'}) · applied with \`withTransforms(spec, …)\` before every update`,
    '## Definition',
    tsdocToMarkdown(d.doc.text, l),
    ...(d.factory?.doc.examples ?? []).map(withImports),
    '## Options',
    optionsTable(def.schema, d.optionDocs, l, { required: def.required ?? [], extraNames }),
    '## Backends',
    [
      '| backend | runs it |',
      '| --- | --- |',
      '| `@descent/core` reference | yes |',
      `| \`@descent/backend-tfjs\` | ${name in tfjs.transformKernels ? 'yes' : 'no'} |`,
      `| \`@descent/backend-gpujs\` | ${gpujs.supportedTransforms().includes(name) ? 'yes' : 'no'} |`,
    ].join('\n'),
    '### Known gaps in the conformance kit',
    gapsSection(
      gapsOf(`transforms/${name}`),
      'None: every backend implements it, and the conformance kit puts it in front of the optimizers in a quarter of its cases (the optimizers\' own gaps, such as the shader modes\' NaN handling, apply there too).',
    ),
  ];
  return { path: `transforms/${name}.md`, markdown: sections.filter(Boolean).join('\n\n') + '\n' };
}

function schedulePage(name: string, d: DefinitionDoc): Page {
  const def = scheduleDefinitions.get(name)!;
  const l = link('schedules');
  const sections = [
    `# ${def.title} <Badge type="info" text="${name}" />`,
    `\`${d.factory?.name ?? name}(options)\` from \`@descent/core\` · applied with \`withSchedule(spec, …)\`. Learning rates are computed on the host in Float64 from the optimizer's step count, so every backend follows the same schedule.`,
    '## Definition',
    tsdocToMarkdown(d.doc.text, l),
    ...(d.factory?.doc.examples ?? []).map(withImports),
    '## Options',
    optionsTable(def.schema, d.optionDocs, l, { required: def.required ?? [] }),
  ];
  return { path: `schedules/${name}.md`, markdown: sections.filter(Boolean).join('\n\n') + '\n' };
}

function lookaheadPage(): Page {
  const file = join(coreSrc, 'compose.ts');
  const doc = readFunctionDoc(file, 'lookahead');
  if (!doc) throw new Error('compose.ts: lookahead has no TSDoc');
  const l = link('root');
  const sections = [
    '# Lookahead <Badge type="info" text="lookahead" />',
    '`lookahead(inner, options)` from `@descent/core` wraps any optimizer spec. It runs on the host side of every backend (the synchronisation is part of the shared optimizer base), so every backend that runs the inner optimizer runs Lookahead.',
    '## Definition',
    tsdocToMarkdown(doc.text, l),
    ...doc.examples.map(withImports),
    '## Options',
    optionsTable(lookaheadSchema, readInterfaceDocs(join(coreSrc, 'definition.ts'), 'LookaheadOptions'), l),
  ];
  return { path: 'lookahead.md', markdown: sections.filter(Boolean).join('\n\n') + '\n' };
}

function indexPage(folder: string, title: string, intro: string, entries: Array<[string, string, string]>): Page {
  const rows = ['| name | title | summary |', '| --- | --- | --- |'];
  for (const [name, t, summary] of entries) rows.push(`| [\`${name}\`](./${name}.md) | ${cell(t)} | ${cell(summary)} |`);
  return { path: `${folder}/index.md`, markdown: `# ${title}\n\n${intro}\n\n${rows.join('\n')}\n` };
}

function firstSentence(text: string, l: Linker): string {
  let prose = (text.split('$$')[0] ?? '').replace(/\s+/g, ' ').trim();
  // Citations in parentheses (whose titles hold colons and periods) are on the page itself; the summary skips them.
  for (let before = ''; before !== prose; ) [before, prose] = [prose, prose.replace(/\s*\([^()]*\)/g, '')];
  const m = /^(.*?[.:])(\s|$)/.exec(prose);
  return tsdocToMarkdown((m?.[1] ?? prose).replace(/:$/, '.'), l);
}

/**
 * Every generated page, and the sidebar entries of the generated sections. `figuresDir` (default `docs/figures`) is
 * where trajectory figures are looked for; pages link them as `../figures/<file>`.
 */
export function generatePages(options: { readonly figuresDir?: string } = {}): { pages: Page[]; sidebar: Record<string, Array<{ text: string; link: string }>> } {
  const optimizerDocs = allDocs('optimizers');
  const transformDocs = allDocs('transforms');
  const scheduleDocs = allDocs('schedules');
  const pages: Page[] = [];
  const need = <T>(m: Map<string, T>, name: string, what: string): T => {
    const v = m.get(name);
    if (!v) throw new Error(`${what} "${name}" has no documented definition in core's source (an exported const <name>Definition with TSDoc)`);
    return v;
  };
  const figuresDir = options.figuresDir ?? join(docsRoot, 'figures');
  for (const name of definitions.keys()) pages.push(optimizerPage(name, need(optimizerDocs, name, 'optimizer'), figuresDir));
  for (const name of transformDefinitions.keys()) pages.push(transformPage(name, need(transformDocs, name, 'transform')));
  for (const name of scheduleDefinitions.keys()) pages.push(schedulePage(name, need(scheduleDocs, name, 'schedule')));
  pages.push(lookaheadPage());
  pages.push(
    indexPage(
      'optimizers',
      'Optimizers',
      'One page per optimizer of `@descent/core`, generated from its definition and TSDoc.',
      [...definitions.values()].map((d) => [d.name, d.title, firstSentence(need(optimizerDocs, d.name, 'optimizer').doc.text, link('optimizers'))]),
    ),
    indexPage(
      'transforms',
      'Gradient transforms',
      'Applied in order before every update with `withTransforms(spec, …)`.',
      [...transformDefinitions.values()].map((d) => [d.name, d.title, firstSentence(need(transformDocs, d.name, 'transform').doc.text, link('transforms'))]),
    ),
    indexPage(
      'schedules',
      'Learning-rate schedules',
      'Attached with `withSchedule(spec, …)`; computed on the host in Float64.',
      [...scheduleDefinitions.values()].map((d) => [d.name, d.title, firstSentence(need(scheduleDocs, d.name, 'schedule').doc.text, link('schedules'))]),
    ),
  );
  const entries = (folder: string, names: Iterable<string>) => [...names].map((n) => ({ text: n, link: `/${folder}/${n}` }));
  return {
    pages,
    sidebar: {
      optimizers: entries('optimizers', definitions.keys()),
      transforms: entries('transforms', transformDefinitions.keys()),
      schedules: entries('schedules', scheduleDefinitions.keys()),
    },
  };
}

/** Writes the generated pages under `root` (the generated folders are emptied first). */
export function writePages(root: string = docsRoot): Page[] {
  const { pages, sidebar } = generatePages();
  for (const folder of ['optimizers', 'transforms', 'schedules']) rmSync(join(root, folder), { recursive: true, force: true });
  for (const p of pages) {
    const path = join(root, p.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, p.markdown);
  }
  mkdirSync(join(root, '.vitepress'), { recursive: true });
  writeFileSync(join(root, '.vitepress/sidebar.generated.json'), JSON.stringify(sidebar, null, 2) + '\n');
  return pages;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pages = writePages();
  console.log(`generated ${pages.length} pages under ${docsRoot}`);
}
