/**
 * The sender against a hostile or careless host: its trace context, its errors, its version
 * string, its endpoint and its collect() result never become a channel for its data, and never
 * break the heartbeat.
 */
import { readFileSync } from 'node:fs';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpointProblem, isLoopbackHost, resolveSettings } from '../src/config.ts';
import { versionFacts } from '../src/environment.ts';
import { createHeadcount, MemoryStateStore, type Report, type StateStore } from '../src/index.ts';
import { allowListFor } from '../src/otlp/allowlist.ts';
import { RedactingLogRecordProcessor } from '../src/otlp/redacting.ts';
import { RedactionCounter } from '../src/otlp/redaction-counter.ts';
import { PRERELEASE_WORDS, VERSION_PATTERN } from '../src/patterns.ts';
import options from '../examples/acme-app/telemetry.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { onOptions } from './helpers/sender.ts';

let server: CaptureServer;
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(() => server.close());

const HOST_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const HOST_SPAN_ID = 'b7ad6b7169203331';
const hostSpanContext = { traceId: HOST_TRACE_ID, spanId: HOST_SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: false };
const hostContext = (): Context => trace.setSpanContext(ROOT_CONTEXT, hostSpanContext);

/** True when a body carries the host's trace or span id (raw bytes in protobuf, hex in JSON). */
function carriesHostIds(bytes: Uint8Array | string): boolean {
  const body = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  return [Buffer.from(HOST_TRACE_ID, 'hex'), Buffer.from(HOST_SPAN_ID, 'hex'), Buffer.from(HOST_TRACE_ID), Buffer.from(HOST_SPAN_ID)].some((id) => body.includes(id));
}

describe('finding: the host trace context leaked into feature log records', () => {
  const DAY = 24 * 3600_000;

  async function sendInsideHostSpan(run: (fn: () => Promise<unknown>) => Promise<unknown>) {
    let now = Date.UTC(2026, 4, 1, 9);
    const h = createHeadcount(onOptions(server.url, { now: () => now }));
    await run(() => h.sendNow());
    h.feature('export_csv');
    now += DAY; // yesterday's count goes with the next heartbeat
    const preview = await run(() => h.preview());
    await run(() => h.sendNow());
    h.feature('dashboard_shared');
    await run(() => h.shutdown({ timeoutMs: 2_000 }));
    const logs = server.requests.filter((r) => r.path === '/v1/logs');
    // Both the heartbeat's and the shutdown flush's feature records went out.
    expect(logs).toHaveLength(2);
    expect(logs.map((r) => r.body.toString('latin1')).join()).toContain('dashboard_shared');
    for (const r of logs) expect(carriesHostIds(r.body)).toBe(false);
    expect(carriesHostIds(JSON.stringify((preview as Awaited<ReturnType<typeof h.preview>>).requests.map((r) => r.readable)))).toBe(false);
  }

  it('heartbeat, preview and shutdown flush inside a host span (AsyncLocalStorage context manager) carry no trace or span id', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const tracer = trace.getTracer('host');
      expect(tracer).toBeDefined();
      await sendInsideHostSpan((fn) => context.with(hostContext(), fn));
    } finally {
      context.disable();
    }
  });

  it('a host context manager that always answers its own span does not leak it either', async () => {
    const sticky: ContextManager = {
      active: () => hostContext(),
      with: (_ctx, fn, thisArg, ...args) => fn.call(thisArg, ...args),
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    context.setGlobalContextManager(sticky);
    try {
      expect(trace.getSpanContext(context.active())?.traceId).toBe(HOST_TRACE_ID);
      await sendInsideHostSpan((fn) => fn());
    } finally {
      context.disable();
    }
  });

  it('the redacting log processor alone strips a trace context a record was emitted with, and counts it', async () => {
    const kept: ReadableLogRecord[] = [];
    const capture: LogRecordProcessor = { onEmit: (r) => void kept.push(r), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
    const counter = new RedactionCounter();
    const provider = new LoggerProvider({ processors: [new RedactingLogRecordProcessor(capture, allowListFor(options.catalog), counter)] });
    provider.getLogger('headcount').emit({ context: hostContext(), eventName: 'headcount.feature', attributes: { 'feature.name': 'export_csv', 'feature.uses': '1-9' } });
    await provider.shutdown();
    expect(kept).toHaveLength(1);
    expect(kept[0]!.spanContext).toBeUndefined();
    expect(counter.entries()).toContainEqual({ where: 'log', key: 'spanContext', reason: 'trace-context-not-allowed', count: 1 });
  });
});

