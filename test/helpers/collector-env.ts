/**
 * A temp dir with a token file, a pseudonym key file and the environment the shipped collector
 * config needs (token file, queue storage dir, pseudonym key, the example catalog's allow-lists),
 * for `otelcol validate` / `print-config` runs. Removed after.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCollectorLists } from '../../src/collector-env.ts';
import { exampleCatalogLists } from '../../scripts/stack/processes.ts';

export type CollectorEnv = Record<string, string>;

export async function withCollectorEnv(run: (dir: string, env: CollectorEnv) => Promise<void>, extra: CollectorEnv = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'headcount-validate-'));
  try {
    await writeFile(join(dir, 'tokens'), 'a-token\n');
    await writeFile(join(dir, 'pseudonym-key'), `${'0123456789abcdef'.repeat(4)}\n`);
    await run(dir, {
      PATH: process.env['PATH'] ?? '',
      HEADCOUNT_TOKEN_FILE: join(dir, 'tokens'),
      HEADCOUNT_STORAGE_DIR: join(dir, 'q'),
      HEADCOUNT_PSEUDONYM_KEY_FILE: join(dir, 'pseudonym-key'),
      ...renderCollectorLists(exampleCatalogLists()),
      ...extra,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
