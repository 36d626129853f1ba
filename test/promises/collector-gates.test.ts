/**
 * The collector's catalog allow-lists (HEADCOUNT_PRODUCTS, _QUANTITY_NAMES, _FLAG_NAMES,
 * _FEATURE_NAMES, generated from the catalog by `headcount collector-env`), each shown by what
 * reaches Prometheus: a well-formed name the catalog does not declare is never stored. And the
 * request's headers never reach the disk queue (the receiver keeps no client metadata).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorAllowListEnv } from '../../src/otlp/allowlist.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { featuresJson, heartbeatJson, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';
import { useStack } from '../helpers/stack-fixture.ts';

const bins = await collectorBinaries();
const TOKEN = 'gates-test-token-0123';

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });

describe.skipIf(!bins.ok)('collector allow-lists from the catalog (real collector + Prometheus)', () => {
  const { p, c } = useStack(bins, TOKEN, { env: collectorAllowListEnv(['acme'], catalog) });

  it('stores only declared products: a well-formed undeclared service.name is not stored', async () => {
    const acme = newInstallId();
    const other = newInstallId();
    const body = heartbeatJson(
      { resource: sdkResource(other, { 'service.name': 'othertool' }), points: [{ 'quantity.servers': '10-99' }] },
      { resource: sdkResource(acme), points: [{ 'quantity.servers': '10-99' }] },
    );
    expect((await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN })).status).toBe(200);
    await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(acme)}"}`);
    expect(await p().query(`last_over_time({instance="${c().pseudonym(other)}"}[1h])`)).toEqual([]);
    expect(await p().query('last_over_time({job="othertool"}[1h])')).toEqual([]);
  });

  it('stores only declared quantity and flag names: undeclared ones (well-formed) are removed', async () => {
    const id = newInstallId();
    const point = { 'quantity.servers': '10-99', 'quantity.tenants': '10-99', 'flag.sso_enabled': '1', 'flag.beta_ui': '1' };
    expect((await postOtlp(c().url, '/v1/metrics', heartbeatJson({ resource: sdkResource(id), points: [point] }), { token: TOKEN })).status).toBe(200);
    const [stored] = await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(id)}"}`);
    expect(stored!.metric).toMatchObject({ quantity_servers: '10-99', flag_sso_enabled: '1' });
    expect(Object.keys(stored!.metric).filter((l) => /^(quantity|flag)_/.test(l)).sort()).toEqual(['flag_sso_enabled', 'quantity_servers']);
  });

  it('counts only declared feature names', async () => {
    const id = newInstallId();
    const body = featuresJson({
      resource: sdkResource(id),
      records: [
        { 'feature.name': 'secret_feature', 'feature.uses': '1-9' },
        { 'feature.name': 'export_csv', 'feature.uses': '1-9' },
      ],
    });
    expect((await postOtlp(c().url, '/v1/logs', body, { token: TOKEN })).status).toBe(200);
    await p().waitFor('headcount_feature_install_days_total{feature_name="export_csv"}');
    expect(await p().query('last_over_time(headcount_feature_install_days_total{feature_name="secret_feature"}[1h])')).toEqual([]);
  });

  it('keeps request headers (forwarded addresses, user agent, token) out of the disk queue', async () => {
    const id = newInstallId();
    const headers = { 'x-forwarded-for': '203.0.113.61', 'user-agent': 'marker-agent-5e1d', 'x-client-marker': 'marker-hdr-9c2b' };
    const body = heartbeatJson({ resource: sdkResource(id), points: [{ 'quantity.servers': '10-99' }] });
    // With Prometheus down the request waits in the queue on disk: read it there.
    await p().stop();
    try {
      expect((await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN, headers })).status).toBe(200);
      const queued = () => filesUnder(c().storageDir).map((f) => readFileSync(f).toString('latin1')).join('\n');
      // The queue holds the keyed pseudonym, never the id itself.
      await vi.waitFor(() => expect(queued()).toContain(c().pseudonym(id)), { timeout: 30_000, interval: 200 });
      expect(queued()).not.toContain(id);
      for (const secret of ['203.0.113.61', 'marker-agent-5e1d', 'marker-hdr-9c2b', TOKEN]) expect(queued()).not.toContain(secret);
    } finally {
      await p().start();
    }
    await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(id)}"}`, 1, 30_000);
  });
});

if (!bins.ok) {
  describe('collector allow-lists from the catalog', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
