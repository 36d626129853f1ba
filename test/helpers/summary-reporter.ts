import type { Reporter, SerializedError, TestModule, TestSuite } from 'vitest/node';

export interface Summary {
  passed: number;
  /** Failed tests, plus each module or suite whose own code failed (a hook, collection), plus unhandled errors. */
  failed: number;
  /** Tests skipped on purpose (`it.skip`, `skipIf`, `todo`). */
  skipped: number;
  /** Tests that never ran because a hook or the collection of their module or suite failed. */
  notRun: number;
}

/**
 * Errors of a module and its suites themselves (a `beforeAll`/`afterAll` hook threw, collection
 * failed), each counted once: vitest may report a suite's hook error on its module as well.
 */
function ownErrors(mod: TestModule): number {
  const seen = new Set<string>();
  for (const entity of [mod, ...mod.children.allSuites()] as Array<TestModule | TestSuite>) {
    for (const e of entity.errors()) seen.add(`${e.name ?? ''}: ${e.message}\n${e.stack ?? ''}`);
  }
  return seen.size;
}

export function summarize(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): Summary {
  const s: Summary = { passed: 0, failed: unhandledErrors.length, skipped: 0, notRun: 0 };
  for (const mod of testModules) {
    s.failed += ownErrors(mod);
    for (const test of mod.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') s.passed++;
      else if (state === 'failed') s.failed++;
      // Skipped without being marked skip/todo: a hook or the module kept it from running.
      else if (test.options.mode === 'run' || test.options.mode === 'only') s.notRun++;
      else s.skipped++;
    }
  }
  return s;
}

export function summaryLine(s: Summary): string {
  const notRun = s.notRun > 0 ? ` (${s.notRun} not run: their hook or module failed)` : '';
  return `tests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${notRun}`;
}

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, for CI logs. A failed
 * `beforeAll`/`afterAll` hook, a module that failed to load and an unhandled error each count as
 * a failure; the tests a failed hook kept from running are not counted as skipped.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    process.stdout.write(`${summaryLine(summarize(testModules, unhandledErrors))}\n`);
  }
}
