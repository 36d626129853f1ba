/**
 * The scale-out overlays, as the collector resolves them: otelcol.cortex.yaml and
 * otelcol.mimir.yaml change only the exporter's endpoint (each engine's own OTLP path) and the
 * tenant header; everything else is otelcol.yaml's. (The Cortex one is also proven end to end by
 * cluster.test.ts.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { collectorBinaries, collectorConfig, repoRoot } from '../../scripts/stack/binaries.ts';
import { cortexOverlay, OTLP_PATH } from '../../scripts/stack/cortex.ts';
import { withCollectorEnv } from '../helpers/collector-env.ts';

const run = promisify(execFile);
const bins = await collectorBinaries();
type Resolved = { exporters: Record<string, Record<string, unknown>> };

describe.skipIf(!bins.ok)('Cortex and Mimir overlays (resolved config)', () => {
  it('differ from otelcol.yaml only in endpoint and tenant header, each with its engine\'s path', async () => {
    if (!bins.ok) return;
    const env = { HEADCOUNT_CORTEX_URL: 'http://distributor:9009', HEADCOUNT_CORTEX_TENANT: 'acme', HEADCOUNT_MIMIR_URL: 'http://mimir:8080', HEADCOUNT_MIMIR_TENANT: 'acme' };
    await withCollectorEnv(async (_dir, e) => {
      const resolved = async (...files: string[]) => {
        const { stdout } = await run(bins.collector, ['print-config', '--mode=unredacted', ...files.map((f) => `--config=${f}`)], { env: e });
        return parseYaml(stdout) as Resolved;
      };
      const base = await resolved(collectorConfig);
      const cortex = await resolved(collectorConfig, cortexOverlay);
      const mimir = await resolved(collectorConfig, `${repoRoot}collector-config/otelcol.mimir.yaml`);
      expect(cortex.exporters['otlp_http/prometheus']?.['metrics_endpoint']).toBe(`http://distributor:9009${OTLP_PATH}`);
      expect(OTLP_PATH).toBe('/api/v1/otlp/v1/metrics');
      expect(mimir.exporters['otlp_http/prometheus']?.['metrics_endpoint']).toBe('http://mimir:8080/otlp/v1/metrics');
      for (const c of [cortex, mimir]) expect(c.exporters['otlp_http/prometheus']?.['headers']).toEqual([{ name: 'X-Scope-OrgID', value: 'acme' }]);
      for (const c of [base, cortex, mimir]) {
        delete c.exporters['otlp_http/prometheus']?.['metrics_endpoint'];
        delete c.exporters['otlp_http/prometheus']?.['headers'];
      }
      expect(cortex).toEqual(base);
      expect(mimir).toEqual(base);
    }, env);
  });
});

if (!bins.ok) {
  describe('Cortex and Mimir overlays', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