describe('finding: warnings echoed values from errors and stores', () => {
  const SECRET = 'alice@example.com';

  it.each([
    ['an error whose name is a value', () => Object.assign(new Error('x'), { name: SECRET })],
    ['an object whose name getter throws', () => ({ get name(): string { throw new Error(SECRET); } })],
    ['a revoked proxy', () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; }],
    ['a string', () => SECRET],
  ])('collect() throwing %s: fixed words only, and the heartbeat still goes out', async (_name, thrown) => {
    const lines: string[] = [];
    const h = createHeadcount(
      onOptions(server.url, {
        log: (l) => lines.push(l),
        collect: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- a host may throw anything
          throw thrown();
        },
      }),
    );
    expect((await h.sendNow()).sent).toBe(true);
    expect(lines).toContain('collect() threw an error; this heartbeat goes out without its values');
    expect(lines.join('\n')).not.toContain('alice');
    await h.shutdown();
  });

  it("a product's store failing with a crafted code: the warning and status say `error`, never the code", async () => {
    const lines: string[] = [];
    const store: StateStore = {
      read: () => Promise.reject(Object.assign(new Error('x'), { code: 'hunter2-db.internal' })),
      compareAndSet: () => Promise.reject(Object.assign(new Error('x'), { code: 'hunter2-db.internal' })),
      clear: () => Promise.resolve(),
    };
    const h = createHeadcount(onOptions(server.url, { log: (l) => lines.push(l), store }));
    expect((await h.sendNow()).sent).toBe(true);
    const status = await h.status();
    expect(lines).toContain('state could not be read (error); using an in-memory install id for this run');
    expect(`${lines.join('\n')}${JSON.stringify(status)}`).not.toContain('hunter2');
    await h.shutdown();
  });

  it('control: an OS error code from the platform list is named', async () => {
    const lines: string[] = [];
    const eacces = () => Promise.reject(Object.assign(new Error('x'), { code: 'EACCES' }));
    const store: StateStore = { read: eacces, compareAndSet: eacces, clear: () => Promise.resolve() };
    const h = createHeadcount(onOptions(server.url, { log: (l) => lines.push(l), store }));
    expect((await h.sendNow()).sent).toBe(true);
    expect(lines).toContain('state could not be read (EACCES); using an in-memory install id for this run');
    await h.shutdown();
  });

  it("a product's store returning junk: it is neither used nor shown", async () => {
    const junk = { installId: SECRET, idCreatedAt: 1 };
    const store = { read: () => Promise.resolve(junk), compareAndSet: () => Promise.resolve(true), clear: () => Promise.resolve() } as unknown as StateStore;
    const h = createHeadcount(onOptions(server.url, { store }));
    expect((await h.sendNow()).sent).toBe(true);
    expect(JSON.stringify(await h.status())).not.toContain('alice');
    expect(server.requests.map((r) => r.body.toString('latin1')).join()).not.toContain('alice');
    const off = createHeadcount(onOptions(server.url, { store, env: {} }));
    expect((await off.status()).installId).toBeUndefined();
    await h.shutdown();
  });
});

