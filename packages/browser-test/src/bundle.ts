import { dirname, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

/** Options of {@link bundleEntry}. */
export interface BundleOptions {
  /**
   * Packages that must exist once in the bundle, resolved from the entry's directory whoever imports them.
   * TF.js keeps its kernel registry and engine in module state: a second copy of `@tensorflow/tfjs-core` (pnpm
   * keeps one per peer-dependency set) would register the WebGL kernels on an engine the optimizer never sees.
   * Default: `['@tensorflow/tfjs-core']`.
   */
  readonly dedupe?: readonly string[];
  /** Extra directories to resolve bare imports from, like `NODE_PATH` (which is the default). */
  readonly nodePaths?: readonly string[];
  /**
   * Modules replaced by an empty CommonJS module (`module.exports = {}`: a named import of it is `undefined`), by
   * exact specifier or as the prefix of `specifier/…`: Node built-ins and test-only imports that a module the
   * entry bundles imports but never calls in the page (e.g. `node:module`, which backend-gpujs only uses to look
   * for headless-gl). Default: none.
   */
  readonly empty?: readonly string[];
}

/** The bundled entry: one ES module that, once loaded, exposes the entry's exports to the harness. */
export interface Bundle {
  readonly code: string;
  /** The source files bundled (absolute paths), e.g. to check that a package is there once. */
  readonly inputs: readonly string[];
  /** Milliseconds esbuild took. */
  readonly ms: number;
}

/** Name of the global under which the wrapper exposes the entry module's exports. */
export const ENTRY_GLOBAL = '__descentEntry';

function dedupePlugin(packages: readonly string[], fromDir: string): Plugin {
  const escaped = packages.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const filter = new RegExp(`^(${escaped.join('|')})(/.*)?$`);
  return {
    name: 'descent-dedupe',
    setup(b) {
      b.onResolve({ filter }, async (args) => {
        if (args.pluginData === 'deduped' || args.resolveDir === fromDir) return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: fromDir, importer: args.importer, pluginData: 'deduped' });
        return r.errors.length ? { errors: r.errors } : { path: r.path, sideEffects: r.sideEffects, ...(r.external ? { external: true } : {}) };
      });
    },
  };
}

function emptyPlugin(modules: readonly string[]): Plugin {
  const escaped = modules.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const filter = new RegExp(`^(${escaped.join('|')})(/.*)?$`);
  return {
    name: 'descent-empty',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'descent-empty' }));
      b.onLoad({ filter: /.*/, namespace: 'descent-empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    },
  };
}

/**
 * Bundles `entry` (a TypeScript or JavaScript module) for the browser as one ES module. Workspace packages are
 * taken from their sources (the `@descent/source` export condition), so no build is needed first. The bundle
 * imports the entry and stores its exports in `globalThis.__descentEntry`, then sets `__descentReady`.
 */
export async function bundleEntry(entry: string, options: BundleOptions = {}): Promise<Bundle> {
  const file = resolve(entry);
  const fromDir = dirname(file);
  const started = performance.now();
  const nodePaths = options.nodePaths ?? (process.env.NODE_PATH ?? '').split(':').filter(Boolean);
  const result = await build({
    stdin: {
      contents: [
        `import * as entry from ${JSON.stringify(file)};`,
        `globalThis.${ENTRY_GLOBAL} = entry;`,
        'globalThis.__descentReady = true;',
      ].join('\n'),
      resolveDir: fromDir,
      sourcefile: 'descent-entry-wrapper.js',
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@descent/source'],
    nodePaths: [...nodePaths],
    logLevel: 'silent',
    metafile: true,
    absWorkingDir: fromDir,
    // tfjs-core reads process.env.NODE_ENV in a few places; it has no meaning in the page.
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [
      ...(options.empty?.length ? [emptyPlugin(options.empty)] : []),
      dedupePlugin(options.dedupe ?? ['@tensorflow/tfjs-core'], fromDir),
    ],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced no output for ${file}`);
  const inputs = Object.keys(result.metafile.inputs).map((f) => resolve(fromDir, f));
  return { code: out.text, inputs, ms: performance.now() - started };
}
