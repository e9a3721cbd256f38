import { defineProject } from 'vitest/config';

// Tests run in Vite's SSR environment, whose conditions come from ssr.resolve (resolve.conditions only reaches
// the client environment since Vite 6): both point @descent/core at its TypeScript sources. The rest of the
// SSR list is Vite's default (defaultServerConditions, which vitest does not re-export).
export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source', 'module', 'node', 'development|production'] } },
  test: { name: 'cli', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
