/// <reference types="vite/client" />
/**
 * Setup file of the StrykerJS test set (vitest.stryker.config.ts): loads every mutated module
 * before the test file runs. Module-level code (constants, pattern tables, word lists) then runs
 * outside any test, so Stryker sees its mutants as static and `ignoreStatic` leaves them out, as
 * intended (their promises are pinned by test/promises/). Without it, a test that imports a
 * module lazily (`await import(...)` inside the test) is taken for the only test covering that
 * module's constants, and Stryker tests those mutants against that one test alone.
 * The patterns mirror `mutate` in stryker.config.json.
 */
import.meta.glob(
  [
    '../../src/**/*.ts',
    '!../../src/cli.ts',
    '!../../src/report.ts',
    '!../../src/queries.ts',
    '!../../src/erase.ts',
    '!../../src/backend.ts',
    '!../../src/privacy-doc.ts',
    '!../../src/simulate/**',
    '!../../src/index.ts',
    '!../../src/otlp/stages/**',
  ],
  { eager: true },
);
