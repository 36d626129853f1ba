import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHeadcount, defineCatalog, type Headcount } from '../src/index.ts';
import { readLedger } from '../src/local.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { decodeLogs, decodeMetrics, readableLogs, readableMetrics } from './helpers/otlp-decode.ts';
import { onOptions } from './helpers/sender.ts';

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

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

it('preview returns the exact bytes a real send puts on the wire (metrics and logs), and the ledger hashes those bytes', async () => {
  let now = Date.UTC(2026, 4, 1, 9);
  const opts = onOptions(server.url, { now: () => now });
  const h = track(createHeadcount(opts));
  await h.sendNow(); // creates the install id
  h.feature('export_csv');
  h.feature('export_csv');
  now += 24 * 3600_000; // yesterday's feature counts are now due
  const preview = await h.preview();
  expect(preview.requests.map((r) => r.signal)).toEqual(['metrics', 'logs']);
  server.requests.length = 0;
  expect((await h.sendNow()).sent).toBe(true);
  expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs']);
  const ledger = (await readLedger(opts.stateDir!)).slice(-2);
  for (const [i, r] of preview.requests.entries()) {
    const received = server.requests[i]!;
    expect(Buffer.from(r.body).equals(received.body), r.signal).toBe(true);
    expect(r.url).toBe(`${server.url}${received.path}`);
    // The size on the wire is the deflated body's, as the request's Content-Length says.
    expect(r.wireBytes).toBe(Number(received.headers['content-length']));
    expect(r.wireBytes).toBe(deflateSync(r.body, { level: 9 }).byteLength);
    // The hash an operator sees in the preview is the one the ledger records for the real send.
    expect(r.sha256).toBe(sha256(received.body));
    expect(ledger[i]).toMatchObject({ signal: r.signal, sha256: r.sha256, bytes: r.wireBytes, status: 200 });
  }
});

it('the readable preview (OTLP/JSON) says exactly what the protobuf body says', async () => {
  let now = Date.UTC(2026, 4, 1, 9);
  const h = track(createHeadcount(onOptions(server.url, { now: () => now })));
  await h.sendNow();
  h.feature('export_csv');
  h.feature('dashboard_shared');
  now += 24 * 3600_000;
  const [metrics, logs] = (await h.preview()).requests;
  const fromBody = decodeMetrics(metrics!.body);
  expect(fromBody.items[0]!.attributes['quantity.servers']).toBe('10-99');
  expect(readableMetrics(metrics!.readable)).toEqual(fromBody);
  const logsFromBody = decodeLogs(logs!.body);
  expect(logsFromBody.items.map((i) => i.attributes['feature.name']).sort()).toEqual(['dashboard_shared', 'export_csv']);
  expect(readableLogs(logs!.readable)).toEqual(logsFromBody);
});

it('the readable preview is built from the redacted data: a dropped value is in neither', async () => {
  // A host fact that fails the allow-list (a host name where the OS type belongs) is dropped
  // by the redacting exporter; what an operator reads must not show it either.
  const h = track(createHeadcount(onOptions(server.url, { simulatedHost: { osType: 'alice-laptop.corp.example' } })));
  await h.sendNow();
  const [metrics] = (await h.preview()).requests;
  expect(decodeMetrics(metrics!.body).resource['os.type']).toBeUndefined();
  expect(readableMetrics(metrics!.readable).resource['os.type']).toBeUndefined();
  expect(JSON.stringify(metrics!.readable)).not.toContain('alice');
  expect((await h.status()).redactions.entries).toContainEqual(expect.objectContaining({ where: 'resource', reason: 'hostname' }));
});

it('preview while on does not claim the cycle: nothing written or sent, the heartbeat is not used up', async () => {
  const opts = onOptions(server.url);
  const h = track(createHeadcount(opts));
  await h.preview();
  await h.preview();
  expect(server.requests).toHaveLength(0);
  expect(readdirSync(opts.stateDir!)).toEqual([]);
  expect((await h.sendNow()).sent).toBe(true);
  const state = readFileSync(join(opts.stateDir!, 'state.json'), 'utf8');
  // With an install id and a send on record, a preview leaves both as they are.
  await h.preview();
  expect(readFileSync(join(opts.stateDir!, 'state.json'), 'utf8')).toBe(state);
  // A restarted sender still counts the day's heartbeat as sent (the preview did not move it).
  const restarted = track(createHeadcount({ ...opts }));
  restarted.start();
  await expect.poll(async () => (await restarted.status()).nextSendAt, { timeout: 10_000, interval: 20 }).toBeGreaterThan(Date.now() + 23 * 3600_000);
  expect(server.requests).toHaveLength(1);
});

it('preview while off sends nothing, writes nothing, and shows a placeholder id', async () => {
  const opts = onOptions(server.url, { env: { ACME_TELEMETRY_ENDPOINT: server.url } });
  const h = track(createHeadcount(opts));
  h.start();
  const preview = await h.preview();
  expect(preview.enabled).toBe(false);
  expect(readableMetrics(preview.requests[0]!.readable).resource['service.instance.id']).toBe('00000000-0000-4000-8000-000000000000');
  expect(server.requests).toHaveLength(0);
  expect(readdirSync(opts.stateDir!)).toEqual([]);
  expect(existsSync(join(opts.stateDir!, 'state.json'))).toBe(false);
});

it('a heartbeat of 10 quantities and 5 flags carries all 15 as attributes of one data point', async () => {
  const names = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}_${i}`);
  const purpose = { purpose: 'A purpose sentence for the test.' };
  const catalog = defineCatalog({
    quantities: Object.fromEntries(names('quantity', 10).map((n) => [n, purpose])),
    flags: Object.fromEntries(names('flag', 5).map((n) => [n, purpose])),
  });
  const h = track(createHeadcount({
    ...onOptions(server.url),
    catalog,
    collect: () => ({
      quantities: Object.fromEntries(names('quantity', 10).map((n, i) => [n, 10 ** (i % 7)])),
      flags: Object.fromEntries(names('flag', 5).map((n, i) => [n, i % 2 === 0])),
    }),
  }));
  const [metrics] = (await h.preview()).requests;
  const { items } = decodeMetrics(metrics!.body);
  expect(items).toHaveLength(1);
  const buckets = ['1-9', '10-99', '100-999', '1k-9.9k', '10k-99k', '100k-999k', '1M+'];
  expect(items[0]!.attributes).toEqual({
    ...Object.fromEntries(names('quantity', 10).map((n, i) => [`quantity.${n}`, buckets[i % 7]])),
    ...Object.fromEntries(names('flag', 5).map((n, i) => [`flag.${n}`, i % 2 === 0 ? '1' : '0'])),
  });
  // Size against the 400 B budget is reported by bench/, not asserted here.
});
