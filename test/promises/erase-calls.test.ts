/**
 * `eraseInstall` against a stand-in of Prometheus' admin API: it deletes the install's series over
 * all time (no start or end that leaves older samples behind) and then cleans the tombstones, so
 * the samples leave the disk. The same against a real Prometheus with blocks weeks old is in
 * test/promises/erase-history.test.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { eraseInstall, installPseudonym } from '../../src/erase.ts';

const ID = '3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const KEY = `${'5e'.repeat(32)}\n`;
/** What Prometheus holds for ID: the collector's keyed pseudonym. */
const STORED = installPseudonym(ID, KEY);
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
});

async function fakePrometheus(): Promise<{ url: string; calls: Array<{ method: string; path: string; params: URLSearchParams }> }> {
  const calls: Array<{ method: string; path: string; params: URLSearchParams }> = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    calls.push({ method: req.method ?? '', path: u.pathname, params: u.searchParams });
    req.resume();
    if (u.pathname === '/api/v1/series') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: [{ __name__: 'headcount_heartbeat', instance: STORED }] }));
      return;
    }
    res.writeHead(204);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

it('deletes the install over all time, then cleans the tombstones', async () => {
  const prom = await fakePrometheus();
  expect(await eraseInstall(prom.url, ID, KEY)).toEqual({ seriesDeleted: 1, pseudonym: STORED });
  const deletes = prom.calls.filter((c) => c.path === '/api/v1/admin/tsdb/delete_series');
  expect(deletes.length).toBeGreaterThanOrEqual(1);
  for (const d of deletes) {
    expect(d.method).toBe('POST');
    expect(d.params.getAll('match[]')).toEqual([`{instance="${STORED}"}`]);
    // No start (Prometheus' default: the beginning of time) or one at/before the epoch; no end
    // before now.
    const start = d.params.get('start');
    const end = d.params.get('end');
    expect(start === null || Number(start) <= 0 || Date.parse(start) <= 0, `start=${start}`).toBe(true);
    expect(end === null || Number(end) * 1000 >= Date.now() - 1000 || Date.parse(end) >= Date.now() - 1000, `end=${end}`).toBe(true);
  }
  const clean = prom.calls.findIndex((c) => c.path === '/api/v1/admin/tsdb/clean_tombstones');
  expect(clean, 'clean_tombstones was not called').toBeGreaterThan(-1);
  expect(prom.calls[clean]!.method).toBe('POST');
  // Cleaned after the (last) delete, so the deleted samples are the ones removed from disk.
  expect(clean).toBeGreaterThan(prom.calls.findLastIndex((c) => c.path === '/api/v1/admin/tsdb/delete_series'));
});
