/**
 * Feature records (OTLP logs) become counter samples in Prometheus, one per collector batch and
 * stream, each the count of that batch; sum_over_time() adds them up exactly, across batches and
 * across a collector restart (the collector keeps no counter state).
 */
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { useStack } from '../helpers/stack-fixture.ts';
import { featuresJson, featuresProto, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';

const bins = await collectorBinaries();
const TOKEN = 'features-token';

describe.skipIf(!bins.ok)('feature counters (real collector + Prometheus)', () => {
  const { p, c } = useStack(bins, TOKEN);

  /** n installs, each reporting `feature` once (as the SDK does: one record per install per day). */
  const report = async (product: string, feature: string, installs: number, version = '2.0.0') => {
    const items = Array.from({ length: installs }, () => ({
      resource: sdkResource(newInstallId(), { 'service.name': product, 'service.version': version }),
      records: [{ 'feature.name': feature, 'feature.uses': '10-99' }],
    }));
    const res = await postOtlp(c().url, '/v1/logs', featuresJson(...items), { token: TOKEN });
    expect(res.status).toBe(200);
  };

  /** sum_over_time() at the newest sample: what src/queries.ts reads (over 1 d there). */
  const sumAtLastSample = async (selector: string): Promise<number> => {
    const raw = await p().samples(`${selector}[1h]`);
    const values = raw[0]?.values ?? [];
    const lastTs = values[values.length - 1]?.[0];
    if (lastTs === undefined) return Number.NaN;
    const res = await p().query(`sum(sum_over_time(${selector}[1h]))`, lastTs);
    return Number(res[0]?.value[1]);
  };

  it('counts records from many installs and batches: one series per feature, one sample per batch', async () => {
    const product = 'feat_many';
    await report(product, 'export', 7);
    await new Promise((resolve) => setTimeout(resolve, 500)); // next batch
    await report(product, 'export', 5);
    const proto = featuresProto(sdkResource(newInstallId(), { 'service.name': product, 'service.version': '2.0.0' }), [{ 'feature.name': 'export', 'feature.uses': '10-99' }]);
    expect((await postOtlp(c().url, '/v1/logs', proto, { token: TOKEN, gzip: true })).status).toBe(200);
    await report(product, 'import', 2);

    const selector = `headcount_feature_install_days_total{job="${product}",feature_name="export"}`;
    const done = await p().waitFor(`sum_over_time(${selector}[1h]) == 13`, 1, 15_000);
    expect(done[0]?.metric).toMatchObject({ feature_uses: '10-99', service_version: '2.0.0', headcount_channel: 'stable' });
    const raw = await p().samples(`${selector}[1h]`);
    expect(raw).toHaveLength(1);
    // Each stored point is one batch's count, never a running total: leaving out the 0s this
    // Prometheus writes 1 ms before each (created-timestamp-zero-ingestion), they add up to 13.
    const counts = (raw[0]?.values ?? []).map(([, v]) => Number(v)).filter((v) => v > 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(13);
    expect(counts.length).toBeGreaterThanOrEqual(2); // at least two batches (500 ms apart)
    expect(await sumAtLastSample(selector)).toBe(13);
    await p().waitFor(`sum_over_time(headcount_feature_install_days_total{job="${product}",feature_name="import"}[1h]) == 2`);
  });

  it('survives a collector restart: the sum still adds up exactly', async () => {
    const product = 'feat_restart';
    const selector = `headcount_feature_install_days_total{job="${product}",feature_name="sso"}`;
    await report(product, 'sso', 4);
    await p().waitFor(`${selector} == 4`);
    await c().stop();
    await c().start();
    await report(product, 'sso', 3);
    await p().waitFor(`${selector} == 3`, 1, 15_000);
    expect(await sumAtLastSample(selector)).toBe(7);
  });

  it('does not store raw log records or per-install feature series', async () => {
    const names = new Set((await p().allSeries()).map((s) => s['__name__']));
    expect([...names].filter((n) => n !== undefined && /log|feature/.test(n))).toEqual(['headcount_feature_install_days_total']);
    expect(await p().query('headcount_feature_install_days_total{instance!=""}')).toEqual([]);
  });
});

if (!bins.ok) {
  describe('feature counters', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
