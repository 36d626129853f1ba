/** Builds Headcount options for tests: the example catalog, a temp state dir, telemetry forced on. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeadcountOptions } from '../../src/index.ts';
import options from '../../examples/acme-app/telemetry.ts';

export const TOKEN = 'test-token-0123456789';

/** Dirs made by `tempDir()` in this test file; `test/helpers/cleanup.ts` removes them after it. */
const created: string[] = [];

export function tempDir(prefix = 'headcount-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every dir `tempDir()` made (called after each test file by the setup file). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** `options` without the given keys (e.g. to let a default apply). */
export function without<T extends object, K extends keyof T>(options: T, ...keys: K[]): Omit<T, K> {
  const out = { ...options };
  for (const k of keys) delete out[k];
  return out;
}

export function onOptions(endpoint: string, extra: Partial<HeadcountOptions> = {}): HeadcountOptions {
  return {
    ...options,
    env: { ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: endpoint },
    ci: { isCI: false, name: null },
    stateDir: tempDir(),
    log: () => undefined,
    schedule: { firstDelayMs: [0, 0], baseBackoffMs: 5, maxBackoffMs: 20, jitterMs: 0 },
    ...extra,
  };
}
