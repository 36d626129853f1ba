/**
 * Consent at process level: a real child Node process runs Headcount with the example app's
 * options, the default state dir (the per-user state dir under a temp XDG_STATE_HOME) and an explicit env.
 * While off, probes installed before Headcount loads must see no network use, no OTel module
 * nor zod (both load with the SDK pipeline at the first heartbeat), and the temp home must stay empty. The positive control
 * (on) shows each probe does see those things when they happen.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFixture, useChildContext, type ChildResult } from './helpers/child.ts';


const TOKEN = 'consent-token-0123456789';

interface ConsentResult {
  readonly settings: { enabled: boolean; reason: string; warnings: string[] };
  readonly status: { enabled: boolean; reason: string; stateDir: string; installId: string | null };
  readonly outcome: { sent: boolean; reason: string };
  readonly network: string[];
  readonly modules: string[];
}

const ctx = useChildContext();

async function run(extra: Record<string, string>): Promise<ChildResult<ConsentResult> & { result: ConsentResult }> {
  const child = await runFixture<ConsentResult>('consent.ts', { env: { ...ctx.box.env, ...extra }, cwd: ctx.box.cwd });
  if (child.code !== 0 || child.result === undefined) throw new Error(`child failed (${child.code}): ${child.stderr}`);
  return child as ChildResult<ConsentResult> & { result: ConsentResult };
}

const otelOrZod = (modules: string[]) => modules.filter((m) => m.includes('@opentelemetry') || /\/zod\//.test(m));

describe('the probes', () => {
  it('record each kind of network use they watch, and module loads', async () => {
    const child = await runFixture<{ network: string[]; modules: string[] }>('probe-selftest.ts', { env: ctx.box.env, cwd: ctx.box.cwd, args: [ctx.server.url] });
    expect(child.code).toBe(0);
    const network = child.result!.network;
    expect(network).toContain('dns.lookup localhost');
    expect(network).toContain('dgram.createSocket udp4');
    expect(network).toContain(`fetch ${ctx.server.url}/probe-fetch`);
    expect(network).toContain('channel undici:request:create');
    expect(ctx.server.requests.map((r) => r.path)).toEqual(['/probe-fetch']);
    expect(otelOrZod(child.result!.modules).some((m) => m.includes('@opentelemetry/api'))).toBe(true);
  });
});

describe('nothing before consent (child process)', () => {
  const offCases: ReadonlyArray<[string, () => Record<string, string>, RegExp]> = [
    ['no token', () => ({ ACME_TELEMETRY_ENDPOINT: ctx.server.url }), /^ACME_TELEMETRY_TOKEN is not set/],
    [
      'DO_NOT_TRACK=1, with a token and FORCE=1',
      () => ({ DO_NOT_TRACK: '1', ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_FORCE: '1', ACME_TELEMETRY_ENDPOINT: ctx.server.url }),
      /^DO_NOT_TRACK is set/,
    ],
    [
      'ACME_TELEMETRY_DISABLED=1, with a token and FORCE=1',
      () => ({ ACME_TELEMETRY_DISABLED: '1', ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_FORCE: '1', ACME_TELEMETRY_ENDPOINT: ctx.server.url }),
      /^ACME_TELEMETRY_DISABLED is set/,
    ],
  ];

  it.each(offCases)('%s: no socket, no file, no OTel module', async (_name, env, reason) => {
    const { result, headcountLines } = await run(env());

    expect(result.settings.enabled).toBe(false);
    expect(result.settings.reason).toMatch(reason);
    expect(result.status.reason).toBe(result.settings.reason);
    expect(result.outcome.sent).toBe(false);
    expect(headcountLines).toEqual([]);

    // (a) no network: no connect, lookup, UDP socket, fetch, or client-socket channel event.
    expect(result.network).toEqual([]);
    expect(ctx.server.requests).toEqual([]);
    // (b) no file: the default state dir is inside the watched tree, and the tree is empty.
    expect(result.status.stateDir).toBe(join(ctx.box.stateHome, 'acme', 'telemetry'));
    expect(ctx.box.written()).toEqual([]);
    // (c) no OTel SDK or zod loaded; the hook did see Headcount itself load.
    expect(result.modules.some((m) => m.endsWith('/src/headcount.ts'))).toBe(true);
    expect(otelOrZod(result.modules)).toEqual([]);
    expect(result.modules.filter((m) => m.endsWith('/src/active.ts'))).toEqual([]);
  });

  it('the built package (dist/), no token: no socket, no file, no lazy chunk', async () => {
    const { result } = await run({ ACME_TELEMETRY_ENDPOINT: ctx.server.url, HEADCOUNT_FIXTURE_DIST: '1' });
    expect(result.settings.enabled).toBe(false);
    expect(result.network).toEqual([]);
    expect(ctx.box.written()).toEqual([]);
    expect(result.modules.some((m) => m.endsWith('/dist/index.js'))).toBe(true);
    // The active part and the OTel SDK chunks it loads in steps (otel-*, sdk-pipeline) must not load.
    expect(result.modules.filter((m) => /\/dist\/(active|otel-[a-z]+|sdk-pipeline)-[\w-]+\.js$/.test(m))).toEqual([]);
    expect(otelOrZod(result.modules)).toEqual([]);
  });

  it('positive control, built package: with a token and FORCE=1 the active chunk loads and sends', async () => {
    const { result } = await run({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_FORCE: '1', ACME_TELEMETRY_ENDPOINT: ctx.server.url, HEADCOUNT_FIXTURE_DIST: '1' });
    expect(result.outcome.sent).toBe(true);
    expect(result.modules.some((m) => /\/dist\/active-[\w-]+\.js$/.test(m))).toBe(true);
    for (const chunk of ['otel-base', 'otel-metrics', 'sdk-pipeline']) {
      expect(result.modules.some((m) => new RegExp(`/dist/${chunk}-[\\w-]+\\.js$`).test(m)), chunk).toBe(true);
    }
  });

  it('positive control: with a token and FORCE=1 the same probes see the connection, the OTel modules and the state file', async () => {
    const { result } = await run({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_FORCE: '1', ACME_TELEMETRY_ENDPOINT: ctx.server.url });
    const port = new URL(ctx.server.url).port;

    expect(result.settings.enabled).toBe(true);
    expect(result.outcome.sent).toBe(true);
    expect(result.network).toContain(`net.Socket#connect 127.0.0.1:${port}`);
    expect(result.network).toContain('channel net.client.socket');
    expect(ctx.server.requests.map((r) => r.path)).toContain('/v1/metrics');
    expect(ctx.server.requests[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);

    const loaded = otelOrZod(result.modules);
    expect(loaded.some((m) => m.includes('@opentelemetry/sdk-metrics'))).toBe(true);
    expect(loaded.some((m) => m.includes('@opentelemetry/sdk-logs'))).toBe(true);
    expect(loaded.some((m) => m.includes('/zod/'))).toBe(true);

    expect(ctx.box.written()).toContain(join('xdg-state', 'acme', 'telemetry', 'state.json'));
  });
});

describe('consent and reason matrix (child process)', () => {
  const on = () => ({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: ctx.server.url });

  it('CI=true with a token: off, and the reason names CI and the way to force it', async () => {
    const { result } = await run({ ...on(), CI: 'true' });
    expect(result.settings.enabled).toBe(false);
    expect(result.settings.reason).toMatch(/^CI detected/);
    expect(result.settings.reason).toContain('ACME_TELEMETRY_FORCE=1');
    expect(result.network).toEqual([]);
    expect(ctx.box.written()).toEqual([]);
    expect(otelOrZod(result.modules)).toEqual([]);
    expect(result.modules.filter((m) => m.endsWith('/src/active.ts'))).toEqual([]);
  });

  it('CI=true with ACME_TELEMETRY_FORCE=1: on, and it sends', async () => {
    const { result } = await run({ ...on(), CI: 'true', ACME_TELEMETRY_FORCE: '1' });
    expect(result.settings.enabled).toBe(true);
    expect(result.settings.reason).toBe('ACME_TELEMETRY_TOKEN is set and ACME_TELEMETRY_FORCE=1');
    expect(result.outcome.sent).toBe(true);
    expect(ctx.server.requests.map((r) => r.path)).toContain('/v1/metrics');
  });

  it('NODE_ENV=development with a token: off, with the reason', async () => {
    const { result } = await run({ ...on(), NODE_ENV: 'development' });
    expect(result.settings.enabled).toBe(false);
    expect(result.settings.reason).toBe('NODE_ENV=development; set ACME_TELEMETRY_FORCE=1 to send anyway');
    expect(ctx.server.requests).toEqual([]);
    expect(result.network).toEqual([]);
    expect(ctx.box.written()).toEqual([]);
    expect(otelOrZod(result.modules)).toEqual([]);
  });

  it('a token alone (no CI, production): on, with the reason', async () => {
    const { result } = await run(on());
    expect(result.settings.enabled).toBe(true);
    expect(result.settings.reason).toBe('ACME_TELEMETRY_TOKEN is set');
  });

  it('ACME_TELEMETRY_ENDPOINT=not a url: off, one warning naming the variable, value not echoed', async () => {
    const { result, headcountLines, stderr } = await run({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'not a url' });
    expect(result.settings.enabled).toBe(false);
    expect(result.settings.reason).toBe('ACME_TELEMETRY_ENDPOINT is invalid (safe choice: off)');
    expect(headcountLines).toHaveLength(1);
    expect(headcountLines[0]).toContain('ACME_TELEMETRY_ENDPOINT');
    expect(stderr).not.toContain('not a url'); // the message says "not a URL"; the value is lower case
    expect(result.network).toEqual([]);
  });

  it('an endpoint carrying credentials: off, the warning names the variable and never the secret', async () => {
    const { result, headcountLines, stderr } = await run({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://user:s3cr3t-zz9@collector.example' });
    expect(result.settings.enabled).toBe(false);
    expect(result.settings.reason).toBe('ACME_TELEMETRY_ENDPOINT is invalid (safe choice: off)');
    expect(headcountLines).toHaveLength(1);
    expect(headcountLines[0]).toContain('ACME_TELEMETRY_ENDPOINT');
    expect(stderr).not.toContain('s3cr3t-zz9');
    expect(stderr).not.toContain(TOKEN);
  });

  it('ACME_TELEMETRY_DISABLED=maybe: off, one warning naming the variable, value not echoed', async () => {
    const { result, headcountLines } = await run({ ...on(), ACME_TELEMETRY_DISABLED: 'maybe' });
    expect(result.settings.enabled).toBe(false);
    expect(result.settings.reason).toBe('ACME_TELEMETRY_DISABLED has an invalid value (safe choice: off)');
    expect(headcountLines).toHaveLength(1);
    expect(headcountLines[0]).toContain('ACME_TELEMETRY_DISABLED');
    expect(headcountLines[0]).not.toContain('maybe');
    expect(ctx.server.requests).toEqual([]);
  });
});
