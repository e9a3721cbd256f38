import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source'], externalConditions: ['@descent/source'] } },
  test: { name: 'core', include: ['test/**/*.test.ts'] },
});
