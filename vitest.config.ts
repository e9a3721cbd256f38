import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'docs'],
    // vitest's default (available cores − 1) runs the files one at a time on a 2-core machine; the suite is a
    // few long, independent files (the conformance kit per backend, the browser suites), so two at a time halve it.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
