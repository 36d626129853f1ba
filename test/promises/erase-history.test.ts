/**
 * Erasure reaches data weeks old, on disk: an install's heartbeats in a persisted block (older
 * than the in-memory head, as almost all real data is) are unreadable after `eraseInstall`, and
 * the block holding them is rewritten without them (clean_tombstones), not merely tombstoned.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eraseInstall, installPseudonym } from '../../src/erase.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { startPrometheus, stopAll, type Prometheus } from '../../scripts/stack/processes.ts';

const bins = await collectorBinaries();
const VICTIM = '0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70';
const KEPT = '1a2b3c4d-5e6f-4a7b-9c8d-0e1f2a3b4c5d';
const KEY = `${'7c'.repeat(32)}\n`;
/** What Prometheus holds: the collector's keyed pseudonyms. */
const STORED_VICTIM = installPseudonym(VICTIM, KEY);
const STORED_KEPT = installPseudonym(KEPT, KEY);
const DAY_S = 86_400;

describe.skipIf(!bins.ok)('erase an install whose data is weeks old (real Prometheus, persisted blocks)', () => {
  let prom: Prometheus | undefined;
  let work: string | undefined;
  const p = () => prom!;

  beforeAll(async () => {
    if (!bins.ok) return;
    prom = await startPrometheus(bins.prometheus);
    work = await mkdtemp(join(tmpdir(), 'headcount-erase-history-'));
    const now = Math.floor(Date.now() / 1000);
    const lines = ['# HELP headcount_heartbeat Heartbeats.', '# TYPE headcount_heartbeat gauge'];
    for (const daysAgo of [20, 19, 18]) {
      for (const id of [STORED_VICTIM, STORED_KEPT]) lines.push(`headcount_heartbeat{job="erase_old",instance="${id}",service_version="1.0.0"} 1 ${now - daysAgo * DAY_S}`);
    }
    lines.push('# EOF');
    await writeFile(join(work, 'old.om'), `${lines.join('\n')}\n`);
    const blocks = join(work, 'blocks');
    await promisify(execFile)(bins.promtool, ['tsdb', 'create-blocks-from', 'openmetrics', join(work, 'old.om'), blocks]);
    for (const block of await readdir(blocks)) await rename(join(blocks, block), join(p().dataDir, block));
    // Prometheus picks up blocks moved into its data dir at its next reload (about a minute).
    await p().waitFor(`count_over_time(headcount_heartbeat{job="erase_old"}[25d])`, 2, 180_000);
  }, 240_000);

  afterAll(async () => {
    await stopAll(prom);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('removes the samples from the old block, keeps the other install', async () => {
    const blocksBefore = (await readdir(p().dataDir)).filter((d) => /^[0-9A-Z]{26}$/.test(d));
    expect(blocksBefore.length).toBeGreaterThan(0);
    expect(await eraseInstall(p().url, VICTIM, KEY)).toEqual({ seriesDeleted: 1, pseudonym: STORED_VICTIM });
    expect(await p().query(`count_over_time({instance="${STORED_VICTIM}"}[25d])`)).toEqual([]);
    const kept = await p().query(`count_over_time({instance="${STORED_KEPT}"}[25d])`);
    expect(kept.map((r) => r.value[1])).toEqual(['3']);
    // clean_tombstones rewrote the blocks that held the victim: the old ones are gone from disk
    // (a block only tombstoned stays, its samples still in its chunk files).
    await vi.waitFor(() => {
      for (const b of blocksBefore) expect(existsSync(join(p().dataDir, b)), b).toBe(false);
    }, { timeout: 60_000, interval: 500 });
  }, 120_000);
});

if (!bins.ok) {
  describe('erase an install whose data is weeks old', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
