/**
 * What the bytes on the wire say (decoded from what a real local server received): timestamps
 * coarsened to the UTC day, the wire schema's version as the scope's version, and only the
 * documented resource keys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHeadcount, type Headcount } from '../../src/index.ts';
import { SCHEMA_VERSION } from '../../src/otlp/allowlist.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { decodeLogs, decodeMetrics } from '../helpers/otlp-decode.ts';
import { onOptions } from '../helpers/sender.ts';

let server: CaptureServer;
const handles: Headcount[] = [];
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});

const nanos = (ms: number) => BigInt(ms) * 1_000_000n;

describe('on the wire', () => {
  it('heartbeat and feature timestamps are the UTC day, never the time of day', async () => {
    let now = Date.UTC(2026, 4, 1, 9, 13, 27, 123);
    const h = createHeadcount(onOptions(server.url, { now: () => now }));
    handles.push(h);
    expect((await h.sendNow()).sent).toBe(true); // the sender's day starts (1 May)
    h.feature('export_csv');
    now += 86_400_000; // 2 May, 09:13:27.123: yesterday's feature count is due
    server.requests.length = 0;
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs']);
    const metrics = decodeMetrics(server.requests[0]!.body);
    expect(metrics.items).toHaveLength(1);
    expect(metrics.items[0]).toMatchObject({ name: 'headcount.heartbeat', timeNs: nanos(Date.UTC(2026, 4, 2)), otherTimeNs: nanos(Date.UTC(2026, 4, 2)), value: 1n });
    const logs = decodeLogs(server.requests[1]!.body);
    expect(logs.items).toEqual([
      { name: 'headcount.feature', attributes: { 'feature.name': 'export_csv', 'feature.uses': '1-9' }, timeNs: nanos(Date.UTC(2026, 4, 1)), otherTimeNs: nanos(Date.UTC(2026, 4, 1)), value: undefined },
    ]);
  });

  it('the scope is `headcount`, version 1 (the wire schema), on metrics and logs', async () => {
    let now = Date.UTC(2026, 4, 1, 12);
    const h = createHeadcount(onOptions(server.url, { now: () => now }));
    handles.push(h);
    await h.sendNow();
    h.feature('export_csv');
    now += 86_400_000;
    server.requests.length = 0;
    await h.sendNow();
    expect(SCHEMA_VERSION).toBe('1');
    expect(decodeMetrics(server.requests[0]!.body).scope).toEqual({ name: 'headcount', version: '1' });
    expect(decodeLogs(server.requests[1]!.body).scope).toEqual({ name: 'headcount', version: '1' });
  });

  it('the resource holds exactly the documented keys', async () => {
    const h = createHeadcount(onOptions(server.url));
    handles.push(h);
    await h.sendNow();
    const { resource } = decodeMetrics(server.requests[0]!.body);
    expect(Object.keys(resource).sort()).toEqual([
      'headcount.channel',
      'headcount.deployment',
      'host.arch',
      'os.type',
      'process.runtime.name',
      'process.runtime.version',
      'service.instance.id',
      'service.name',
      'service.version',
    ]);
    expect(resource).toMatchObject({ 'service.name': 'acme', 'service.version': '1.4.0', 'headcount.channel': 'stable', 'process.runtime.name': 'nodejs' });
    expect(resource['process.runtime.version']).toBe(process.versions.node.split('.').slice(0, 2).join('.'));
  });
});