describe('finding: the product version was a free-text channel', () => {
  // Scrubber misses of the kind found: phone, card, MAC, host-like words, a user name.
  const channels = ['4155550123', '4111111111111111', '001a2b3c4d5e', 'db1.corp', 'jdoe', 'rc.1.192.168', 'rc.1000', 'beta.01', 'dev-ab12'];

  it.each(channels)('1.4.0-%s leaves, previews and shows as 1.4.0 (channel dev)', async (pre) => {
    const opts = onOptions(server.url, { version: `1.4.0-${pre}+build.7` });
    const h = createHeadcount(opts);
    const [metrics] = (await h.preview()).requests;
    const readable = JSON.stringify(metrics!.readable);
    expect(readable).toContain('{"key":"service.version","value":{"stringValue":"1.4.0"}}');
    expect(readable).toContain('{"key":"headcount.channel","value":{"stringValue":"dev"}}');
    expect(readable).not.toContain(pre);
    expect((await h.status()).version).toBe('1.4.0');
    const off = createHeadcount({ ...opts, env: {} });
    expect((await off.status()).version).toBe('1.4.0');
    await h.sendNow();
    expect(server.requests[0]!.body.toString('latin1')).not.toContain(pre);
    await h.shutdown();
  });

  it('pre-releases from the closed vocabulary are kept, lower-cased, with a small number', () => {
    expect(PRERELEASE_WORDS).toEqual(['alpha', 'beta', 'rc', 'dev', 'pre', 'canary', 'nightly']);
    const kept: Array<[string, string, string]> = [
      ['1.4.0', '1.4.0', 'stable'],
      ['v1.4.0-rc.1', '1.4.0-rc.1', 'rc'],
      ['1.4.0-RC2', '1.4.0-rc2', 'rc'],
      ['1.4.0-beta', '1.4.0-beta', 'rc'],
      ['1.4.0-alpha.99', '1.4.0-alpha.99', 'rc'],
      ['2024.01.05', '2024.1.5', 'stable'],
      ['9999.0.0-rc7', '9999.0.0-rc7', 'rc'],
      ['1.4.0-pre.0', '1.4.0-pre.0', 'rc'],
      ['1.4.0-nightly+abc', '1.4.0-nightly', 'dev'],
      ['1.4.0-canary.3', '1.4.0-canary.3', 'dev'],
      ['1.4.0-dev', '1.4.0-dev', 'dev'],
    ];
    for (const [raw, version, channel] of kept) {
      expect(versionFacts(raw), raw).toEqual({ version, channel, cut: false });
      expect(VERSION_PATTERN.test(version), version).toBe(true);
    }
    expect(VERSION_PATTERN.test('1.4.0-jdoe')).toBe(false);
    expect(versionFacts('1.4.0-rc.100')).toEqual({ version: '1.4.0', channel: 'dev', cut: true });
    for (const bad of ['', 'latest', '1.4', '10000.0.0', '1.123456789.0', 42, undefined]) expect(versionFacts(bad)).toBeUndefined();
  });

  it('the sender and the collector accept exactly the same versions (one grammar on both sides)', () => {
    const yaml = readFileSync(new URL('../collector-config/otelcol.yaml', import.meta.url), 'utf8');
    const m = /delete_key\(resource\.attributes, "service\.version"\) where not IsMatch\(resource\.attributes\["service\.version"\], "([^"]+)"\)/.exec(yaml);
    expect(m, 'the collector checks service.version with one IsMatch').not.toBeNull();
    const collector = new RegExp(m![1]!.replaceAll('[.]', '\\.'));
    const samples = ['0.0.0', '1.4.0', '01.4.0', '9999.9999.9999', '10000.0.0', '1.4.0-rc', '1.4.0-rc.1', '1.4.0-rc1', '1.4.0-rc.99', '1.4.0-rc.100', '1.4.0-rc.01',
      '1.4.0-nightly', '1.4.0-jdoe', '1.4.0-RC.1', '1.4', '1.4.0.0', 'v1.4.0', '1.4.0+sha', ...PRERELEASE_WORDS.map((w) => `2.0.0-${w}.7`)];
    for (const v of samples) expect(VERSION_PATTERN.test(v), v).toBe(collector.test(v));
    // And every version the sender sends passes the collector.
    for (const raw of ['2024.01.05', 'v1.4.0-RC.3+build.7', '1.4.0-alpha.150', '3.2.1-canary']) {
      const sent = versionFacts(raw)?.version;
      expect(sent !== undefined && collector.test(sent), raw).toBe(true);
    }
  });
});

describe('finding: the endpoint accepted user info', () => {
  it.each(['https://@t.example.com', 'https://:@t.example.com', 'https://user@t.example.com', 'http://u:p@t.example.com', 'http://u:p@127.0.0.1:4318'])(
    '%s is refused with an error naming the user info, never echoing it',
    (endpoint) => {
      const problem = endpointProblem(endpoint);
      expect(problem).toMatch(/user name or password/);
      const s = resolveSettings({ product: 'acme', envPrefix: 'ACME_', env: { ACME_TELEMETRY_TOKEN: 'tok-1234567890', ACME_TELEMETRY_ENDPOINT: endpoint }, defaultEndpoint: undefined, ci: { isCI: false, name: null }, readPreference: () => undefined });
      expect(s.enabled).toBe(false);
      expect(s.warnings.join()).toMatch(/^ACME_TELEMETRY_ENDPOINT: must not carry a user name or password/);
      expect(s.warnings.join()).not.toMatch(/\bu:p\b|user@/);
    },
  );
});

