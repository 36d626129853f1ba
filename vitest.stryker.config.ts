import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (`npm run mutation`): the fast, in-process unit
 * tests that cover the code shipped in a host app. Tests that run the SDK in child processes
 * (their coverage is invisible to Stryker), the Collector, Prometheus, compose and dashboards
 * are left to `npm test`.
 */
export default defineConfig({
  test: {
    include: [
      'test/accept.test.ts',
      'test/bucket.test.ts',
      'test/cli.test.ts',
      'test/config.test.ts',
      'test/delivery.test.ts',
      'test/preview.test.ts',
      'test/redact.test.ts',
      'test/store.test.ts',
      'test/warnings.test.ts',
      'test/promises/identity.test.ts',
      'test/promises/schedule-defaults.test.ts',
      'test/promises/scrubbers.test.ts',
      'test/promises/wire.test.ts',
      'test/unit/**/*.test.ts',
    ],
    testTimeout: 30_000,
    setupFiles: ['./test/helpers/cleanup.ts'],
  },
});
