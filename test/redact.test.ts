import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../src/catalog.ts';
import { scrubReason } from '../src/redact.ts';
import { allowListFor } from '../src/otlp/allowlist.ts';
import { buildBodies } from '../src/otlp/pipeline.ts';
import { RedactionCounter } from '../src/otlp/redaction-counter.ts';
import { redactAttributes } from '../src/otlp/redacting.ts';

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 2, maxLength: 10 });
const octet = fc.integer({ min: 0, max: 255 });

/** Generators of values that must never leave an install, each with the rule that catches it. */
const pii = {
  email: fc.tuple(word, word, fc.constantFrom('com', 'org', 'io', 'de')).map(([u, d, t]) => `${u}@${d}.${t}`),
  ipv4: fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
  ipv6: fc.array(hex(4), { minLength: 8, maxLength: 8 }).map((g) => g.join(':')),
  ipv6Short: fc.tuple(hex(4), hex(4)).map(([a, b]) => `fe80::${a}:${b}`),
  fqdn: fc.tuple(word, word, fc.constantFrom('com', 'internal', 'local', 'lan')).map(([a, b, t]) => `${a}.${b}.${t}`),
  urlCreds: fc.tuple(word, word, word).map(([u, p, h]) => `https://${u}:${p}@${h}.example`),
  jwt: fc.tuple(hex(12), hex(20), hex(16)).map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`),
  githubToken: hex(36).map((h) => `ghp_${h}`),
  awsKey: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), minLength: 16, maxLength: 16 }).map((s) => `AKIA${s}`),
  longSecret: fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789'), minLength: 40, maxLength: 60 }),
  home: word.map((u) => `/home/${u}/data`),
  macHome: word.map((u) => `/Users/${u}/Library`),
  winHome: word.map((u) => `C:\\Users\\${u}\\AppData`),
};

describe('scrubbers', () => {
  for (const [kind, arb] of Object.entries(pii)) {
    it(`catch ${kind}, alone and embedded in text`, () => {
      fc.assert(
        fc.property(arb, fc.constantFrom('', 'x ', 'id='), fc.constantFrom('', ' y', ';'), (value, pre, post) => {
          expect(scrubReason(`${pre}${value}${post}`), `${pre}${value}${post}`).toBeDefined();
        }),
        { numRuns: 200 },
      );
    });
  }

  it('let through every value Headcount itself produces', () => {
    for (const ok of ['acme', '1.4.0', '1.4.0-rc.1', '10-99', '1k-9.9k', '100k-999k', '1M+', '0', '1', 'linux', 'amd64', 'nodejs', '22.23', 'container', 'stable', 'export_csv', '9f1c2b3a-1d2e-4f3a-8b9c-0d1e2f3a4b5c']) {
      expect(scrubReason(ok), ok).toBeUndefined();
    }
  });
});

const catalog = defineCatalog({
  quantities: { servers: { purpose: 'How many servers are monitored.' } },
  flags: { sso: { purpose: 'Whether single sign-on is configured.' } },
  features: { export_csv: { purpose: 'Whether CSV export is used.' } },
});
const allow = allowListFor(catalog);

describe('allow-list', () => {
  it('fails closed: unknown keys, bad values and PII values are dropped and counted', () => {
    const counter = new RedactionCounter();
    const out = redactAttributes(
      { 'quantity.servers': '10-99', 'quantity.users': '1-9', 'flag.sso': 'yes', 'host.name': 'db1', 'quantity.x': 5, 'flag.sso ': '1' },
      allow.heartbeat,
      'metric',
      counter,
    );
    expect(out).toEqual({ 'quantity.servers': '10-99' });
    expect(counter.total).toBe(5);
    const byReason = (r: string) => counter.entries().filter((e) => e.reason === r).reduce((n, e) => n + e.count, 0);
    expect(byReason('key-not-allowed')).toBe(4);
    expect(byReason('value-not-allowed')).toBe(1);
  });

  it('never keeps a PII value, whatever key carries it (property)', () => {
    const anyPii = fc.oneof(...Object.values(pii));
    const key = fc.constantFrom(...allow.resource.keys(), ...allow.heartbeat.keys(), 'host.name', 'client.address', 'user.email');
    fc.assert(
      fc.property(fc.dictionary(key, anyPii, { maxKeys: 12 }), (attrs) => {
        const counter = new RedactionCounter();
        const kept = {
          ...redactAttributes(attrs, allow.resource, 'resource', counter),
          ...redactAttributes(attrs, allow.heartbeat, 'metric', counter),
        };
        expect(Object.keys(kept)).toEqual([]);
        expect(JSON.stringify(counter.entries())).not.toMatch(/@|\/home\//);
      }),
      { numRuns: 300 },
    );
  });
});

describe('scrubbers as their own layer', () => {
  it('drop PII even under a key whose validator would accept anything (property)', () => {
    // Defence in depth: if a validator is ever too loose, the scrubbers still catch the value.
    const permissive = new Map<string, (v: string) => boolean>([['k', () => true]]);
    fc.assert(
      fc.property(fc.oneof(...Object.values(pii)), (value) => {
        const counter = new RedactionCounter();
        expect(redactAttributes({ k: value }, permissive, 'metric', counter)).toEqual({});
        expect(counter.entries().map((e) => e.reason)).not.toContain('value-not-allowed');
      }),
      { numRuns: 300 },
    );
  });
});

describe('the redacting processors in the real pipeline', () => {
  it('strip PII and undeclared keys from resource, data points and log records before serialisation', async () => {
    const counter = new RedactionCounter();
    const bodies = await buildBodies(
      {
        resource: {
          'service.name': 'acme',
          'service.version': '1.4.0',
          'service.instance.id': '9f1c2b3a-1d2e-4f3a-8b9c-0d1e2f3a4b5c',
          'host.name': 'db1.corp.example.com',
          'client.address': '203.0.113.9',
          'process.owner': 'alice',
          'os.type': 'alice@example.com',
        },
        heartbeat: { 'quantity.servers': '10-99', 'flag.sso': '1', 'user.email': 'bob@example.com', 'quantity.servers2': '1-9' },
        features: [
          { day: 0, feature: 'export_csv', uses: '1-9' },
          { day: 0, feature: 'undeclared', uses: '1-9' },
          { day: 0, feature: 'export_csv', uses: '10.0.0.1' },
        ],
        day: 0,
      },
      allow,
      counter,
      '0.0.0',
    );
    const text = Buffer.concat([Buffer.from(bodies.metrics), Buffer.from(bodies.logs ?? [])]).toString('latin1');
    for (const leak of ['db1', '203.0.113.9', 'alice', 'bob@', 'user.email', 'host.name', 'client.address', 'undeclared', '10.0.0.1', 'servers2']) {
      expect(text, leak).not.toContain(leak);
    }
    expect(text).toContain('quantity.servers');
    expect(text).toContain('export_csv');
    const logs = bodies.readable.logs as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: unknown[] }> }> };
    expect(logs.resourceLogs[0]?.scopeLogs[0]?.logRecords).toHaveLength(1);
    expect(counter.total).toBeGreaterThanOrEqual(8);
  });
});
