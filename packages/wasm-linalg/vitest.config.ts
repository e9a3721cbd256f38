import { defineProject } from 'vitest/config';

// Tests run in Vite's SSR environment, whose conditions come from ssr.resolve: both point the workspace
// packages at their TypeScript sources (the rest of the SSR list is Vite's default).
export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source', 'module', 'node', 'development|production'] } },
  test: { name: 'wasm-linalg', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
