/**
 * Feature records (OTLP logs) become cumulative counters in Prometheus that increase() reads
 * exactly, across batches and across a collector restart (in-memory delta->cumulative state lost).
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

  /** increase() evaluated at the newest sample, so there is no extrapolation past the data. */
  const increaseAtLastSample = async (selector: string): Promise<number> => {
    const raw = await p().samples(`${selector}[1h]`);
    const values = raw[0]?.values ?? [];
    const lastTs = values[values.length - 1]?.[0];
    if (lastTs === undefined) return Number.NaN;
    const res = await p().query(`increase(${selector}[1h])`, lastTs);
    return Number(res[0]?.value[1]);
  };

  it('counts records from many installs and batches into one cumulative series per feature', async () => {
    const product = 'feat_many';
    await report(product, 'export', 7);
    await new Promise((resolve) => setTimeout(resolve, 500)); // next batch
    await report(product, 'export', 5);
    const proto = featuresProto(sdkResource(newInstallId(), { 'service.name': product, 'service.version': '2.0.0' }), [{ 'feature.name': 'export', 'feature.uses': '10-99' }]);
    expect((await postOtlp(c().url, '/v1/logs', proto, { token: TOKEN, gzip: true })).status).toBe(200);
    await report(product, 'import', 2);

    const selector = `headcount_feature_install_days_total{job="${product}",feature_name="export"}`;
    const done = await p().waitFor(`${selector} == 13`, 1, 15_000);
    expect(done[0]?.metric).toMatchObject({ feature_uses: '10-99', service_version: '2.0.0', headcount_channel: 'stable' });
    const raw = await p().samples(`${selector}[1h]`);
    expect(raw).toHaveLength(1);
    const values = (raw[0]?.values ?? []).map(([, v]) => Number(v));
    // cumulative: starts with the 0 written at the stream's start time, never decreases
    expect(values[0]).toBe(0);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(await increaseAtLastSample(selector)).toBe(13);
    await p().waitFor(`headcount_feature_install_days_total{job="${product}",feature_name="import"} == 2`);
  });

  it('survives a collector restart: increase() still adds up exactly', async () => {
    const product = 'feat_restart';
    const selector = `headcount_feature_install_days_total{job="${product}",feature_name="sso"}`;
    await report(product, 'sso', 4);
    await p().waitFor(`${selector} == 4`);
    await c().stop();
    await c().start(); // delta->cumulative state is in memory: the stream restarts from 0
    await report(product, 'sso', 3);
    await p().waitFor(`${selector} == 3`, 1, 15_000);
    expect(await increaseAtLastSample(selector)).toBe(7);
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
