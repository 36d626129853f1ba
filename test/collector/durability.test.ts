/**
 * The persistent sending queue: nothing accepted by the collector is lost when Prometheus or
 * the collector itself restarts.
 */
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { useStack } from '../helpers/stack-fixture.ts';
import { heartbeatJson, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';

const bins = await collectorBinaries();
const TOKEN = 'durability-token';

describe.skipIf(!bins.ok)('collector durability (real collector + Prometheus)', () => {
  const { p, c } = useStack(bins, TOKEN);

  const sendHeartbeats = async (product: string, count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => newInstallId());
    for (let i = 0; i < ids.length; i += 10) {
      const body = heartbeatJson(...ids.slice(i, i + 10).map((id) => ({ resource: sdkResource(id, { 'service.name': product }) })));
      const res = await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN });
      expect(res.status).toBe(200);
    }
    return ids;
  };

  it('keeps heartbeats sent while Prometheus is down and delivers them when it is back', async () => {
    await p().stop();
    const ids = await sendHeartbeats('durable_prom', 50);
    // give the exporter time to fail and queue (retries every 200-500 ms in tests)
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await p().start();
    const stored = await p().waitFor('count(headcount_heartbeat{job="durable_prom"}) == 50', 1, 30_000);
    expect(stored[0]?.value[1]).toBe('50');
    const instances = new Set((await p().query('headcount_heartbeat{job="durable_prom"}')).map((r) => r.metric['instance']));
    expect(instances).toEqual(new Set(ids.map((id) => c().pseudonym(id))));
  });

  it('delivers items still queued on disk after a collector restart', async () => {
    await p().stop();
    await sendHeartbeats('durable_col', 30);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await c().stop(); // SIGTERM while Prometheus is unreachable: items stay in the file queue
    await p().start();
    await c().start();
    const stored = await p().waitFor('count(headcount_heartbeat{job="durable_col"}) == 30', 1, 30_000);
    expect(stored[0]?.value[1]).toBe('30');
  });
});

if (!bins.ok) {
  describe('collector durability', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
