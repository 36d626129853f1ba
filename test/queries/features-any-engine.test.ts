/**
 * Feature counts that do not depend on the engine writing created-timestamp zero samples
 * (Cortex and Mimir write none): the known fleet (fleet.ts) through the real collector into a
 * Prometheus started WITHOUT created-timestamp-zero-ingestion gives exactly the feature numbers
 * queries.test.ts expects from the shipped Prometheus (which has it).
 *
 * Each counter sample is one collector batch's count (otelcol.yaml `transform/counters`) and the
 * queries add them with sum_over_time (src/queries.ts `featureInstalls`). The control shows
 * what the test guards against: increase() on the same data loses the first sample of every
 * series (the demo collector restarts every simulated day).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import options, { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { HISTORY_LAG_MS, startDemoStack, type DemoStack } from '../../scripts/stack/demo-stack.ts';
import { allQueries, renderQuery, type Query } from '../../src/queries.ts';
import { prometheusApi, type Evaluate } from '../../src/report.ts';
import { DAY_MS, simulate, type SimulationResult } from '../../src/simulate/run.ts';
import { FLEET, FLEET_DAYS } from './fleet.ts';

const bins = await collectorBinaries();

const byId = new Map(allQueries(catalog).map((q) => [q.id, q]));
const q = (id: string): Query => byId.get(id) ?? (() => { throw new Error(`no query ${id}`); })();

describe.skipIf(!bins.ok)('feature counts on an engine without created-timestamp zero samples', () => {
  let stack: DemoStack;
  let stateDir: string;
  let result: SimulationResult;
  let evaluate: Evaluate;
  let featureAt: number;
  let featureAtYesterday: number;

  const groups = async (id: string, k: number, time: number) => {
    const query = q(id);
    const out: Record<string, number> = {};
    for (const s of await evaluate(renderQuery(query, { service: 'acme', k }), time)) out[s.metric[query.groupBy ?? 'feature_name'] ?? ''] = Math.round(s.value * 1e6) / 1e6;
    return out;
  };
  const value = async (id: string, k: number, time: number) => (await evaluate(renderQuery(q(id), { service: 'acme', k }), time))[0]?.value;
  const pct = (n: number, of: number) => Math.round((100 * n * 1e6) / of) / 1e6;

  beforeAll(async () => {
    stack = await startDemoStack({ product: 'acme', catalog, historyDays: FLEET_DAYS, batchTimeout: '3s', prometheusFeatures: ['promql-experimental-functions'] });
    stateDir = await mkdtemp(join(tmpdir(), 'headcount-features-'));
    result = await simulate({
      app: options,
      plan: { days: FLEET_DAYS, installs: FLEET },
      endpoint: stack.collector.url,
      token: stack.token,
      seed: 1,
      stateDir,
      beforeDay: (_d, ago) => stack.atDaysAgo(ago),
      afterDay: (stats) => stack.waitForDay('acme', stats),
    });
    const now = await stack.recordRules();
    evaluate = prometheusApi(stack.prometheus.url);
    const newest = async (t: number) => (await evaluate('max(ts_of_last_over_time(headcount_feature_install_days_total[1h]))', t))[0]!.value;
    featureAt = await newest(now);
    featureAtYesterday = await newest((result.days[3]!.startedAt - DAY_MS - HISTORY_LAG_MS) / 1000);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('this Prometheus runs without created-timestamp zero ingestion: no 0 sample is stored', async () => {
    expect(result.failed).toBe(0);
    expect(result.days.map((d) => d.featureRecords)).toEqual([0, 4, 6, 8]);
    const res = await fetch(`${stack.prometheus.url}/api/v1/status/flags`);
    const flags = ((await res.json()) as { data: Record<string, string> }).data;
    expect(flags['enable-feature']).toBe('promql-experimental-functions');
    const samples = await evaluate(`count_over_time(headcount_feature_install_days_total[${FLEET_DAYS + 1}d])`, featureAt);
    expect(samples.length).toBeGreaterThan(0);
    expect(await evaluate(`min_over_time(headcount_feature_install_days_total[${FLEET_DAYS + 1}d]) == 0`, featureAt)).toEqual([]);
  });

  it('features: installs per day, estimated uses, share of active installs — the numbers of queries.test.ts', async () => {
    expect(await groups('feature_installs_per_day', 2, featureAt)).toEqual({ export_csv: 6, dashboard_shared: 2 });
    expect(await groups('feature_installs_per_day', 3, featureAt)).toEqual({ export_csv: 6 });
    expect(await groups('feature_events_per_day', 2, featureAt)).toEqual({ export_csv: 4 * 5 + 2 * 50, dashboard_shared: 2 * 500 });
    const active = (await value('active_installs_24h', 2, featureAt))!;
    expect([7, 8]).toContain(active);
    expect(await groups('feature_share', 2, featureAt)).toEqual({ export_csv: pct(6, active), dashboard_shared: pct(2, active) });
    expect(await value('feature_export_csv_installs_per_day', 2, featureAt)).toBe(6);
    expect(await value('feature_dashboard_shared_events_per_day', 2, featureAt)).toBe(1000);
    expect(await value('feature_dashboard_shared_share', 2, featureAt)).toBeCloseTo(pct(2, active), 6);
    expect(await groups('feature_installs_per_day', 1, featureAtYesterday)).toEqual({ export_csv: 6 });
  });

  it('control: increase() on the same data counts less (it needs the start-time zeros)', async () => {
    const increase = await evaluate('sum(increase(headcount_feature_install_days_total{job="acme", feature_name="export_csv"}[1d]))', featureAt);
    expect(increase[0]?.value ?? 0).toBeLessThan(6);
  });
});

if (!bins.ok) {
  describe('feature counts on an engine without created-timestamp zero samples', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
