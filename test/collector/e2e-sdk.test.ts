/**
 * End to end: the real SDK (src/) -> the real collector -> the real Prometheus. The collector
 * runs with the catalog allow-lists generated from the example app's catalog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeadcount, type Headcount } from '../../src/index.ts';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorAllowListEnv } from '../../src/otlp/allowlist.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { startCollector, startPrometheus, stopAll, type Collector, type Prometheus } from '../../scripts/stack/processes.ts';
import { onOptions, TOKEN } from '../helpers/sender.ts';

const bins = await collectorBinaries();

/** Catalog -> collector allow-list: what a generated fragment would contain. */

describe.skipIf(!bins.ok)('SDK -> collector -> Prometheus', () => {
  let prom: Prometheus | undefined;
  let col: Collector | undefined;
  const started: Headcount[] = [];
  const p = () => prom as Prometheus;
  const c = () => col as Collector;

  beforeAll(async () => {
    if (!bins.ok) return;
    prom = await startPrometheus(bins.prometheus);
    col = await startCollector(bins.collector, {
      prometheusUrl: prom.url,
      tokens: [TOKEN],
      env: {
        ...collectorAllowListEnv(['acme'], catalog),
      },
    });
  });
  afterAll(async () => {
    for (const h of started) await h.shutdown({ timeoutMs: 2000 });
    await stopAll(col, prom);
  });

  it('stores the heartbeat with bucketed labels and counts feature use', async () => {
    const h = createHeadcount(onOptions(c().url));
    started.push(h);
    h.start();
    h.feature('export_csv');
    h.feature('export_csv');
    h.feature('dashboard_shared');
    const outcome = await h.sendNow();
    expect(outcome.sent).toBe(true);
    const { installId } = await h.status();
    expect(installId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const stored = await p().waitFor('headcount_heartbeat{job="acme"}', 1, 15_000);
    expect(stored).toHaveLength(1);
    const labels = stored[0]?.metric ?? {};
    expect(labels).toMatchObject({
      job: 'acme',
      service_version: '1.4.0',
      process_runtime_name: 'nodejs',
      quantity_servers: '10-99',
      quantity_users: '1-9',
      quantity_checks_per_day: '10k-99k',
      flag_sso_enabled: '1',
      flag_external_db: '0',
    });
    // The collector stores a keyed pseudonym of the install id, never the id.
    expect(labels['instance']).toBe(c().pseudonym(String(installId)));

    // Feature records of the day are sent at shutdown (one per feature per install per day).
    await h.shutdown({ timeoutMs: 5000 });
    const counters = await p().waitFor('headcount_feature_install_days_total{job="acme"}', 2, 15_000);
    expect(counters.map((r) => r.metric['feature_name']).sort()).toEqual(['dashboard_shared', 'export_csv']);
    const exportCsv = counters.find((r) => r.metric['feature_name'] === 'export_csv');
    expect(exportCsv?.metric).toMatchObject({ feature_uses: '1-9', service_version: '1.4.0' });
    expect(exportCsv?.value[1]).toBe('1');
  });
});

if (!bins.ok) {
  describe('SDK -> collector -> Prometheus', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
