/**
 * shutdown() of the active part, in process: it ends a retry wait at once (a foreground send
 * then finishes, a background cycle stops without another request), the flush delivers within
 * the deadline or leaves the counts on disk, and a flush that cannot even start is cut off at
 * the deadline. Also the jitter added to the next cycle after a printed (debug) or failed one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { readLedger } from '../../src/local.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { newInstallId, type StateStore } from '../../src/store.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions } from '../helpers/sender.ts';

const HOUR_MS = 3_600_000;
const NOW = Date.UTC(2025, 5, 10, 12);

let server: CaptureServer;
const handles: Headcount[] = [];
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});
function headcount(extra: Parameters<typeof onOptions>[1] = {}) {
  const opts = onOptions(server.url, { store: new MemoryStateStore(), ...extra });
  const h = createHeadcount(opts);
  handles.push(h);
  return { h, stateDir: opts.stateDir! };
}
const withId = () => new MemoryStateStore({ installId: newInstallId(), idCreatedAt: Date.now() });
/** The first answer is in the ledger: the sender is now in its retry wait (it starts right after the append). */
const inRetryWait = (stateDir: string) => vi.waitFor(async () => expect(await readLedger(stateDir)).toHaveLength(1), { timeout: 5_000, interval: 10 });

describe('shutdown() and a retry wait', () => {
  it('a foreground send waiting out a Retry-After is released at once and the send finishes', async () => {
    server.script({ status: 503, headers: { 'retry-after': '30' } });
    const { h, stateDir } = headcount();
    await h.status();
    const sending = h.sendNow();
    await inRetryWait(stateDir);
    await h.shutdown({ timeoutMs: 2_000 });
    const outcome = await sending;
    expect(outcome.reason).toMatch(/ metrics: sent \(HTTP 200\)$/);
    expect(server.requests).toHaveLength(2);
  });

  it('a background cycle waiting out a Retry-After stops without another request', async () => {
    server.script({ status: 503, headers: { 'retry-after': '30' } });
    const { h, stateDir } = headcount({ schedule: { firstDelayMs: [0, 0] } });
    h.start();
    await inRetryWait(stateDir);
    await h.shutdown({ timeoutMs: 2_000 });
    expect(server.requests).toHaveLength(1);
    expect((await h.status()).nextSendNote).toBe('none: shut down');
  });
});

describe('the shutdown flush', () => {
  it('delivered: the counts are not kept on disk', async () => {
    const { h, stateDir } = headcount({ store: withId() });
    await h.status();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 5_000 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/logs']);
    expect(existsSync(join(stateDir, 'pending-features.json'))).toBe(false);
  });

  it('rejected (400): the counts are dropped, not kept on disk', async () => {
    server.fallback = { status: 400 };
    const { h, stateDir } = headcount({ store: withId() });
    await h.status();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 5_000 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/logs']);
    expect(existsSync(join(stateDir, 'pending-features.json'))).toBe(false);
  });

  it('a flush that cannot start (the state never loads) is cut off at the deadline; the counts stay on disk', async () => {
    const store: StateStore = { read: () => new Promise(() => undefined), compareAndSet: () => Promise.resolve(true), clear: () => Promise.resolve() };
    const { h, stateDir } = headcount({ store });
    h.start();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 200 });
    expect(server.requests).toHaveLength(0);
    expect(existsSync(join(stateDir, 'pending-features.json'))).toBe(true);
  });
});

describe('jitter on the next cycle', () => {
  const jittered = { random: () => 0.5, now: () => NOW };

  it('after a failed cycle: a retry cycle plus jitter', async () => {
    server.fallback = { status: 503 };
    const { h } = headcount({ ...jittered, schedule: { firstDelayMs: [0, 0], jitterMs: 1_000, maxAttempts: 1 } });
    h.start();
    await vi.waitFor(async () => expect((await h.status()).nextSendAt).toBe(NOW + HOUR_MS + 500), { timeout: 5_000, interval: 10 });
  });

  it('after a printed (debug) cycle: an interval plus jitter', async () => {
    const { h } = headcount({ ...jittered, env: { ...onOptions(server.url).env, ACME_TELEMETRY_DEBUG: '1' }, schedule: { firstDelayMs: [0, 0], jitterMs: 1_000 } });
    h.start();
    await vi.waitFor(async () => expect((await h.status()).nextSendAt).toBe(NOW + DAY_MS + 500), { timeout: 5_000, interval: 10 });
  });
});