describe('finding: a DNS name starting with 127. counted as loopback', () => {
  it.each(['http://127.attacker.invalid', 'http://127.0.0.1.nip.io', 'http://127.0.0.1evil.example', 'http://localhost.attacker.invalid', 'http://[::ffff:7f00:1]', 'http://0.0.0.0'])(
    '%s: plain http is refused',
    (endpoint) => {
      expect(endpointProblem(endpoint)).toMatch(/plain http is only allowed to a loopback address/);
    },
  );

  it.each(['http://127.0.0.1:4318', 'http://127.1.2.3', 'http://127.1', 'http://0x7f.0.0.1', 'http://localhost:4318', 'http://[::1]:4318', 'http://[0:0:0:0:0:0:0:1]'])('%s is loopback', (endpoint) => {
    expect(endpointProblem(endpoint)).toBeUndefined();
  });

  it('isLoopbackHost takes URL host names: IPv4 literals in 127.0.0.0/8, [::1], localhost', () => {
    expect(isLoopbackHost('127.255.255.255')).toBe(true);
    expect(isLoopbackHost('127.256.0.1')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.')).toBe(false);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });
});

describe('finding: a hostile collect() result dropped the whole heartbeat', () => {
  const throwing = (): Report => ({
      quantities: {
        users: 7,
        get servers(): number {
          throw new Error('db down');
        },
      },
      flags: { sso_enabled: true },
    });
  const trapProxy = (): Report =>
    ({
      quantities: new Proxy({ users: 7 }, {
        ownKeys: () => {
          throw new Error('trap');
        },
        get: (t, k): unknown => {
          if (k === 'servers') throw new Error('trap');
          return Reflect.get(t, k);
        },
      }),
      flags: { sso_enabled: true },
    });
  const revokedSection = (): Report => {
    const p = Proxy.revocable({ users: 7 }, {});
    p.revoke();
    return { quantities: { users: 7 }, flags: p.proxy } as unknown as Report;
  };
  const revokedReport = (): Report => {
    const p = Proxy.revocable({}, {});
    p.revoke();
    return p.proxy;
  };

  it.each([
    ['a throwing getter', throwing, true],
    ['a proxy whose traps throw', trapProxy, true],
    ['a revoked proxy as one section', revokedSection, true],
    ['a revoked proxy as the whole result', revokedReport, false],
  ])('%s: preview resolves and the heartbeat goes out with the readable values', async (_name, collect, keepsUsers) => {
    const lines: string[] = [];
    const h = createHeadcount(onOptions(server.url, { collect, log: (l) => lines.push(l) }));
    const preview = await h.preview();
    expect(preview.requests).toHaveLength(1);
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(true);
    const body = server.requests[0]!.body.toString('latin1');
    expect(body).toContain('headcount.heartbeat');
    expect(body.includes('quantity.users')).toBe(keepsUsers);
    expect(body).not.toContain('quantity.servers');
    expect(lines.join('\n')).not.toMatch(/db down|trap/);
    await h.shutdown();
  });

  it('values of undeclared keys are never read, and at most MAX_COLLECT_KEYS keys are looked at', async () => {
    let reads = 0;
    const quantities: Record<string, number> = { users: 7 };
    for (let i = 0; i < 50_000; i++) {
      Object.defineProperty(quantities, `k${i}`, {
        enumerable: true,
        get: () => {
          reads++;
          return i;
        },
      });
    }
    const lines: string[] = [];
    const h = createHeadcount(onOptions(server.url, { collect: () => ({ quantities }), log: (l) => lines.push(l) }));
    const [metrics] = (await h.preview()).requests;
    expect(JSON.stringify(metrics!.readable)).toContain('quantity.users');
    expect(reads).toBe(0);
    expect(lines.filter((l) => l.includes('undeclared') || l.includes('not declared')).length).toBeLessThanOrEqual(21);
    expect(lines).toContain('collect(): quantities has more than 256 keys; only declared names were read');
  });

  it('a proxy result is never enumerated: its ownKeys trap is not called', async () => {
    let enumerated = 0;
    const quantities = new Proxy({ users: 7 }, {
      ownKeys: (t) => {
        enumerated++;
        return Reflect.ownKeys(t);
      },
    });
    const h = createHeadcount(onOptions(server.url, { collect: () => ({ quantities }) }));
    const [metrics] = (await h.preview()).requests;
    expect(JSON.stringify(metrics!.readable)).toContain('quantity.users');
    expect(enumerated).toBe(0);
  });

  it('a store is still used normally alongside (control: a plain collect() keeps every value)', async () => {
    const h = createHeadcount(onOptions(server.url, { store: new MemoryStateStore() }));
    const text = JSON.stringify((await h.preview()).requests[0]!.readable);
    for (const key of ['quantity.servers', 'quantity.users', 'quantity.checks_per_day', 'flag.sso_enabled', 'flag.external_db']) expect(text).toContain(key);
  });
});
