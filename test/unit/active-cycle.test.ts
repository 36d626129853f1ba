/**
 * The heartbeat cycle of the active part, in process against a local capture server: which
 * outcomes keep the feature counts for the next heartbeat, when the claimed cycle is given back,
 * what is scheduled after a cycle (nothing once shut down; a retry cycle when the last send is
 * exactly one interval old), the redaction count on each ledger entry, a second shutdown(), and
 * the bound on days kept pending.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, MemoryStateStore } from '../../src/index.ts';
import { PENDING_MAX_DAYS, readLedger } from '../../src/local.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { newInstallId, type InstallState, type StateStore } from '../../src/store.ts';
import { captureEachTest } from '../helpers/capture-server.ts';
import { onOptions, tempDir } from '../helpers/sender.ts';

const HOUR_MS = 3_600_000;
const DAY0 = Date.UTC(2025, 5, 10);
const NOW = DAY0 + 12 * HOUR_MS;

const capture = captureEachTest();
afterEach(() => {
  vi.restoreAllMocks();
});
function headcount(extra: Parameters<typeof onOptions>[1] = {}) {
  const opts = onOptions(capture.server.url, { store: new MemoryStateStore(), ...extra });
  return { h: capture.track(createHeadcount(opts)), stateDir: opts.stateDir! };
}
const withId = (extra: Partial<InstallState> = {}) => new MemoryStateStore({ installId: newInstallId(), idCreatedAt: NOW - HOUR_MS, ...extra });

/** A handle whose clock starts on DAY0 with one feature used that day, now on the next day (so it is pending). */
async function withPendingFeature(extra: Parameters<typeof onOptions>[1] = {}) {
  let clock = DAY0 + HOUR_MS;
  const made = headcount({ now: () => clock, ...extra });
  await made.h.status();
  made.h.feature('export_csv');
  clock += DAY_MS;
  return made;
}

const paths = () => capture.server.requests.map((r) => r.path);

describe('the feature counts after a heartbeat', () => {
  it('not delivered (503 on the only attempt): kept, and the next heartbeat carries them', async () => {
    capture.server.script({ status: 503 });
    const { h } = await withPendingFeature({ schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } });
    expect((await h.sendNow()).reason).toMatch(/ metrics: exhausted, logs: exhausted \(HTTP 503\)$/);
    expect((await h.sendNow()).reason).toMatch(/ metrics: sent, logs: sent \(HTTP 200\)$/);
    expect(paths()).toEqual(['/v1/metrics', '/v1/metrics', '/v1/logs']);
  });

  it('logs rejected (400): dropped, the next heartbeat does not send them again', async () => {
    capture.server.script({ status: 200 }, { status: 400 });
    const { h } = await withPendingFeature();
    expect((await h.sendNow()).reason).toMatch(/ metrics: sent, logs: failed \(HTTP 400\)$/);
    expect((await h.sendNow()).reason).toMatch(/ metrics: sent \(HTTP 200\)$/);
    expect(paths()).toEqual(['/v1/metrics', '/v1/logs', '/v1/metrics']);
  });

  it(`kept after a failed heartbeat: still at most ${PENDING_MAX_DAYS} days, the oldest dropped`, async () => {
    // Counts saved by a previous run for the last 31 days up to today, and one more day in this
    // process's own pending counts (seen by preview, which does not take the saved ones over).
    let clock = DAY0 + HOUR_MS;
    const stateDir = tempDir();
    const { h } = headcount({ stateDir, now: () => clock, schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } });
    await h.status();
    h.feature('export_csv');
    clock += DAY_MS;
    const today = DAY0 + DAY_MS;
    const saved = Array.from({ length: PENDING_MAX_DAYS }, (_, i) => today - (PENDING_MAX_DAYS - 1 - i) * DAY_MS)
      .filter((day) => day !== DAY0)
      .concat([today - PENDING_MAX_DAYS * DAY_MS]);
    expect(new Set(saved).size).toBe(PENDING_MAX_DAYS);
    writeFileSync(join(stateDir, 'pending-features.json'), JSON.stringify(saved.map((day) => [day, { export_csv: 1 }])));
    await h.preview();
    capture.server.script({ status: 503 });
    expect((await h.sendNow()).reason).toMatch(/ metrics: exhausted/);
    // The one that failed carried every day; what is kept for the next one is trimmed.
    const logs = (await h.preview()).requests.find((r) => r.signal === 'logs');
    const days = new Set(JSON.stringify(logs!.readable).match(/"timeUnixNano":"\d+"/g));
    expect(days.size).toBe(PENDING_MAX_DAYS);
  });
});

