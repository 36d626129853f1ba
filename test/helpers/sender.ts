/** Builds Headcount options for tests: the example catalog, a temp state dir, telemetry forced on. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeadcountOptions } from '../../src/index.ts';
import options from '../../examples/acme-app/telemetry.ts';

export const TOKEN = 'test-token-0123456789';

export function tempDir(prefix = 'headcount-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
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
