/**
 * The scale-out path, for real: a multi-process Cortex 1.21.1 cluster (scripts/stack/cortex.ts:
 * distributor, 3 ingesters with replication 3, query-frontend, querier, store-gateway,
 * compactor, ruler) behind the real Headcount collector with the shipped otelcol.cortex.yaml.
 *
 * - the real SDK -> collector -> distributor (OTLP, tenant header); read back through the
 *   query-frontend with the same labels as on Prometheus;
 * - an ingester SIGKILLed in the middle of a load: every heartbeat the collector answered 200
 *   for is stored;
 * - the tenant header is required (no tenant: 401 on write, no data on read);
 * - a backend answering 4xx is never silent loss: Mimir's OTLP path on Cortex answers 404, the
 *   collector drops the data as a permanent error while the SDK got 200, and within a minute
 *   `headcount report` (tenant header, through the query-frontend) and the health dashboard's
 *   query show it, from the collector's own metrics that the shipped Prometheus agent config
 *   (collector-config/cortex/prometheus-agent.yml) writes into Cortex.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { cortexAvailable, cortexOverlay, startCortex, startHealthAgent, type CortexCluster, type HealthAgent } from '../../scripts/stack/cortex.ts';
import { repoRoot } from '../../scripts/stack/binaries.ts';
import { EXPORT_FAILED } from '../../src/backend.ts';
import { eraseInstall } from '../../src/erase.ts';
import { HEALTH, renderQuery } from '../../src/queries.ts';
import { collectReport, prometheusApi, renderReport } from '../../src/report.ts';
import { startCollector, stopAll, type Collector } from '../../scripts/stack/processes.ts';
import { createHeadcount } from '../../src/index.ts';
import { collectorAllowListEnv } from '../../src/otlp/allowlist.ts';
import { heartbeatProto, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';
import { onOptions, TOKEN } from '../helpers/sender.ts';

const bins = await collectorBinaries();
const cortex = await cortexAvailable();
const ready = bins.ok && cortex.ok;
const TENANT = 'acme-tenant';

describe.skipIf(!ready)('Cortex cluster behind the collector (otelcol.cortex.yaml)', () => {
  let cluster: CortexCluster;
  let col: Collector | undefined;

  beforeAll(async () => {
    if (!bins.ok || !cortex.ok) return;
    cluster = await startCortex(cortex.binary, { tenant: TENANT });
    col = await startCollector(bins.collector, {
      prometheusUrl: 'http://127.0.0.1:9',
      tokens: [TOKEN],
      overlays: [cortexOverlay],
      env: { HEADCOUNT_CORTEX_URL: cluster.distributorUrl, HEADCOUNT_CORTEX_TENANT: TENANT, ...collectorAllowListEnv(['acme'], catalog) },
    });
  }, 300_000);
  afterAll(async () => {
    await stopAll(col);
    await cluster?.stop();
  });

  it('stores what the real SDK sends, with the labels Prometheus stores, read through the query-frontend', async () => {
    const h = createHeadcount(onOptions(col!.url));
    h.start();
    h.feature('export_csv');
    h.feature('dashboard_shared');
    expect((await h.sendNow()).sent).toBe(true);
    await h.shutdown({ timeoutMs: 5000 });

    const stored = await cluster.waitFor('headcount_heartbeat{job="acme", service_version="1.4.0"}', 1, 60_000);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.metric).toMatchObject({
      __name__: 'headcount_heartbeat',
      job: 'acme',
      service_version: '1.4.0',
      process_runtime_name: 'nodejs',
      quantity_servers: '10-99',
      flag_sso_enabled: '1',
    });
    // The collector's keyed pseudonym of the install id, never the id.
    expect(stored[0]?.metric['instance']).toBe(col!.pseudonym(String((await h.status()).installId)));
    const counters = await cluster.waitFor('headcount_feature_install_days_total{job="acme"}', 2, 60_000);
    expect(counters.map((r) => r.metric['feature_name']).sort()).toEqual(['dashboard_shared', 'export_csv']);
    expect(counters.every((r) => r.value[1] === '1')).toBe(true);
    // Nothing but the data points' own series: no target_info per install.
    expect(await cluster.query('count(target_info)')).toEqual([]);
    // Another tenant sees nothing of it.
    expect(await cluster.query('headcount_heartbeat', undefined, 'someone-else')).toEqual([]);
  }, 120_000);

  it('erase on Cortex does what the engine allows: nothing per install, and says so (series left in place)', async () => {
    const installId = newInstallId();
    const res = await postOtlp(col!.url, '/v1/metrics', heartbeatProto(sdkResource(installId, { 'service.version': '9.0.2' }), [{}]), { token: TOKEN });
    expect(res.status).toBe(200);
    const stored = col!.pseudonym(installId);
    await cluster.waitFor(`count(last_over_time(headcount_heartbeat{instance="${stored}"}[1h])) == 1`, 1, 120_000);
    await expect(eraseInstall(cluster.promUrl, installId, col!.pseudonymKey, { auth: { tenant: TENANT } })).rejects.toThrow(
      new RegExp(`no per-series deletion \\(Prometheus POST /prometheus/api/v1/admin/tsdb/delete_series answered 404.*nothing was erased; 1 series of install ${installId} \\(stored as ${stored}\\) remain`),
    );
    expect(await cluster.query(`last_over_time(headcount_heartbeat{instance="${stored}"}[1h])`)).toHaveLength(1);
  });

  it('refuses a write without the tenant header (401), so a misconfigured overlay fails loudly', async () => {
    const res = await postOtlp(cluster.distributorUrl, '/api/v1/otlp/v1/metrics', heartbeatProto(sdkResource(newInstallId()), [{}]));
    expect(res.status).toBe(401);
  });

  it('keeps every heartbeat answered 200 when an ingester is SIGKILLed in the middle of the load', async () => {
    // The acme allow-list admits only the product acme: this load is told apart by its version.
    const version = '9.0.1';
    const sel = `headcount_heartbeat{job="acme", service_version="${version}"}`;
    const sent: string[] = [];
    const send = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        // One install per request, as the SDK sends; ten requests in parallel.
        const ids = Array.from({ length: 10 }, () => newInstallId());
        const results = await Promise.all(
          ids.map(async (id) => ({ id, res: await postOtlp(col!.url, '/v1/metrics', heartbeatProto(sdkResource(id, { 'service.version': version }), [{}]), { token: TOKEN }) })),
        );
        for (const r of results) if (r.res.status === 200) sent.push(r.id);
      }
    };
    await send(10);
    // The first writes are in: kill one ingester while the load goes on.
    await cluster.waitFor(`count(${sel}) > 0`, 1, 60_000);
    const killing = cluster.kill('ingester-2', 'SIGKILL');
    await send(20);
    await killing;
    expect(cluster.pid('ingester-2')).toBeUndefined();
    await send(10);
    expect(sent.length).toBe(400);
    const stored = await cluster.waitFor(`count(last_over_time(${sel}[1h])) == ${sent.length}`, 1, 120_000);
    expect(stored[0]?.value[1]).toBe(String(sent.length));
    const ids = new Set((await cluster.query(`last_over_time(${sel}[1h])`)).map((r) => r.metric['instance']));
    expect(ids).toEqual(new Set(sent.map((id) => col!.pseudonym(id))));
    // The collector's queue delivered everything (no permanent failures).
    expect(col!.logs()).not.toMatch(/Exporting failed\. Dropping data/);
  }, 240_000);

  it('a backend answering 404 (Mimir\'s path on Cortex) is loud: report and health query show the loss within a minute', async () => {
    if (!bins.ok) return;
    let bad: Collector | undefined;
    let agent: HealthAgent | undefined;
    try {
      bad = await startCollector(bins.collector, {
        prometheusUrl: 'http://127.0.0.1:9',
        tokens: [TOKEN],
        overlays: [`${repoRoot}collector-config/otelcol.mimir.yaml`],
        env: { HEADCOUNT_MIMIR_URL: cluster.distributorUrl, HEADCOUNT_MIMIR_TENANT: TENANT, ...collectorAllowListEnv(['acme'], catalog) },
      });
      agent = await startHealthAgent(bins.prometheus, cluster, bad.metricsTarget);
      const evaluate = prometheusApi(cluster.promUrl, 30_000, { tenant: TENANT });
      // Healthy so far: scraped, nothing failed (0, not "no data").
      await cluster.waitFor(`${EXPORT_FAILED.expr} == 0`, 1, 60_000);

      const stored = 'count(last_over_time(headcount_heartbeat{job="acme", service_version="1.4.0"}[1h]))';
      const before = await cluster.query(stored);
      const t0 = Date.now();
      const h = createHeadcount(onOptions(bad.url));
      h.start();
      // The SDK is told 200: from its side, delivered.
      expect((await h.sendNow()).sent).toBe(true);
      await h.shutdown({ timeoutMs: 5000 });
      // The collector dropped it (404 is permanent for otlp_http) ...
      await vi.waitFor(() => expect(bad!.logs()).toMatch(/404/), { timeout: 30_000, interval: 200 });
      // ... and the loss is visible in Cortex within a minute of the send.
      const failed = await cluster.waitFor(`${EXPORT_FAILED.expr} > 0`, 1, 60_000);
      expect(Number(failed[0]?.value[1])).toBeGreaterThanOrEqual(1);
      expect(Date.now() - t0).toBeLessThan(60_000);
      const report = await collectReport(evaluate, { service: 'acme', k: 1 });
      expect(report.sections.get(EXPORT_FAILED.id)?.value).toBeGreaterThanOrEqual(1);
      expect(renderReport(report)).toMatch(/DATA LOST: the collector failed to deliver \d+ data point/);

      // The health dashboard's "dropped" panel counts failures between two scrapes: a fleet keeps
      // sending, so a second wave makes it rise.
      const dropped = HEALTH.find((q) => q.id === 'collector_dropped_per_hour')!;
      const h2 = createHeadcount(onOptions(bad.url));
      h2.start();
      expect((await h2.sendNow()).sent).toBe(true);
      await h2.shutdown({ timeoutMs: 5000 });
      const panel = await cluster.waitFor(`${renderQuery(dropped, { service: 'acme', k: 1 })} > 0`, 1, 60_000);
      expect(Number(panel[0]?.value[1])).toBeGreaterThan(0);
      // Nothing of it reached Cortex.
      expect((await cluster.query(stored))[0]?.value[1]).toBe(before[0]?.value[1]);
    } finally {
      await agent?.stop();
      await stopAll(bad);
    }
  }, 240_000);
});

if (!ready) {
  describe('Cortex cluster behind the collector', () => {
    it.skip(`skipped locally: ${!bins.ok ? bins.reason : !cortex.ok ? cortex.reason : ''}`, () => undefined);
  });
}
