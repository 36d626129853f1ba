/**
 * Which of the active part's timers may keep the host's process alive, observed on the timers
 * themselves (the global setTimeout is spied on, calling through): a retry wait is ref()ed only
 * for a foreground send (`sendNow()`, which the caller awaits), never for a scheduled heartbeat;
 * after shutdown() no timer it set is still pending (heartbeat, midnight, retry wait, and its own
 * deadlines); a retry wait that ran out is forgotten; the shutdown flush's request ends at the
 * deadline rather than at the transport's default timeout.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { readLedger } from '../../src/local.ts';
import { newInstallId } from '../../src/store.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions } from '../helpers/sender.ts';

const FAR = 9_876_543;
const RETRY_AFTER_MS = 30_000;

let server: CaptureServer;
let setTimeoutSpy: MockInstance<typeof setTimeout>;
const handles: Headcount[] = [];
beforeEach(async () => {
  server = await startCaptureServer();
  setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  vi.restoreAllMocks();
  await server.close();
});
function headcount(extra: Parameters<typeof onOptions>[1] = {}) {
  const opts = onOptions(server.url, { store: new MemoryStateStore({ installId: newInstallId(), idCreatedAt: Date.now() }), ...extra });
  const h = createHeadcount(opts);
  handles.push(h);
  return { h, stateDir: opts.stateDir! };
}

/** Every timer set through the global setTimeout since this test began, with its delay. */
const timers = () =>
  setTimeoutSpy.mock.calls.flatMap((call, i) => {
    const result = setTimeoutSpy.mock.results[i];
    return result?.type === 'return' ? [{ ms: call[1], timer: result.value }] : [];
  });
const timersOf = (ms: number) => timers().filter((t) => t.ms === ms).map((t) => t.timer);

/** Ref()ed timers, as Node counts what keeps the event loop alive. */
const refdTimers = () => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;

/**
 * Whether a timer is still pending, and whether it keeps the process alive. Flipping its ref state
 * changes Node's count of ref()ed timers only while it is pending (then the flip is undone).
 */
function probe(timer: NodeJS.Timeout): { pending: boolean; keepsAlive: boolean } {
  const before = refdTimers();
  if (timer.hasRef()) {
    timer.unref();
    const pending = refdTimers() === before - 1;
    timer.ref();
    return { pending, keepsAlive: pending };
  }
  timer.ref();
  const pending = refdTimers() === before + 1;
  timer.unref();
  return { pending, keepsAlive: false };
}

const retryWait = async () => {
  await vi.waitFor(() => expect(timersOf(RETRY_AFTER_MS)).toHaveLength(1), { timeout: 5_000, interval: 10 });
  return timersOf(RETRY_AFTER_MS)[0]!;
};

describe('a retry wait (503 with Retry-After: 30)', () => {
  it('of sendNow() keeps the process alive: the caller awaits the send', async () => {
    server.script({ status: 503, headers: { 'retry-after': '30' } });
    const { h } = headcount();
    const sending = h.sendNow();
    expect(probe(await retryWait())).toEqual({ pending: true, keepsAlive: true });
    await h.shutdown({ timeoutMs: 2_000 });
    expect((await sending).sent).toBe(true);
  });

  it('of a scheduled heartbeat never keeps the process alive', async () => {
    server.script({ status: 503, headers: { 'retry-after': '30' } });
    const { h } = headcount({ schedule: { firstDelayMs: [0, 0] } });
    h.start();
    expect(probe(await retryWait())).toEqual({ pending: true, keepsAlive: false });
  });
});

describe('after shutdown()', () => {
  it('no timer the active part set is still pending: heartbeat, midnight, retry wait and the deadlines', async () => {
    server.script({ status: 503, headers: { 'retry-after': '30' } });
    const { h } = headcount({ schedule: { firstDelayMs: [FAR, FAR] } });
    h.start();
    await vi.waitFor(async () => expect((await h.status()).nextSendAt).toBeDefined(), { timeout: 5_000, interval: 10 });
    h.feature('export_csv');
    const sending = h.sendNow();
    const wait = await retryWait();
    const heartbeat = timersOf(FAR);
    expect(heartbeat).toHaveLength(1);
    expect(probe(heartbeat[0]!)).toEqual({ pending: true, keepsAlive: false });
    const before = timers().length;
    await h.shutdown({ timeoutMs: 4_321 });
    // The wait ended at once: the send's second attempt got the 200 and the flush its own.
    expect((await sending).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/metrics', '/v1/logs']);
    const setDuringShutdown = timers().slice(before);
    // The shutdown's wait for the heartbeat in flight, and the flush's deadline.
    expect(setDuringShutdown.filter((t) => t.ms === 4_321)).toHaveLength(1);
    expect(setDuringShutdown.filter((t) => t.ms! > 0 && t.ms! <= 4_321).length).toBeGreaterThanOrEqual(2);
    for (const { timer } of timers()) expect(probe(timer)).toEqual({ pending: false, keepsAlive: false });
    expect(probe(wait).pending).toBe(false);
  });

  it('a retry wait that ran out is forgotten: shutdown() does not end it again', async () => {
    // No Retry-After: a backoff of 1..5 ms (baseBackoffMs 5), then the second attempt succeeds.
    server.script({ status: 503 });
    const { h } = headcount({ random: () => 0.5 });
    expect((await h.sendNow()).sent).toBe(true);
    const waited = timersOf(2);
    expect(waited).toHaveLength(1);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    await h.shutdown({ timeoutMs: 2_000 });
    expect(clearSpy.mock.calls.map((c) => c[0])).not.toContain(waited[0]);
  });

  it("the flush's request ends at the shutdown deadline, not at the transport's 10 s timeout", async () => {
    server.script({ status: 200, hang: true });
    const { h, stateDir } = headcount();
    await h.status();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 300 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/logs']);
    // The request ended (no answer: HTTP 0) well before 10 s.
    await vi.waitFor(async () => expect((await readLedger(stateDir)).map((e) => e.status)).toEqual([0]), { timeout: 4_000, interval: 20 });
  });
});
