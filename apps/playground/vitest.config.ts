import { defineProject } from 'vitest/config';

// Tests run in Node: they build the page with Vite and drive it in Debian's Chromium (playwright-core).
export default defineProject({
  resolve: { conditions: ['@descent/source'] },
  ssr: { resolve: { conditions: ['@descent/source', 'module', 'node', 'development|production'] } },
  test: { name: 'playground', include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
