/**
 * Delivery outcomes of the active part, in process against a local capture server: what each
 * answer does to the heartbeat's result, the ledger, the logs, the pending feature counts and
 * the shutdown flush (one attempt, never a wait), and the words status() and sendNow() give.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { readLedger } from '../../src/local.ts';
import { newInstallId } from '../../src/store.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions } from '../helpers/sender.ts';

const DAY0 = Date.UTC(2025, 5, 10);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

let server: CaptureServer;
const handles: Headcount[] = [];
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});

function headcount(extra: Parameters<typeof onOptions>[1] = {}, url = server.url) {
  const lines: string[] = [];
  const opts = onOptions(url, { store: new MemoryStateStore(), log: (l) => lines.push(l), ...extra });
  const h = createHeadcount(opts);
  handles.push(h);
  return { h, lines, stateDir: opts.stateDir! };
}

/** A handle whose clock starts on DAY0 with one feature used that day, now on the next day (so it is pending). */
async function withPendingFeature(extra: Parameters<typeof onOptions>[1] = {}) {
  let clock = DAY0 + 3_600_000;
  const made = headcount({ now: () => clock, ...extra });
  await made.h.status();
  made.h.feature('export_csv');
  clock += DAY_MS;
  return made;
}

describe('answers to a heartbeat', () => {
  it('400: dropped with a warning naming the signal and status; the feature counts are not sent in another request', async () => {
    server.script({ status: 400 });
    const { h, lines } = await withPendingFeature();
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(false);
    expect(outcome.reason).toMatch(/ metrics: failed, logs: failed \(HTTP 400\)$/);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics']);
    expect(lines).toContain('the collector rejected a metrics request (HTTP 400); it is dropped');
  });

  it('200 for both: the result names both signals', async () => {
    const { h } = await withPendingFeature();
    const outcome = await h.sendNow();
    expect(Object.keys(outcome).sort()).toEqual(['reason', 'sent']);
    expect(outcome.sent).toBe(true);
    expect(outcome.reason).toMatch(/ metrics: sent, logs: sent \(HTTP 200\)$/);
    expect(outcome.reason).toMatch(ISO);
  });

  it('no answer at all: the result says HTTP none', async () => {
    const closed = await startCaptureServer();
    await closed.close();
    const { h } = headcount({ schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } }, closed.url);
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(false);
    expect(outcome.reason).toMatch(/ metrics: exhausted \(HTTP none\)$/);
  });

  it('logs refused with 401: the counts are not kept for another try', async () => {
    server.script({ status: 200 }, { status: 401 });
    const { h } = await withPendingFeature();
    const outcome = await h.sendNow();
    expect(outcome.reason).toMatch(/ metrics: sent, logs: unauthorized \(HTTP 401\)$/);
    expect((await h.preview()).requests.map((r) => r.signal)).toEqual(['metrics']);
    expect(await h.sendNow()).toEqual({ sent: false, reason: 'the collector refused the token; restart to try again' });
  });

  it('429 without Retry-After: the ledger entry carries no Retry-After', async () => {
    server.script({ status: 429 });
    const { h, stateDir } = headcount();
    expect((await h.sendNow()).reason).toMatch(/ metrics: rate-limited \(HTTP 429\)$/);
    const [entry] = await readLedger(stateDir);
    expect(Object.keys(entry!).sort()).toEqual(['bytes', 'sha256', 'signal', 'status', 'time']);
    // The file itself, as an operator reads it, has no Retry-After field either.
    expect(readFileSync(join(stateDir, 'ledger.jsonl'), 'utf8')).not.toContain('retryAfterMs');
  });

  it('a dropped attribute is counted on the metrics ledger entry', async () => {
    const { h, stateDir } = headcount({ simulatedHost: { osType: 'alice-laptop.corp.example' } });
    expect((await h.sendNow()).sent).toBe(true);
    const [entry] = await readLedger(stateDir);
    expect(entry!.redacted).toBe(1);
  });

  it('429 with a Retry-After of exactly maxRetryAfterMs is waited out in this cycle', async () => {
    server.script({ status: 429, headers: { 'retry-after': '1' } });
    const { h } = headcount({ schedule: { firstDelayMs: [0, 0], maxRetryAfterMs: 1_000 } });
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('429 with a Retry-After on the last attempt: rate-limited, not waited out', async () => {
    server.script({ status: 429, headers: { 'retry-after': '1' } });
    const { h } = headcount({ schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } });
    const outcome = await h.sendNow();
    expect(outcome.reason).toMatch(/ metrics: rate-limited \(HTTP 429\)$/);
    expect(server.requests).toHaveLength(1);
  });

  it('5xx on the last attempt: exhausted at once, without one more backoff wait', async () => {
    server.fallback = { status: 503 };
    const { h, stateDir } = headcount({ random: () => 0.99, schedule: { firstDelayMs: [0, 0], maxAttempts: 1, baseBackoffMs: 60_000, maxBackoffMs: 60_000 } });
    // A backoff here would be ~59 s, past the test's timeout.
    expect((await h.sendNow()).reason).toMatch(/ metrics: exhausted \(HTTP 503\)$/);
    expect(server.requests).toHaveLength(1);
    // No Retry-After came: the ledger file has no Retry-After field.
    expect(readFileSync(join(stateDir, 'ledger.jsonl'), 'utf8')).not.toContain('retryAfterMs');
  });

  it('503 with a Retry-After within maxRetryAfterMs: the retry waits that long', async () => {
    server.script({ status: 503, headers: { 'retry-after': '1' } });
    const { h } = headcount({ schedule: { firstDelayMs: [0, 0], maxRetryAfterMs: 1_000, baseBackoffMs: 5, maxBackoffMs: 10 } });
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('503 with a Retry-After beyond maxRetryAfterMs: the retry backs off as usual instead', async () => {
    server.script({ status: 503, headers: { 'retry-after': '3600' } });
    const { h } = headcount({ schedule: { firstDelayMs: [0, 0], maxRetryAfterMs: 1_000, baseBackoffMs: 5, maxBackoffMs: 10 } });
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeLessThan(900);
  });
});

describe('the shutdown flush: one attempt, never a wait', () => {
  // The flush goes out under an existing id only.
  const store = () => new MemoryStateStore({ installId: newInstallId(), idCreatedAt: Date.now() });
  it.each([
    ['503', { status: 503 }],
    ['429 with Retry-After', { status: 429, headers: { 'retry-after': '1' } }],
  ])('%s: one request, and the counts are kept on disk for the next run', async (_name, reply) => {
    server.fallback = reply;
    const { h, stateDir } = headcount({ store: store() });
    await h.status();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 5_000 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/logs']);
    expect(existsSync(join(stateDir, 'pending-features.json'))).toBe(true);
  });

  it('debug: the flush is printed, not sent', async () => {
    const { h, lines } = headcount({ store: store(), env: { ...onOptions(server.url).env, ACME_TELEMETRY_DEBUG: '1' } });
    await h.status();
    h.feature('export_csv');
    await h.shutdown({ timeoutMs: 2_000 });
    expect(server.requests).toHaveLength(0);
    expect(lines.filter((l) => l.startsWith('debug ('))).toEqual([
      expect.stringMatching(new RegExp(`^debug \\(ACME_TELEMETRY_DEBUG=1\\): not sending POST ${server.url}/v1/logs, \\d+ B protobuf, sha256 [0-9a-f]{64}$`)),
    ]);
  });
});

describe('results that are not a delivery', () => {
  it('debug: sendNow prints and says so', async () => {
    const { h } = headcount({ env: { ...onOptions(server.url).env, ACME_TELEMETRY_DEBUG: '1' } });
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(false);
    expect(outcome.reason).toMatch(new RegExp(`${ISO.source} debug: printed, not sent$`));
  });

  it('a heartbeat that cannot be built: warning, the cycle given back, the counts kept', async () => {
    let broken = true;
    const simulatedHost = {
      get osType(): string {
        if (broken) throw new TypeError('host fact failed');
        return 'linux';
      },
    };
    const { h, lines } = await withPendingFeature({ simulatedHost });
    expect(await h.sendNow()).toEqual({ sent: false, reason: 'build failed' });
    expect(lines).toContain('could not build the heartbeat (TypeError); will retry next cycle');
    expect(server.requests).toHaveLength(0);
    expect((await h.status()).lastSentAt).toBeUndefined();
    broken = false;
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs']);
  });

  it('an error inside the cycle: one warning by class, "internal error", never a rejection', async () => {
    let broken = false;
    const { h, lines } = headcount({
      now: () => {
        if (broken) throw new RangeError('clock');
        return DAY0;
      },
    });
    await h.status();
    broken = true;
    expect(await h.sendNow()).toEqual({ sent: false, reason: 'internal error' });
    expect(lines).toContain('heartbeat failed (RangeError)');
  });

  it('preview while on says so', async () => {
    const { h } = headcount();
    expect((await h.preview()).enabled).toBe(true);
  });
});
