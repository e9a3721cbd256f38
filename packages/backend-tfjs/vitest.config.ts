import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source'], externalConditions: ['@descent/source'] } },
  test: { name: 'backend-tfjs', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
