/**
 * A temp dir with a token file and the minimal environment the shipped collector config needs
 * (token file, queue storage dir), for `otelcol validate` / `print-config` runs. Removed after.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type CollectorEnv = Record<string, string>;

export async function withCollectorEnv(run: (dir: string, env: CollectorEnv) => Promise<void>, extra: CollectorEnv = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'headcount-validate-'));
  try {
    await writeFile(join(dir, 'tokens'), 'a-token\n');
    await run(dir, { PATH: process.env['PATH'] ?? '', HEADCOUNT_TOKEN_FILE: join(dir, 'tokens'), HEADCOUNT_STORAGE_DIR: join(dir, 'q'), ...extra });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
