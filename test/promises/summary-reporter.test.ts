/**
 * Test hygiene, checked by running vitest on fixtures. The closing line of `npm test` counts a failed hook as a failure: a Collector or Prometheus
 * that did not start (a failed `beforeAll`) must never read as "0 failed, N skipped".
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { NODE, REPO } from '../helpers/child.ts';

const FIXTURES = join(REPO, 'test/helpers/fixtures/reporter');

function runVitest(file: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--config', join(FIXTURES, 'vitest.config.ts'), file],
      { cwd: FIXTURES, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' }, timeout: 120_000 },
      (error, stdout) => resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout }),
    );
  });
}

it('a failed beforeAll in a suite counts as a failure; the tests it kept from running are not "skipped"', async () => {
  const { code, stdout } = await runVitest('suite-before-all.fixture.ts');
  expect(code).toBe(1);
  expect(stdout).toContain('tests: 1 passed, 1 failed, 1 skipped (2 not run: their hook or module failed)\n');
}, 120_000);

it('a failed module-level beforeAll counts as a failure', async () => {
  const { code, stdout } = await runVitest('module-before-all.fixture.ts');
  expect(code).toBe(1);
  expect(stdout).toContain('tests: 0 passed, 1 failed, 0 skipped (1 not run: their hook or module failed)\n');
}, 120_000);

it('test state dirs (headcount-test-*) are removed after their test file', async () => {
  const { code, stdout } = await runVitest('temp-dirs.fixture.ts');
  expect(code).toBe(0);
  const line = stdout.split('\n').find((l) => l.startsWith('@@dirs '));
  const dirs = JSON.parse(line!.slice('@@dirs '.length)) as string[];
  expect(dirs).toHaveLength(2);
  for (const d of dirs) {
    expect(d).toMatch(/headcount-test-/);
    expect(existsSync(d), d).toBe(false);
  }
}, 120_000);