describe('the claimed cycle', () => {
  it('a scheduled heartbeat stopped by shutdown() in its retry wait gives the cycle back', async () => {
    capture.server.script({ status: 503, headers: { 'retry-after': '30' } });
    const store = withId();
    const { h, stateDir } = headcount({ store, now: () => NOW, schedule: { firstDelayMs: [0, 0] } });
    h.start();
    await vi.waitFor(async () => expect(await readLedger(stateDir)).toHaveLength(1), { timeout: 5_000, interval: 10 });
    expect((await store.read())?.lastSentAt).toBe(NOW);
    await h.shutdown({ timeoutMs: 2_000 });
    expect(capture.server.requests).toHaveLength(1);
    expect((await store.read())?.lastSentAt).toBeUndefined();
  });

  it('given back but the store then fails: the claim stays what this process knows', async () => {
    // The first compare-and-set (the claim) works; the give-back and every later read reject with
    // a value that throws when looked at (a revoked proxy).
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let state: InstallState | undefined = { installId: newInstallId(), idCreatedAt: NOW - HOUR_MS };
    let broken = false;
    let writes = 0;
    const store: StateStore = {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      read: () => (broken ? Promise.reject(proxy) : Promise.resolve(state)),
      compareAndSet: (_expected, next) => {
        if (writes++ > 0) {
          broken = true;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          return Promise.reject(proxy);
        }
        state = next;
        return Promise.resolve(true);
      },
      clear: () => Promise.resolve(),
    };
    capture.server.script({ status: 503 });
    const { h } = headcount({ store, now: () => NOW, schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } });
    expect((await h.sendNow()).reason).toMatch(/ metrics: exhausted \(HTTP 503\)$/);
    expect(writes).toBe(2);
    expect((await h.status()).lastSentAt).toBe(NOW);
  });
});

describe('what is scheduled after a cycle', () => {
  it('nothing once shut down: a cycle ending after shutdown() sets no timer', async () => {
    capture.server.script({ status: 503, headers: { 'retry-after': '30' } });
    const retryCycleMs = 7_654_321;
    const { h, stateDir } = headcount({ store: withId(), schedule: { firstDelayMs: [0, 0], retryCycleMs, jitterMs: 0 } });
    h.start();
    await vi.waitFor(async () => expect(await readLedger(stateDir)).toHaveLength(1), { timeout: 5_000, interval: 10 });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    await h.shutdown({ timeoutMs: 2_000 });
    expect(setTimeoutSpy.mock.calls.map((c) => c[1])).not.toContain(retryCycleMs);
  });

  it('a failed cycle whose last send is exactly one interval old: a retry cycle, not an immediate new try', async () => {
    capture.server.fallback = { status: 503 };
    const { h } = headcount({ store: withId({ lastSentAt: NOW - DAY_MS }), now: () => NOW, schedule: { firstDelayMs: [0, 0], maxAttempts: 1, jitterMs: 0 } });
    h.start();
    await vi.waitFor(async () => expect((await h.status()).nextSendAt).toBe(NOW + HOUR_MS), { timeout: 5_000, interval: 10 });
    expect(capture.server.requests).toHaveLength(1);
  });
});

describe('attributes dropped by the redacting processors, per ledger entry', () => {
  it("each heartbeat's metrics entry and the flush's logs entry count only their own", async () => {
    const { h, stateDir } = headcount({ store: withId(), simulatedHost: { osType: 'alice-laptop.corp.example' } });
    expect((await h.sendNow()).sent).toBe(true);
    expect((await h.sendNow()).sent).toBe(true);
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 5_000 });
    const ledger = await readLedger(stateDir);
    expect(ledger.map((e) => [e.signal, e.redacted])).toEqual([
      ['metrics', 1],
      ['metrics', 1],
      // The flush's logs body drops os.type twice (status().redactions counts it so too).
      ['logs', 2],
    ]);
  });
});

describe('shutdown() twice', () => {
  it('the second does nothing: counts made after the first are not flushed', async () => {
    const { h } = headcount({ store: withId() });
    await h.status();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 5_000 });
    expect(paths()).toEqual(['/v1/logs']);
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 5_000 });
    expect(paths()).toEqual(['/v1/logs']);
  });
});
