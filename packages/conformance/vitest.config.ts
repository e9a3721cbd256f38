import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source'], externalConditions: ['@descent/source'] } },
  test: { name: 'conformance', include: ['test/**/*.test.ts'], testTimeout: 120_000 },
});
