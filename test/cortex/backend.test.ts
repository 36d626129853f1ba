/**
 * Tenant and auth headers of `headcount report` / `headcount erase` for multi-tenant backends,
 * against a small fake of the Prometheus API (unit level; the real Cortex cluster is exercised by
 * cluster.test.ts).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendHeaders } from '../../src/backend.ts';
import { runCli } from '../../src/cli.ts';
import { eraseInstall, installPseudonym } from '../../src/erase.ts';
import { prometheusApi } from '../../src/report.ts';
import { runMaintainerCommand } from '../../src/simulate/cli.ts';

const ID = '0b7d3c62-0e4b-4c39-9f0a-6b1c2d3e4f50';
const KEY = `${'ab'.repeat(32)}\n`;

describe('backend headers', () => {
  it('sends the tenant as X-Scope-OrgID and an Authorization value as given', () => {
    expect(backendHeaders({})).toEqual({});
    expect(backendHeaders({ tenant: 'acme-prod_1', authorization: 'Bearer abc' })).toEqual({ 'X-Scope-OrgID': 'acme-prod_1', Authorization: 'Bearer abc' });
  });

  it('refuses a tenant Cortex would refuse, and header injection, naming what was wrong', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a b', 'x'.repeat(151), 'ten\nant']) expect(() => backendHeaders({ tenant: bad })).toThrow(/tenant .*expected 1-150 characters/);
    expect(() => backendHeaders({ authorization: 'Bearer a\r\nX-Evil: 1' })).toThrow(/authorization: expected a non-empty header value on one line/);
  });
});

describe('report and erase against a multi-tenant API (fake Cortex query-frontend)', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      req.resume();
      if (req.headers['x-scope-orgid'] === undefined) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('no org id\n');
        return;
      }
      if (req.url?.startsWith('/prometheus/api/v1/series') === true) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: [{ instance: ID }, { instance: ID }] }));
        return;
      }
      if (req.url?.startsWith('/prometheus/api/v1/query') === true) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '7'] }] } }));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prometheus`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('report queries carry the tenant and the Authorization header; without a tenant the 401 is a clear error', async () => {
    const evaluate = prometheusApi(url, 5_000, { tenant: 'acme', authorization: 'Basic dTpw' });
    expect(await evaluate('vector(7)')).toEqual([{ metric: {}, value: 7 }]);
    expect(seen.at(-1)?.headers).toMatchObject({ 'x-scope-orgid': 'acme', authorization: 'Basic dTpw' });
    await expect(prometheusApi(url, 5_000)('vector(7)')).rejects.toThrow(/answered 401: no org id/);
  });

  it('`headcount report --tenant` and HEADCOUNT_TENANT reach the backend', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => void err.push(t) };
    seen.length = 0;
    expect(await runMaintainerCommand(['report', '--prometheus', url, '--service', 'acme', '--tenant', 't-1'], io)).toBe(0);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((r) => r.headers['x-scope-orgid'] === 't-1')).toBe(true);
    expect(await runMaintainerCommand(['report', '--prometheus', url, '--service', 'acme', '--tenant', 'bad tenant'], io)).toBe(1);
    expect(err.join('\n')).toMatch(/tenant "bad tenant": expected/);
  });

  it('erase on a backend without per-series deletion fails loudly and says what was left', async () => {
    seen.length = 0;
    await expect(eraseInstall(url, ID, KEY, { auth: { tenant: 'acme' } })).rejects.toThrow(
      new RegExp(`no per-series deletion .*nothing was erased; 2 series of install ${ID} \\(stored as ${installPseudonym(ID, KEY)}\\) remain for tenant acme`),
    );
    expect(seen.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(['GET /prometheus/api/v1/series', 'POST /prometheus/api/v1/admin/tsdb/delete_series']);
    expect(seen.every((r) => r.headers['x-scope-orgid'] === 'acme')).toBe(true);

    const out: string[] = [];
    const code = await runCli(['erase', ID, '--prometheus', url, '--tenant', 'acme'], {} as never, { out: (t) => void out.push(t), err: (t) => void out.push(t) });
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/headcount erase: this backend serves no per-series deletion/);
  });
});
