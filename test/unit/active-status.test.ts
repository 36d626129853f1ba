/**
 * status() of the active part, in process: the next-send time and its note while this process
 * runs the schedule, and as estimated for another process (`headcount status`) from the stored
 * last send and the newest ledger entry; start() taking over saved counts and scheduling even
 * when the state cannot be read.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { DAY_MS } from '../../src/schedule.ts';
import type { StateStore } from '../../src/store.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions, tempDir } from '../helpers/sender.ts';

const NOW = Date.UTC(2025, 5, 10, 12);
const FAR = 1_000_000;

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
  const h = createHeadcount(onOptions(server.url, { now: () => NOW, ...extra }));
  handles.push(h);
  return h;
}

describe('while this process runs the schedule', () => {
  it('a timer is set: its time, and no note', async () => {
    const h = headcount({ store: new MemoryStateStore(), schedule: { firstDelayMs: [FAR, FAR] } });
    h.start();
    const status = await h.status();
    expect(status.nextSendAt).toBe(NOW + FAR);
    expect(status.nextSendNote).toBeUndefined();
  });

  it('a heartbeat in progress: no time, and a note saying so', async () => {
    server.script({ status: 200, hang: true });
    const h = headcount({ store: new MemoryStateStore(), schedule: { firstDelayMs: [0, 0] } });
    h.start();
    await server.waitFor(1);
    const status = await h.status();
    expect(status.nextSendAt).toBeUndefined();
    expect(status.nextSendNote).toBe('now: a heartbeat is in progress or being scheduled');
  });

  it('the state cannot be read at start: the first heartbeat is scheduled all the same', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    // A host's store may reject with anything, here a revoked proxy that throws on every look.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const store: StateStore = { read: () => Promise.reject(proxy), compareAndSet: () => Promise.resolve(true), clear: () => Promise.resolve() };
    const h = headcount({ store, schedule: { firstDelayMs: [FAR, FAR] } });
    h.start();
    expect((await h.status()).nextSendAt).toBe(NOW + FAR);
  });

  it('start() takes over the counts a previous run saved', async () => {
    const stateDir = tempDir();
    const file = join(stateDir, 'pending-features.json');
    writeFileSync(file, JSON.stringify([[Date.UTC(2025, 5, 9), { export_csv: 3 }]]));
    const h = headcount({ stateDir, store: new MemoryStateStore(), schedule: { firstDelayMs: [FAR, FAR] } });
    h.start();
    await h.status();
    expect(existsSync(file)).toBe(false);
    expect((await h.preview()).requests.map((r) => r.signal)).toEqual(['metrics', 'logs']);
  });
});

describe('as estimated for another process', () => {
  it('no heartbeat yet', async () => {
    const status = await headcount().status();
    expect(status.nextSendAt).toBeUndefined();
    expect(status.nextSendNote).toBe('within a minute of the product starting (no heartbeat in the last 24 h)');
  });

  it('the token was refused: none while the product runs, and when after a restart', async () => {
    server.script({ status: 401 });
    const stateDir = tempDir();
    expect((await headcount({ stateDir }).sendNow()).sent).toBe(false);
    const status = await headcount({ stateDir }).status();
    expect(status.nextSendAt).toBeUndefined();
    expect(status.nextSendNote).toBe(
      `none while the product runs: the collector refused the token (HTTP 401); after a restart, from ${new Date(NOW + DAY_MS).toISOString()}`,
    );
  });

  it('the token was refused and no send is on record: after a restart, within a minute of starting', async () => {
    server.script({ status: 401 });
    const stateDir = tempDir();
    // The sender keeps its id in memory; only the ledger (in the state dir) records the refusal.
    expect((await headcount({ stateDir, store: new MemoryStateStore() }).sendNow()).sent).toBe(false);
    const status = await headcount({ stateDir }).status();
    expect(status.nextSendAt).toBeUndefined();
    expect(status.nextSendNote).toBe(
      'none while the product runs: the collector refused the token (HTTP 401); after a restart, within a minute of the product starting',
    );
  });

  it('a Retry-After ending exactly when the interval does: the interval, with its usual note', async () => {
    server.script({ status: 429, headers: { 'retry-after': String(DAY_MS / 1000) } });
    const stateDir = tempDir();
    const sender = headcount({ stateDir });
    expect((await sender.sendNow()).sent).toBe(false);
    const status = await headcount({ stateDir }).status();
    expect(status.nextSendAt).toBe(NOW + DAY_MS);
    expect(status.nextSendNote).toBe('or up to an hour later (24 h after the last send)');
  });

  it('a Retry-After ending after the interval: that time, with a note saying why', async () => {
    server.script({ status: 429, headers: { 'retry-after': String(DAY_MS / 1000 + 1) } });
    const stateDir = tempDir();
    expect((await headcount({ stateDir }).sendNow()).sent).toBe(false);
    const status = await headcount({ stateDir }).status();
    expect(status.nextSendAt).toBe(Date.parse(new Date(NOW).toISOString()) + DAY_MS + 1_000);
    expect(status.nextSendNote).toBe('(the collector asked to wait: HTTP 429 with Retry-After)');
  });

  it('a short Retry-After is within the interval: the interval counts', async () => {
    server.script({ status: 429, headers: { 'retry-after': '1' } });
    const stateDir = tempDir();
    expect((await headcount({ stateDir, schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } }).sendNow()).sent).toBe(false);
    const status = await headcount({ stateDir }).status();
    expect(status.nextSendAt).toBe(NOW + DAY_MS);
    expect(status.nextSendNote).toBe('or up to an hour later (24 h after the last send)');
  });
});
