import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHeadcount } from '../src/index.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { onOptions } from './helpers/sender.ts';

let server: CaptureServer;
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(() => server.close());

it('preview returns the exact bytes a real send puts on the wire (metrics and logs)', async () => {
  let now = Date.UTC(2026, 4, 1, 9);
  const opts = onOptions(server.url, { now: () => now });
  const h = createHeadcount(opts);
  await h.sendNow(); // creates the install id
  h.feature('export_csv');
  h.feature('export_csv');
  now += 24 * 3600_000; // yesterday's feature counts are now due
  const preview = await h.preview();
  expect(preview.requests.map((r) => r.signal)).toEqual(['metrics', 'logs']);
  server.requests.length = 0;
  expect((await h.sendNow()).sent).toBe(true);
  expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs']);
  for (const [i, r] of preview.requests.entries()) {
    expect(Buffer.from(r.body).equals(server.requests[i]!.body), r.signal).toBe(true);
    expect(r.url).toBe(`${server.url}${server.requests[i]!.path}`);
  }
  await h.shutdown();
});

it('preview while off sends nothing, writes nothing, and shows a placeholder id', async () => {
  const opts = onOptions(server.url, { env: { ACME_TELEMETRY_ENDPOINT: server.url } });
  const h = createHeadcount(opts);
  h.start();
  const preview = await h.preview();
  expect(preview.enabled).toBe(false);
  expect(JSON.stringify(preview.requests[0]!.readable)).toContain('00000000-0000-4000-8000-000000000000');
  expect(server.requests).toHaveLength(0);
  const { readdirSync } = await import('node:fs');
  expect(readdirSync(opts.stateDir!)).toEqual([]);
});

it('a heartbeat of 10 quantities and 5 flags carries all 15 as attributes of one data point', async () => {
  const { defineCatalog } = await import('../src/index.ts');
  const names = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}_${i}`);
  const purpose = { purpose: 'A purpose sentence for the test.' };
  const catalog = defineCatalog({
    quantities: Object.fromEntries(names('quantity', 10).map((n) => [n, purpose])),
    flags: Object.fromEntries(names('flag', 5).map((n) => [n, purpose])),
  });
  const h = createHeadcount({
    ...onOptions(server.url),
    catalog,
    collect: () => ({
      quantities: Object.fromEntries(names('quantity', 10).map((n, i) => [n, 10 ** (i % 7)])),
      flags: Object.fromEntries(names('flag', 5).map((n, i) => [n, i % 2 === 0])),
    }),
  });
  const [metrics] = (await h.preview()).requests;
  const text = JSON.stringify(metrics!.readable);
  expect(text.match(/quantity\.quantity_/g)).toHaveLength(10);
  expect(text.match(/flag\.flag_/g)).toHaveLength(5);
  // Size against the 400 B budget is reported by bench/, not asserted here.
  expect(metrics!.wireBytes).toBeGreaterThan(0);
});
