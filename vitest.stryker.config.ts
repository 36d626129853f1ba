import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (`npm run mutation`): the fast, in-process tests
 * that cover the code shipped in a host app. Left to `npm test`: tests that run the SDK in child
 * processes (their coverage is invisible to Stryker) and those that need the Collector,
 * Prometheus, compose or the dashboards (slow, and they cover no mutated file).
 */
export default defineConfig({
  test: {
    include: ['test/*.test.ts', 'test/promises/*.test.ts', 'test/unit/**/*.test.ts'],
    exclude: [
      // Child processes.
      'test/consent-process.test.ts',
      'test/host-safety.test.ts',
      'test/isolation.test.ts',
      'test/package.test.ts',
      'test/scratch-app.test.ts',
      'test/demo.test.ts',
      'test/promises/summary-reporter.test.ts',
      // Collector, Prometheus, compose, dashboards; no mutated file.
      'test/compose.test.ts',
      'test/promises/collector-gates.test.ts',
      'test/promises/erase-history.test.ts',
      'test/promises/erase-calls.test.ts',
      'test/promises/k-default.test.ts',
    ],
    testTimeout: 30_000,
    setupFiles: ['./test/helpers/cleanup.ts', './test/helpers/stryker-preload.ts'],
  },
});
