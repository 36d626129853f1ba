/**
 * Never hurt the host, in real child processes: a collector that hangs must not keep the host
 * alive, a misbehaving collect() must not stop the heartbeat nor surface as an error, and
 * shutdown() must be bounded and still flush feature counts when it can.
 */
import { describe, expect, it } from 'vitest';
import { runFixture, useChildContext, type ChildResult } from './helpers/child.ts';


const TOKEN = 'safety-token-0123456789';

const ctx = useChildContext();

const onEnv = (): Record<string, string> => ({
  ...ctx.box.env,
  ACME_TELEMETRY_TOKEN: TOKEN,
  ACME_TELEMETRY_FORCE: '1',
  ACME_TELEMETRY_ENDPOINT: ctx.server.url,
});

async function run<T>(fixture: string, args: string[] = [], go?: Promise<unknown>): Promise<ChildResult<T> & { result: T }> {
  const child = await runFixture<T>(fixture, { env: onEnv(), cwd: ctx.box.cwd, args, timeoutMs: 20_000, ...(go === undefined ? {} : { go }) });
  if (child.timedOut) throw new Error(`${fixture} ${args.join(' ')} did not exit within 20 s`);
  if (child.code !== 0 || child.result === undefined) throw new Error(`${fixture} failed (${child.code}): ${child.stderr}`);
  return child as ChildResult<T> & { result: T };
}

/** The server accepts requests and never answers; resolves when the first one has arrived. */
const hang = (): Promise<void> => {
  ctx.server.fallback = { status: 200, hang: true };
  return ctx.server.waitFor(1, 15_000);
};

describe('a collector that never answers', () => {
  it('does not keep a short-lived host alive once its work is done', async () => {
    // The fixture works until the first heartbeat has reached the server (which never answers).
    const child = await run<{ enabled: boolean; workDoneAt: number }>('exit-while-hanging.ts', [], hang());
    expect(child.result.enabled).toBe(true);
    // The first heartbeat really was in flight (accepted, never answered) while the host worked.
    expect(ctx.server.requests.map((r) => r.path)).toEqual(['/v1/metrics']);
    expect(ctx.server.requests[0]!.at).toBeLessThanOrEqual(child.result.workDoneAt);
    // ...and the process ended by itself soon after its work, not at the 10 s request timeout
    // (the bound leaves room for a loaded machine and stays well under 10 s).
    expect(child.exitedAt - child.result.workDoneAt).toBeLessThan(5_000);
  });

  it('shutdown({ timeoutMs: 500 }) resolves within about a second and the process exits', async () => {
    // The fixture shuts down once the first heartbeat has reached the server (never answered).
    const child = await run<{ threw: string | null; shutdownMs: number; shutdownDoneAt: number }>('shutdown.ts', ['hanging'], hang());
    expect(ctx.server.requests[0]!.path).toBe('/v1/metrics');
    expect(child.result.threw).toBeNull();
    // Bounded by its 500 ms, not by the hanging request's 10 s timeout (room for a loaded machine).
    expect(child.result.shutdownMs).toBeGreaterThanOrEqual(450);
    expect(child.result.shutdownMs).toBeLessThan(3_000);
    expect(child.exitedAt - child.result.shutdownDoneAt).toBeLessThan(3_000);
  });
});

describe('shutdown() with a working collector', () => {
  it('flushes the pending feature counts as a /v1/logs request', async () => {
    const child = await run<{ outcome: { sent: boolean }; threw: string | null; shutdownStartedAt: number; shutdownMs: number }>('shutdown.ts', ['working']);
    expect(child.result.outcome.sent).toBe(true);
    expect(child.result.threw).toBeNull();
    const logs = ctx.server.requests.filter((r) => r.path === '/v1/logs');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.at).toBeGreaterThanOrEqual(child.result.shutdownStartedAt);
    expect(logs[0]!.body.toString('latin1')).toContain('export_csv');
    expect(logs[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    // Within its 2 s timeout (plus room for timers firing late on a loaded machine).
    expect(child.result.shutdownMs).toBeLessThan(3_000);
  });
});

interface CollectResult {
  readonly outcome: { sent: boolean; reason: string } | null;
  readonly threw: string | null;
  readonly sendMs: number;
  readonly problems: string[];
}

describe('a collect() that misbehaves', () => {
  async function heartbeatDespite(mode: string) {
    const child = await run<CollectResult>('bad-collect.ts', [mode]);
    expect(child.result.threw).toBeNull();
    expect(child.result.problems).toEqual([]);
    expect(child.result.outcome?.sent).toBe(true);
    const metrics = ctx.server.requests.filter((r) => r.path === '/v1/metrics');
    expect(metrics).toHaveLength(1);
    const body = metrics[0]!.body.toString('latin1');
    expect(body).toContain('headcount.heartbeat');
    // start() logs one notice that telemetry is on; the rest are the warnings under test.
    const isNotice = (l: string) => l.startsWith('[headcount] telemetry is ON');
    expect(child.headcountLines.filter(isNotice)).toHaveLength(1);
    return { ...child, body, headcountLines: child.headcountLines.filter((l) => !isNotice(l)) };
  }

  it.each(['throws', 'rejects'])('that %s: the heartbeat goes out without its values, one warning, no error text', async (mode) => {
    const { body, headcountLines, stderr } = await heartbeatDespite(mode);
    expect(body).not.toContain('quantity.');
    expect(body).not.toContain('flag.');
    expect(headcountLines).toEqual(['[headcount] collect() threw Error; this heartbeat goes out without its values']);
    expect(stderr).not.toContain('hunter2');
  });

  it('that never resolves: the heartbeat goes out after collectTimeoutMs (200 ms)', async () => {
    const { body, headcountLines, result } = await heartbeatDespite('hangs');
    expect(result.sendMs).toBeGreaterThanOrEqual(200);
    // A collect() that never resolves would hold the send until the fixture's 20 s kill; the
    // bound leaves room for a loaded machine (the first send also loads the OTel SDK).
    expect(result.sendMs).toBeLessThan(10_000);
    expect(body).not.toContain('quantity.');
    expect(headcountLines).toEqual(['[headcount] collect() timed out after 200 ms; this heartbeat goes out without its values']);
  });

  it('that returns junk: warnings name each bad key, values are not echoed, the good value still goes out', async () => {
    const { body, headcountLines, stderr } = await heartbeatDespite('junk');
    const warnings = headcountLines.join('\n');
    for (const key of ['servers', 'nope', 'sso_enabled']) expect(warnings).toContain(`"${key}"`);
    expect(headcountLines).toHaveLength(3);
    expect(stderr).not.toContain('lots');
    expect(stderr).not.toContain('yes');
    expect(body).toContain('quantity.users');
    expect(body).toContain('1-9');
    for (const key of ['quantity.servers', 'quantity.nope', 'flag.sso_enabled', 'lots']) expect(body).not.toContain(key);
  });
});
