import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Removes the temp state dirs (`headcount-test-*`) each test file made.
    setupFiles: ['./test/helpers/cleanup.ts'],
  },
});
