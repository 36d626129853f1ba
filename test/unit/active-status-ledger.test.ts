/**
 * status() of the active part and the newest ledger entry: read for the last result until this
 * process has one of its own, and (when this process does not run the schedule) for the next-send
 * estimate, including a token refused with 403; and the state this process knows shown when the
 * store cannot be read.
 */
import { describe, expect, it, vi } from 'vitest';
import { describeEntry } from '../../src/active.ts';
import { createHeadcount, MemoryStateStore } from '../../src/index.ts';
import { appendLedger, type LedgerEntry } from '../../src/local.ts';
import { newInstallId, type InstallState, type StateStore } from '../../src/store.ts';
import { captureEachTest } from '../helpers/capture-server.ts';
import { onOptions, tempDir } from '../helpers/sender.ts';

const NOW = Date.UTC(2025, 5, 10, 12);
const FAR = 1_000_000;

const capture = captureEachTest();
function headcount(extra: Parameters<typeof onOptions>[1] = {}) {
  return capture.track(createHeadcount(onOptions(capture.server.url, { now: () => NOW, store: new MemoryStateStore(), ...extra })));
}
const entry = (status: number): LedgerEntry => ({ time: new Date(NOW - 60_000).toISOString(), signal: 'metrics', bytes: 100, sha256: 'a'.repeat(64), status });
const REFUSED_403 = 'none while the product runs: the collector refused the token (HTTP 403); after a restart, within a minute of the product starting';

describe('the newest ledger entry in status()', () => {
  it('a 403 on record, this process not running the schedule: none while the product runs', async () => {
    const stateDir = tempDir();
    await appendLedger(stateDir, entry(403));
    const status = await headcount({ stateDir }).status();
    expect(status.nextSendAt).toBeUndefined();
    expect(status.nextSendNote).toBe(REFUSED_403);
    expect(status.lastResult).toBe(describeEntry(entry(403)));
  });

  it('is the last result while this process runs the schedule but has not sent yet', async () => {
    const stateDir = tempDir();
    await appendLedger(stateDir, entry(200));
    const h = headcount({ stateDir, schedule: { firstDelayMs: [FAR, FAR] } });
    h.start();
    const status = await h.status();
    expect(status.nextSendAt).toBe(NOW + FAR);
    expect(status.lastResult).toBe(describeEntry(entry(200)));
  });

  it('still decides the next-send note once this process has a result of its own (a printed debug heartbeat)', async () => {
    const stateDir = tempDir();
    await appendLedger(stateDir, entry(403));
    const h = headcount({ stateDir, env: { ...onOptions(capture.server.url).env, ACME_TELEMETRY_DEBUG: '1' } });
    expect((await h.sendNow()).reason).toMatch(/ debug: printed, not sent$/);
    const status = await h.status();
    expect(status.lastResult).toMatch(/ debug: printed, not sent$/);
    expect(status.nextSendNote).toBe(REFUSED_403);
    expect(capture.server.requests).toHaveLength(0);
  });
});

describe('a store that cannot be read any more', () => {
  it('status() shows the state this process last knew', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const state: InstallState = { installId: newInstallId(), idCreatedAt: NOW - FAR };
    let broken = false;
    const store: StateStore = {
      // A host's store may reject with anything, here a value that throws when looked at.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      read: () => (broken ? Promise.reject(proxy) : Promise.resolve(state)),
      compareAndSet: () => Promise.resolve(true),
      clear: () => Promise.resolve(),
    };
    const h = headcount({ store, schedule: { firstDelayMs: [FAR, FAR] } });
    h.start();
    // start() read the state and scheduled from it.
    await vi.waitFor(async () => expect((await h.status()).nextSendAt).toBe(NOW + FAR), { timeout: 5_000, interval: 10 });
    broken = true;
    const status = await h.status();
    expect(status.installId).toBe(state.installId);
    expect(status.idCreatedAt).toBe(state.idCreatedAt);
  });
});
