import { defineProject } from 'vitest/config';

// As in the packages: snippets and the generator import @descent/* from their TypeScript sources.
export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source', 'module', 'node', 'development|production'] } },
  test: { name: 'docs', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
