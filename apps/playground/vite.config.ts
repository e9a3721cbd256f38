import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The page takes the workspace packages from their TypeScript sources (the `@descent/source` condition), so
// nothing has to be built first. `base: './'` keeps every asset path relative: the built folder works from any
// URL prefix and offline.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    conditions: ['@descent/source', 'browser', 'module', 'import', 'default'],
    // backend-gpujs looks for headless-gl through node:module's createRequire, which only Node has.
    alias: { 'node:module': fileURLToPath(new URL('./src/node-module-stub.ts', import.meta.url)) },
    dedupe: ['@tensorflow/tfjs-core'],
  },
  define: { 'process.env.NODE_ENV': '"production"' },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
});
