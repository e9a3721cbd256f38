import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  test: { name: 'cli', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
