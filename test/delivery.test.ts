import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../src/index.ts';
import { readLedger } from '../src/local.ts';
import { parseRetryAfter, post, REQUEST_TIMEOUT_MS } from '../src/transport.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { onOptions, TOKEN } from './helpers/sender.ts';

let server: CaptureServer;
const handles: Headcount[] = [];
const track = (h: Headcount) => (handles.push(h), h);

beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});

describe('delivery to a real local HTTP server', () => {
  it('posts deflate-compressed protobuf with the bearer token and records the send in the ledger', async () => {
    const opts = onOptions(server.url);
    const h = track(createHeadcount(opts));
    h.feature('export_csv');
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(true);
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/metrics');
    expect(req.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['content-type']).toBe('application/x-protobuf');
    expect(req.headers['content-encoding']).toBe('deflate');
    expect(req.body.toString('latin1')).toContain('quantity.servers');
    const ledger = await readLedger(opts.stateDir!);
    expect(ledger.map((e) => [e.signal, e.status])).toEqual([['metrics', 200]]);
    expect(ledger[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Feature counts of today wait for the day to end (or shutdown): one record per feature per day.
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics']);
  });

  it('retries network errors and 5xx with backoff, then succeeds', async () => {
    server.script({ status: 503 }, { status: 500 }, { status: 502 });
    const h = track(createHeadcount(onOptions(server.url)));
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests).toHaveLength(4);
  });

  it('gives up after maxAttempts and gives the cycle back for a later retry', async () => {
    server.fallback = { status: 503 };
    const opts = onOptions(server.url, { schedule: { firstDelayMs: [0, 0], baseBackoffMs: 5, maxBackoffMs: 10, maxAttempts: 3 } });
    const h = track(createHeadcount(opts));
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(false);
    expect(server.requests).toHaveLength(3);
    const state = JSON.parse(readFileSync(join(opts.stateDir!, 'state.json'), 'utf8')) as { lastSentAt?: number };
    expect(state.lastSentAt).toBeUndefined();
  });

  it('honours Retry-After on 429', async () => {
    server.script({ status: 429, headers: { 'retry-after': '1' } });
    const h = track(createHeadcount(onOptions(server.url)));
    const t0 = Date.now();
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('429 without Retry-After waits for the next cycle instead of retrying', async () => {
    server.script({ status: 429 });
    const h = track(createHeadcount(onOptions(server.url)));
    // sendNow() resolves after every attempt of its cycle: a retry would have happened by now.
    expect((await h.sendNow()).sent).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('a Retry-After longer than a cycle pushes the next heartbeat back to it', async () => {
    server.script({ status: 429, headers: { 'retry-after': String(30 * 3600) } });
    const h = track(createHeadcount(onOptions(server.url)));
    h.start();
    await server.waitFor(1);
    // The cycle ends by scheduling the next one: wait for that, never for a fixed time.
    await vi.waitFor(async () => expect((await h.status()).nextSendAt! - Date.now()).toBeGreaterThan(29.9 * 3600_000), { timeout: 10_000, interval: 20 });
    expect(server.requests).toHaveLength(1);
  });

  it.each([401, 403])('%i stops sending until restart, with one log line', async (status) => {
    server.fallback = { status };
    const lines: string[] = [];
    const h = track(createHeadcount(onOptions(server.url, { log: (l) => lines.push(l) })));
    expect((await h.sendNow()).sent).toBe(false);
    expect((await h.sendNow()).sent).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(lines.filter((l) => /refused the token/.test(l))).toHaveLength(1);
    expect(lines.join()).not.toContain(TOKEN);
  });

  it('400 is not retried', async () => {
    server.fallback = { status: 400 };
    const h = track(createHeadcount(onOptions(server.url)));
    expect((await h.sendNow()).sent).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('times out a server that never answers after the default 10 s (fake clock)', async () => {
    expect(REQUEST_TIMEOUT_MS).toBe(10_000);
    server.fallback = { status: 200, hang: true };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const pending = post({ url: `${server.url}/v1/metrics`, token: TOKEN, body: new Uint8Array([1]), userAgent: 't' }).finally(() => (settled = true));
      await server.waitFor(1, 10_000);
      const turn = () => new Promise((r) => setImmediate(r));
      vi.advanceTimersByTime(9_990);
      await turn();
      expect(settled).toBe(false);
      vi.advanceTimersByTime(20);
      await vi.waitFor(() => expect(settled).toBe(true), { timeout: 5_000, interval: 10 });
      expect(await pending).toMatchObject({ kind: 'retryable', status: 0, error: 'timeout' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('bounds the whole exchange: a server that trickles its answer is cut off at the timeout', async () => {
    server.fallback = { status: 200, trickle: true };
    const t0 = Date.now();
    const r = await post({ url: `${server.url}/v1/metrics`, token: TOKEN, body: new Uint8Array([1]), userAgent: 't', timeoutMs: 300 });
    // A 200 status line whose body never ends is not a delivery.
    expect(r.kind).toBe('retryable');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('debug prints readable bodies instead of sending, and does not use up the day\'s heartbeat', async () => {
    const lines: string[] = [];
    const opts = onOptions(server.url, { log: (l) => lines.push(l) });
    const debug = track(createHeadcount({ ...opts, env: { ...opts.env, ACME_TELEMETRY_DEBUG: '1' } }));
    debug.start();
    const printed = () => lines.filter((l) => l.startsWith('debug (ACME_TELEMETRY_DEBUG=1): not sending POST'));
    await vi.waitFor(() => expect(printed()).toHaveLength(1), { timeout: 10_000, interval: 20 });
    // Printed, then the next cycle is scheduled a day on: nothing went out.
    await vi.waitFor(async () => expect((await debug.status()).nextSendAt! - Date.now()).toBeGreaterThan(23 * 3600_000), { timeout: 10_000, interval: 20 });
    expect(server.requests).toHaveLength(0);
    expect(printed()).toHaveLength(1);
    expect(printed()[0]).toContain('"quantity.servers"');
    expect(printed()[0]).toContain(`${server.url}/v1/metrics`);
    expect(existsSync(join(opts.stateDir!, 'state.json'))).toBe(false);
    await debug.shutdown();
    // Debug off again: the real heartbeat goes out at once.
    expect((await track(createHeadcount(opts)).sendNow()).sent).toBe(true);
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(58_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('schedule', () => {
  it('sends a first heartbeat shortly after start, then skips restarts within 24 h (persisted)', async () => {
    const opts = onOptions(server.url);
    const first = track(createHeadcount(opts));
    first.start();
    await server.waitFor(1);
    await first.shutdown();
    // A restart (crash loop) with the same state dir: no second heartbeat.
    const second = track(createHeadcount({ ...opts }));
    second.start();
    // start() reads the persisted last send, then schedules: wait for that decision.
    await vi.waitFor(async () => expect((await second.status()).nextSendAt).toBeDefined(), { timeout: 10_000, interval: 20 });
    const status = await second.status();
    expect(status.nextSendAt! - status.lastSentAt!).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(server.requests.filter((r) => r.path === '/v1/metrics')).toHaveLength(1);
  });

  it('after a failed cycle, the next try waits a retry cycle (not the start delay) even when an earlier send exists', async () => {
    let now = Date.UTC(2026, 0, 1);
    const schedule = { firstDelayMs: [0, 0] as const, maxAttempts: 1, retryCycleMs: 400, jitterMs: 0, baseBackoffMs: 5, maxBackoffMs: 5 };
    const opts = onOptions(server.url, { now: () => now, schedule });
    expect((await track(createHeadcount(opts)).sendNow()).sent).toBe(true);
    // Two days later the collector is down; a restarted install sends at once, fails, then waits.
    now += 2 * 24 * 3600_000;
    server.fallback = { status: 503 };
    server.requests.length = 0;
    const h = track(createHeadcount({ ...opts }));
    h.start();
    // One try at start, then one per 400 ms retry cycle, not a tight loop: the second try comes
    // at least a retry cycle after the first (timers never fire early; load only delays it).
    await server.waitFor(2, 10_000);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(395);
    // The next try is one retry cycle (400 ms, no jitter) after the failed one, on the test's clock.
    await vi.waitFor(async () => expect((await h.status()).nextSendAt).toBe(now + 400), { timeout: 10_000, interval: 20 });
  });

  it('replicas sharing one store send one heartbeat per cycle', async () => {
    const store = new MemoryStateStore();
    const replicas = Array.from({ length: 5 }, () => track(createHeadcount(onOptions(server.url, { store }))));
    for (const r of replicas) r.start();
    // Every replica has run its first cycle once each has scheduled the next a day on.
    await vi.waitFor(
      async () => {
        for (const r of replicas) expect((await r.status()).nextSendAt! - Date.now()).toBeGreaterThan(23 * 3600_000);
      },
      { timeout: 15_000, interval: 20 },
    );
    expect(server.requests.filter((r) => r.path === '/v1/metrics')).toHaveLength(1);
    const ids = new Set((await Promise.all(replicas.map((r) => r.status()))).map((s) => s.installId));
    expect(ids.size).toBe(1);
  });

  it('rotates the install id after rotateIdAfterDays', async () => {
    let now = Date.UTC(2026, 0, 1);
    const opts = onOptions(server.url, { now: () => now });
    const h = track(createHeadcount(opts));
    await h.sendNow();
    const id1 = (await h.status()).installId;
    now += 29 * 24 * 3600_000;
    await h.sendNow();
    expect((await h.status()).installId).toBe(id1);
    now += 2 * 24 * 3600_000;
    await h.sendNow();
    expect((await h.status()).installId).not.toBe(id1);
  });

  it('sends feature counts per completed day, and the rest on shutdown', async () => {
    let now = Date.UTC(2026, 0, 1, 12);
    const h = track(createHeadcount(onOptions(server.url, { now: () => now })));
    h.start();
    await server.waitFor(1);
    for (let i = 0; i < 12; i++) h.feature('export_csv');
    h.feature('dashboard_shared');
    now += 24 * 3600_000;
    await h.sendNow();
    const logs = server.requests.filter((r) => r.path === '/v1/logs');
    expect(logs).toHaveLength(1);
    const text = logs[0]!.body.toString('latin1');
    expect(text).toContain('export_csv');
    expect(text).toContain('10-99');
    expect(text).toContain('dashboard_shared');
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 1_000 });
    expect(server.requests.filter((r) => r.path === '/v1/logs')).toHaveLength(2);
  });
});

describe('shutdown', () => {
  it('keeps feature counts it could not deliver for the next run', async () => {
    server.fallback = { status: 503 };
    const opts = onOptions(server.url, { schedule: { maxAttempts: 1, firstDelayMs: [0, 0] } });
    const first = track(createHeadcount(opts));
    await first.sendNow();
    for (let i = 0; i < 3; i++) first.feature('export_csv');
    await first.shutdown({ timeoutMs: 500 });
    server.fallback = { status: 200 };
    server.requests.length = 0;
    const second = track(createHeadcount(opts));
    await second.sendNow();
    const logs = server.requests.filter((r) => r.path === '/v1/logs');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.body.toString('latin1')).toContain('export_csv');
  });

  it('status and preview (the CLI) leave saved counts on disk for the running sender', async () => {
    server.fallback = { status: 503 };
    const opts = onOptions(server.url, { schedule: { maxAttempts: 1, firstDelayMs: [0, 0] } });
    const first = track(createHeadcount(opts));
    await first.sendNow();
    first.feature('export_csv');
    await first.shutdown({ timeoutMs: 500 });
    const saved = join(opts.stateDir!, 'pending-features.json');
    expect(existsSync(saved)).toBe(true);
    const cli = track(createHeadcount(opts));
    await cli.status();
    const preview = await cli.preview();
    expect(JSON.stringify(preview.requests.map((r) => r.readable))).toContain('export_csv');
    expect(existsSync(saved)).toBe(true);
    server.fallback = { status: 200 };
    server.requests.length = 0;
    await track(createHeadcount(opts)).sendNow();
    expect(server.requests.filter((r) => r.path === '/v1/logs').map((r) => r.body.toString('latin1')).join()).toContain('export_csv');
    expect(existsSync(saved)).toBe(false);
  });
});
