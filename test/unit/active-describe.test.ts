/**
 * The words `status()` and the CLI show for a ledger entry (describeEntry), and the resource
 * attributes with the version warnings (resourceAttributes), in process.
 *
 * describeEntry's words are a module-level table: active.ts is loaded inside the first test, so
 * the mutation run sees that test cover the table (a load at import time would count as no test).
 */
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/headcount.ts';
import type { LedgerEntry } from '../../src/local.ts';
import { onOptions } from '../helpers/sender.ts';

const T = '2025-03-04T05:06:07.000Z';
const entry = (status: number, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({ time: T, signal: 'metrics', bytes: 10, sha256: 'a'.repeat(64), status, ...extra });

const load = () => import('../../src/active.ts');

describe('describeEntry', () => {
  it('names each status the way an operator reads it', async () => {
    const { describeEntry } = await load();
    const words = (status: number) => describeEntry(entry(status));
    expect(words(0)).toBe(`${T} metrics: HTTP none (no answer)`);
    expect(words(200)).toBe(`${T} metrics: HTTP 200 (sent)`);
    expect(words(202)).toBe(`${T} metrics: HTTP 202 (sent)`);
    expect(words(299)).toBe(`${T} metrics: HTTP 299 (sent)`);
    expect(words(300)).toBe(`${T} metrics: HTTP 300 (rejected: dropped)`);
    expect(words(199)).toBe(`${T} metrics: HTTP 199 (rejected: dropped)`);
    expect(words(400)).toBe(`${T} metrics: HTTP 400 (rejected: dropped)`);
    expect(words(401)).toBe(`${T} metrics: HTTP 401 (token refused)`);
    expect(words(403)).toBe(`${T} metrics: HTTP 403 (token refused)`);
    expect(words(413)).toBe(`${T} metrics: HTTP 413 (too large: dropped)`);
    expect(words(429)).toBe(`${T} metrics: HTTP 429 (rate-limited)`);
    expect(words(499)).toBe(`${T} metrics: HTTP 499 (rejected: dropped)`);
    expect(words(500)).toBe(`${T} metrics: HTTP 500 (collector error: retried)`);
    expect(words(501)).toBe(`${T} metrics: HTTP 501 (collector error: retried)`);
    expect(words(503)).toBe(`${T} metrics: HTTP 503 (collector error: retried)`);
  });

  it('adds a Retry-After in whole seconds, and names the signal', async () => {
    const { describeEntry } = await load();
    expect(describeEntry(entry(429, { retryAfterMs: 30_400 }))).toBe(`${T} metrics: HTTP 429 (rate-limited, Retry-After 30 s)`);
    expect(describeEntry(entry(503, { signal: 'logs', retryAfterMs: 1_500 }))).toBe(`${T} logs: HTTP 503 (collector error: retried, Retry-After 2 s)`);
    expect(describeEntry(entry(200, { signal: 'logs' }))).toBe(`${T} logs: HTTP 200 (sent)`);
  });
});

describe('resourceAttributes', () => {
  const withLog = async (version: string) => {
    const { resourceAttributes } = await load();
    const lines: string[] = [];
    const o = resolveOptions(
      onOptions('http://127.0.0.1:9', {
        version,
        log: (l) => lines.push(l),
        simulatedHost: { osType: 'linux', hostArch: 'amd64', runtimeVersion: '22.1.0', deployment: 'container' },
      }),
    );
    return { lines, attrs: resourceAttributes(o, 'id-1') };
  };
  const host = {
    'service.name': 'acme',
    'service.instance.id': 'id-1',
    'headcount.deployment': 'container',
    'os.type': 'linux',
    'host.arch': 'amd64',
    'process.runtime.name': 'nodejs',
    'process.runtime.version': '22.1.0',
  };

  it('a plain version goes out as it is, without a warning', async () => {
    const { lines, attrs } = await withLog('1.4.0');
    expect(attrs).toEqual({ ...host, 'service.version': '1.4.0', 'headcount.channel': 'stable' });
    expect(lines).toEqual([]);
  });

  it('a pre-release outside the vocabulary is cut, with a warning naming what goes out', async () => {
    const { lines, attrs } = await withLog('2.0.1-feature.x');
    expect(attrs).toEqual({ ...host, 'service.version': '2.0.1', 'headcount.channel': 'dev' });
    expect(lines).toEqual([
      'version: only x.y.z and the pre-releases alpha, beta, rc, dev, pre, canary, nightly (with a number up to 99) are sent; it goes out as 2.0.1',
    ]);
  });

  it('not a version: service.version is left out, with a warning', async () => {
    const { lines, attrs } = await withLog('banana');
    expect(attrs).toEqual(host);
    expect(lines).toEqual(['version: not x.y.z[-pre] with numbers up to 9999; service.version is left out, and a collector refuses a heartbeat without it']);
  });
});
