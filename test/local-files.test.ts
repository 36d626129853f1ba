/**
 * Local files are input too: a corrupt or crafted state, pending-features, ledger, preference or
 * lock file costs the host at most milliseconds, never throws into it, never stops heartbeats for
 * good, and `status` says what was found. After a refusal, `status` tells the last result and
 * the real next attempt.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli.ts';
import { createHeadcount } from '../src/index.ts';
import { appendLedger, LEDGER_MAX_BYTES, readLedger } from '../src/local.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { runFixture, useChildContext } from './helpers/child.ts';
import { onOptions, tempDir } from './helpers/sender.ts';

let server: CaptureServer;
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(() => server.close());

const DAY = 24 * 3600_000;
const YEAR = 365 * DAY;
const UUID = '9f1c2b3a-1d2e-4f3a-8b9c-0d1e2f3a4b5c';

/** Runs `work` and returns the longest gap between 5 ms interval ticks meanwhile (a stall guard). */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let worst = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    worst = Math.max(worst, performance.now() - last);
    return { result, stallMs: worst };
  } finally {
    clearInterval(tick);
  }
}

function writeState(dir: string, state: object) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
}

describe('finding: a large pending-features.json blocked the host', () => {
  /** `n` day entries, newest first, ending yesterday (as a crafted or years-old file would hold). */
  function pendingFile(dir: string, n: number, now: number) {
    const today = now - (now % DAY);
    const entries = Array.from({ length: n }, (_, i) => [today - (i + 1) * DAY, { export_csv: 3 }]);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pending-features.json'), JSON.stringify(entries));
  }

  it.each([5_000, 20_000, 150_000])('%i day entries: start and shutdown resolve, the loop never stalls for seconds', async (n) => {
    const now = Date.now();
    const opts = onOptions(server.url, { schedule: { firstDelayMs: [3_600_000, 3_600_000] } });
    pendingFile(opts.stateDir!, n, now);
    const h = createHeadcount(opts);
    const { stallMs } = await longestStall(async () => {
      h.start();
      await h.status();
      h.feature('export_csv');
      await h.shutdown({ timeoutMs: 2_000 });
    });
    // A regression guard with a wide margin for a loaded machine (before: 1 s / 20 s / RangeError).
    expect(stallMs).toBeLessThan(750);
  }, 120_000);

  it('within its bounds, only recent past days of well-formed entries are sent; future days and junk are not', async () => {
    const now = Date.UTC(2026, 4, 10, 9);
    const today = now - (now % DAY);
    const opts = onOptions(server.url, { now: () => now });
    mkdirSync(opts.stateDir!, { recursive: true });
    const entries: unknown[] = [
      [today - DAY, { export_csv: 5, 'not a name': 3, dashboard_shared: -1 }],
      [today + 30 * DAY, { dashboard_shared: 7 }], // in the future
      [today - 40 * DAY, { dashboard_shared: 7 }], // older than 31 days
      [today - DAY + 1, { dashboard_shared: 7 }], // not a UTC midnight
      [today - 2 * DAY, { dashboard_shared: 1e300 }], // not a safe integer
      'junk',
      [today - 3 * DAY, null],
    ];
    writeFileSync(join(opts.stateDir!, 'pending-features.json'), JSON.stringify(entries));
    const h = createHeadcount(opts);
    expect((await h.sendNow()).sent).toBe(true);
    const logs = server.requests.filter((r) => r.path === '/v1/logs');
    expect(logs).toHaveLength(1);
    const body = logs[0]!.body.toString('latin1');
    expect(body).toContain('export_csv');
    expect(body).not.toContain('dashboard_shared');
    await h.shutdown();
  });

  it.each([
    ['not JSON', '[[1, {"export_csv": 3}'],
    ['deeply nested', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['over the size bound', JSON.stringify([[0, { export_csv: 1 }]]) + ' '.repeat(300 * 1024)],
  ])('%s: ignored and removed, nothing thrown', async (_name, text) => {
    const opts = onOptions(server.url);
    mkdirSync(opts.stateDir!, { recursive: true });
    writeFileSync(join(opts.stateDir!, 'pending-features.json'), text);
    const h = createHeadcount(opts);
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics']);
    await h.shutdown();
  });
});

describe('finding: silent stops after a clock that was wrong once', () => {
  it('a last-send time a year ahead is ignored: the first heartbeat goes out, with the reason in status', async () => {
    const opts = onOptions(server.url);
    writeState(opts.stateDir!, { installId: UUID, idCreatedAt: Date.now() - DAY, lastSentAt: Date.now() + YEAR });
    const h = createHeadcount(opts);
    h.start();
    await server.waitFor(1, 20_000);
    // The request arrived; the cycle finishes (state written, next timer set) a moment later.
    const status = await vi.waitFor(async () => {
      const s = await h.status();
      expect(s.nextSendAt).toBeTypeOf('number');
      return s;
    }, { timeout: 20_000, interval: 20 });
    expect(status.notes.join()).toMatch(/last-send time is in the future/);
    expect(status.nextSendAt).toBeLessThan(Date.now() + DAY + 2 * 3600_000);
    await h.shutdown();
  }, 30_000);

  it('an id created a year ahead is replaced at the next send (it would never rotate)', async () => {
    const opts = onOptions(server.url);
    writeState(opts.stateDir!, { installId: UUID, idCreatedAt: Date.now() + YEAR });
    const h = createHeadcount(opts);
    expect((await h.sendNow()).sent).toBe(true);
    const status = await h.status();
    expect(status.installId).not.toBe(UUID);
    expect(status.notes.join()).toMatch(/created in the future/);
    await h.shutdown();
  });

  it('a lock file dated a year ahead is broken like a stale one: the heartbeat goes out, with the reason in status', async () => {
    const opts = onOptions(server.url);
    mkdirSync(opts.stateDir!, { recursive: true });
    const lock = join(opts.stateDir!, 'state.json.lock');
    writeFileSync(lock, '');
    const future = new Date(Date.now() + YEAR);
    utimesSync(lock, future, future);
    const h = createHeadcount(opts);
    expect((await h.sendNow()).sent).toBe(true);
    expect((await h.status()).notes.join()).toMatch(/lock file dated in the future was removed/);
    await h.shutdown();
  }, 20_000);
});

describe('bounded and validated reads of the other files', () => {
  it('a 20 MiB state.json is not read: it counts as corrupt and is replaced', async () => {
    const opts = onOptions(server.url);
    mkdirSync(opts.stateDir!, { recursive: true });
    writeFileSync(join(opts.stateDir!, 'state.json'), JSON.stringify({ installId: UUID, idCreatedAt: Date.now() }) + ' '.repeat(20 * 1024 * 1024));
    const h = createHeadcount(opts);
    expect((await h.sendNow()).sent).toBe(true);
    const status = await h.status();
    expect(status.storeNote).toMatch(/corrupt/);
    expect(status.installId).not.toBe(UUID);
    expect(statSync(join(opts.stateDir!, 'state.json')).size).toBeLessThan(200);
  });

  it('a 20 MiB ledger: read from its tail only, trimmed on the next append, crafted lines skipped', async () => {
    const dir = tempDir();
    const line = JSON.stringify({ time: new Date(0).toISOString(), signal: 'metrics', bytes: 1, sha256: 'a'.repeat(64), status: 200 });
    const crafted = JSON.stringify({ time: 'alice', signal: 42, bytes: 'x', sha256: 'no', status: 200 });
    writeFileSync(join(dir, 'ledger.jsonl'), `${`${line}\n${crafted}\n`.repeat(Math.ceil((20 * 1024 * 1024) / (line.length + crafted.length)))}`);
    const entries = await readLedger(dir);
    expect(entries.length).toBeGreaterThan(100);
    expect(entries.length).toBeLessThanOrEqual(Math.ceil(LEDGER_MAX_BYTES / line.length));
    for (const e of entries) expect(e.signal).toBe('metrics');
    await appendLedger(dir, { time: new Date(1000).toISOString(), signal: 'logs', bytes: 2, sha256: 'b'.repeat(64), status: 200 });
    expect(statSync(join(dir, 'ledger.jsonl')).size).toBeLessThanOrEqual(LEDGER_MAX_BYTES);
    expect((await readLedger(dir)).at(-1)!.signal).toBe('logs');
    // `headcount last` prints it without tripping over the crafted lines.
    const out: string[] = [];
    const code = await runCli(['last'], onOptions(server.url, { stateDir: dir }), { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(code).toBe(0);
    expect(out.join('\n')).not.toContain('alice');
  });

  describe('FIFOs planted as preference.json, pending-features.json, state.json and ledger.jsonl (child process)', () => {
    const ctx = useChildContext();
    it('the host starts, sends, gets status and shuts down as usual', async () => {
      const dir = join(ctx.box.cwd, 'planted');
      mkdirSync(dir, { recursive: true });
      for (const name of ['preference.json', 'pending-features.json', 'state.json', 'ledger.jsonl']) execFileSync('mkfifo', [join(dir, name)]);
      const env = { ...ctx.box.env, ACME_TELEMETRY_TOKEN: 'planted-token-0123456789', ACME_TELEMETRY_FORCE: '1', ACME_TELEMETRY_ENDPOINT: ctx.server.url };
      const child = await runFixture<{ enabled: boolean; outcome: { sent: boolean }; storeNote: string | null; problems: string[] }>('planted-files.ts', { env, cwd: ctx.box.cwd, args: [dir], timeoutMs: 20_000 });
      expect(child.timedOut, child.stderr).toBe(false);
      expect(child.result?.enabled).toBe(true);
      expect(child.result?.outcome.sent).toBe(true);
      expect(child.result?.storeNote).toMatch(/corrupt/);
      expect(child.result?.problems).toEqual([]);
      expect(ctx.server.requests.map((r) => r.path)).toContain('/v1/metrics');
      expect(statSync(join(dir, 'state.json')).isFile()).toBe(true);
    }, 30_000);
  });
});

describe('finding: status after a refusal showed the claim time and a stale next send', () => {
  it('after a 401 the running product says there is no next send, and why', async () => {
    server.fallback = { status: 401 };
    const h = createHeadcount(onOptions(server.url));
    h.start();
    await server.waitFor(1, 20_000);
    await expect.poll(async () => (await h.status()).lastResult, { timeout: 10_000 }).toMatch(/unauthorized \(HTTP 401\)/);
    const status = await h.status();
    expect(status.nextSendAt).toBeUndefined();
    expect(status.nextSendNote).toMatch(/refused the token/);
    await h.shutdown();
  }, 30_000);

  async function cliStatusAfter(reply: { status: number; headers?: Record<string, string> }) {
    const opts = onOptions(server.url, { schedule: { firstDelayMs: [0, 0], maxAttempts: 1 } });
    server.fallback = reply;
    const product = createHeadcount(opts);
    await product.sendNow();
    const lastSentAt = (await product.status()).lastSentAt!;
    await product.shutdown();
    const out: string[] = [];
    await runCli(['status'], opts, { out: (t) => out.push(t), err: (t) => out.push(t) });
    return { text: out.join('\n'), lastSentAt };
  }

  it('headcount status after a 401: the result, and no next send while the product runs', async () => {
    const { text } = await cliStatusAfter({ status: 401 });
    expect(text).toMatch(/last send: .*, result: .*metrics: HTTP 401 \(token refused\)/);
    expect(text).toMatch(/next send: none while the product runs: the collector refused the token \(HTTP 401\)/);
  });

  it('headcount status after a 413: the result says the heartbeat was dropped', async () => {
    const { text, lastSentAt } = await cliStatusAfter({ status: 413 });
    expect(text).toMatch(/result: .*HTTP 413 \(too large: dropped\)/);
    expect(text).toContain(`next send: ${new Date(lastSentAt + DAY).toISOString()}`);
  });

  it('headcount status after a 429 with a 3-day Retry-After: the next attempt is when the collector allows it', async () => {
    const { text, lastSentAt } = await cliStatusAfter({ status: 429, headers: { 'retry-after': String(3 * 24 * 3600) } });
    expect(text).toMatch(/result: .*HTTP 429 \(rate-limited, Retry-After 259200 s\)/);
    const next = /next send: (\S+)/.exec(text)?.[1];
    expect(Date.parse(next!)).toBeGreaterThanOrEqual(lastSentAt + 3 * DAY - 60_000);
    expect(text).toContain('the collector asked to wait');
  });
});

describe('the state file stays readable by the owner only (control)', () => {
  it('is written 0600 after a send', async () => {
    const opts = onOptions(server.url);
    const h = createHeadcount(opts);
    await h.sendNow();
    expect(statSync(join(opts.stateDir!, 'state.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(opts.stateDir!, 'state.json'), 'utf8'))).toHaveProperty('installId');
    await h.shutdown();
  });
});

describe('ledger lines are validated field by field', () => {
  const good = { time: '2026-05-01T09:00:00.000Z', signal: 'metrics', bytes: 120, sha256: 'c'.repeat(64), status: 200 };
  it('a line as Headcount writes it is kept, with its optional fields', async () => {
    const { parseLedgerLine } = await import('../src/local.ts');
    expect(parseLedgerLine(JSON.stringify(good))).toEqual(good);
    expect(parseLedgerLine(JSON.stringify({ ...good, redacted: 2, retryAfterMs: 5000 }))).toEqual({ ...good, redacted: 2, retryAfterMs: 5000 });
  });
  it.each([
    ['time', { time: 'alice@example.com' }],
    ['signal', { signal: 'traces' }],
    ['bytes', { bytes: -1 }],
    ['bytes', { bytes: 1.5 }],
    ['sha256', { sha256: 'C'.repeat(64) }],
    ['status', { status: 1000 }],
    ['status', { status: '200' }],
    ['redacted', { redacted: -2 }],
    ['retryAfterMs', { retryAfterMs: 'soon' }],
  ])('a bad %s drops the line', async (_field, patch) => {
    const { parseLedgerLine } = await import('../src/local.ts');
    expect(parseLedgerLine(JSON.stringify({ ...good, ...patch }))).toBeUndefined();
  });
  it('junk, null and over-long lines are dropped', async () => {
    const { parseLedgerLine } = await import('../src/local.ts');
    for (const line of ['not json', 'null', '42', JSON.stringify({ ...good, pad: 'x'.repeat(600) })]) expect(parseLedgerLine(line)).toBeUndefined();
  });
});

describe('pending days are trimmed to the newest 31', () => {
  it('trimDays keeps the newest days in one pass', async () => {
    const { trimDays } = await import('../src/local.ts');
    const counts = new Map(Array.from({ length: 100 }, (_, i) => [i * DAY, new Map([['export_csv', 1]])]));
    trimDays(counts);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 31 }, (_, i) => (69 + i) * DAY));
  });
});

describe('error words', () => {
  it('name built-in error classes and platform errno codes only', async () => {
    const { errnoWord, errorWord } = await import('../src/words.ts');
    expect(errorWord(new TypeError('x'))).toBe('TypeError');
    expect(errorWord(Object.assign(new Error('x'), { name: 'hunter2' }))).toBe('an error');
    expect(errorWord(null)).toBe('an error');
    expect(errnoWord({ code: 'ENOSPC' })).toBe('ENOSPC');
    expect(errnoWord({ code: 'EHUNTER2' })).toBe('error');
    expect(errnoWord({ code: 'toString' })).toBe('error');
    expect(errnoWord(undefined)).toBe('error');
  });
});
