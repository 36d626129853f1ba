/**
 * Same numbers on both engines: one seeded fleet (the simulator driving the real SDK, 4 days of
 * history through the demo collector) is written by ONE collector into a real Prometheus and a
 * real multi-process Cortex cluster at once (the same samples, timestamps included: a second
 * exporter configured by otelcol.cortex.yaml, scripts/stack/cortex.ts writeFanOutOverlay).
 * Prometheus records the rules of src/queries.ts as the demo does (promtool backfill, then live);
 * the Cortex ruler loads the same generated rules file for the tenant (only the group interval
 * is shortened, so the test does not wait 15 minutes for an evaluation).
 *
 * Then, exactly equal on both: every series each engine recorded at its newest evaluation, every
 * recording rule's expression, and every panel query of src/queries.ts (Cortex read through the
 * query-frontend with the tenant header). The pipeline-health queries read the collector's own
 * metrics, scraped by each side at its own moments: they are proven on Cortex by
 * cluster.test.ts instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import options, { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { cortexAvailable, startCortex, writeFanOutOverlay, type CortexCluster } from '../../scripts/stack/cortex.ts';
import { startDemoStack, type DemoStack } from '../../scripts/stack/demo-stack.ts';
import type { Catalog } from '../../src/catalog.ts';
import * as queries from '../../src/queries.ts';
import { allQueries, HEALTH, recordingRules, renderQuery, RULE_INTERVAL, rulesFile } from '../../src/queries.ts';
import { planFleet } from '../../src/simulate/fleet.ts';
import { simulate } from '../../src/simulate/run.ts';

const bins = await collectorBinaries();
const cortex = await cortexAvailable();
const ready = bins.ok && cortex.ok;
const TENANT = 'acme-eq';
const DAYS = 4;
/** The Cortex ruler's group interval in this test (the shipped file says RULE_INTERVAL). */
const TEST_INTERVAL = '10s';

type Result = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };

/** Order-independent, exact rendering of a query result: "labels => value" lines, sorted. */
const canonical = (result: readonly Result[]): string[] =>
  result
    .map((r) => {
      const labels = Object.entries(r.metric)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const value = r.value?.[1] ?? r.values?.[r.values.length - 1]?.[1];
      return `${labels} => ${value}`;
    })
    .sort();

describe.skipIf(!ready)('one seeded fleet into Prometheus and Cortex: the same numbers', () => {
  let cluster: CortexCluster;
  let stack: DemoStack;
  let dir: string;
  let promNow: number;

  const prom = async (path: string, params: Record<string, string>, headers: Record<string, string> = {}, base = stack.prometheus.url): Promise<Result[]> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(params), headers, signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as { status: string; data: { resultType: string; result: unknown }; error?: string };
    if (body.status !== 'success') throw new Error(`${base}${path}: ${body.error ?? res.status} (${params['query']?.slice(0, 100)})`);
    if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
    return body.data.result as Result[];
  };
  const both = async (query: string, time: number): Promise<[string[], string[]]> => {
    const params = { query, time: String(time) };
    const [p, c] = await Promise.all([prom('/api/v1/query', params), prom('/api/v1/query', params, { 'X-Scope-OrgID': TENANT }, cluster.promUrl)]);
    return [canonical(p), canonical(c)];
  };
  const marker = `ts_of_last_over_time(${queries.RECORDED.evaluated}[${queries.RECORDED_WINDOW}])`;

  beforeAll(async () => {
    if (!cortex.ok) return;
    dir = await mkdtemp(join(tmpdir(), 'headcount-eq-'));
    cluster = await startCortex(cortex.binary, { tenant: TENANT, oooWindow: `${DAYS + 3}d` });
    const overlay = join(dir, 'fan-out.yaml');
    await writeFanOutOverlay(overlay);
    stack = await startDemoStack({
      product: 'acme',
      catalog,
      historyDays: DAYS,
      batchTimeout: '3s',
      collectorOverlays: [overlay],
      collectorEnv: { HEADCOUNT_CORTEX_URL: cluster.distributorUrl, HEADCOUNT_CORTEX_TENANT: TENANT },
    });
    const result = await simulate({
      app: options,
      plan: planFleet(60, DAYS, 11, catalog),
      endpoint: stack.collector.url,
      token: stack.token,
      seed: 11,
      stateDir: join(dir, 'state'),
      concurrency: 16,
      beforeDay: (_d, ago) => stack.atDaysAgo(ago),
      afterDay: (stats) => stack.waitForDay('acme', stats),
    });
    expect(result.failed).toBe(0);
    // Cortex holds what Prometheus holds (its exporter runs beside Prometheus').
    for (const q of [`count(last_over_time(headcount_heartbeat[${DAYS + 2}d]))`, `count(last_over_time(headcount_feature_install_days_total[${DAYS + 2}d]))`]) {
      const want = (await stack.prometheus.query(q))[0]?.value[1];
      expect(Number(want)).toBeGreaterThan(0);
      await cluster.waitFor(`${q} == ${want}`, 1, 120_000);
    }
    promNow = await stack.recordRules();

    // The Cortex ruler, tenant TENANT: the same generated rules file. The state the rules carry
    // from one evaluation to the next starts with one evaluation of the start rules file (the
    // state rules' raw definitions), as collector-config/README.md tells operators.
    const fast = (text: string) => text.replace(`interval: ${RULE_INTERVAL}`, `interval: ${TEST_INTERVAL}`);
    const start = (queries as Record<string, unknown>)['startRulesFile'] as ((c: Catalog) => string) | undefined;
    const evaluatedAfter = async (t: number) => cluster.waitFor(`${marker} > ${t}`, 1, 120_000);
    if (start !== undefined) {
      const t = Date.now() / 1000;
      await cluster.loadRules(fast(start(catalog)));
      await evaluatedAfter(t);
    }
    const t = Date.now() / 1000;
    await cluster.loadRules(fast(rulesFile(catalog)));
    await evaluatedAfter(t + 1);
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('records the same series with the same values at each engine\'s newest evaluation', async () => {
    const cortexNow = Number((await cluster.query(marker))[0]?.value[1]);
    const p = canonical(await prom('/api/v1/query', { query: '{__name__=~"headcount:.+"}[2s]', time: String(promNow) }));
    const c = canonical(await prom('/api/v1/query', { query: '{__name__=~"headcount:.+"}[2s]', time: String(cortexNow) }, { 'X-Scope-OrgID': TENANT }, cluster.promUrl));
    expect(p.length).toBeGreaterThan(recordingRules(catalog).length);
    expect(c).toEqual(p);
  });

  it('gives every recording rule\'s definition on the raw history the same result on both', async () => {
    // A rule that carries state reads what its engine recorded at that very evaluation, which
    // exists only at that engine's own evaluation times: its raw definition (`raw`, when
    // src/queries.ts has one) is compared here, its recorded values by the test above.
    const at = Number((await cluster.query(marker))[0]?.value[1]);
    for (const rule of recordingRules(catalog)) {
      const expr = (rule as { raw?: string }).raw ?? rule.expr;
      const [p, c] = await both(expr, at);
      expect({ rule: rule.record, result: c }).toEqual({ rule: rule.record, result: p });
    }
  });

  /** Every panel query of `ids` on both engines at the same instant: the ones that differ. */
  const panels = async (pick: (id: string) => boolean) => {
    const at = Math.floor(Date.now() / 1000);
    const differ: { query: string; prometheus: string[]; cortex: string[] }[] = [];
    let compared = 0;
    let nonEmpty = 0;
    for (const q of allQueries(catalog).filter((x) => !HEALTH.includes(x) && pick(x.id))) {
      const [p, c] = await both(renderQuery(q, { service: 'acme', k: 1 }), at);
      compared++;
      if (p.length > 0) nonEmpty++;
      if (JSON.stringify(p) !== JSON.stringify(c)) differ.push({ query: q.id, prometheus: p, cortex: c });
    }
    return { differ, compared, nonEmpty };
  };
  const isFeature = (id: string) => id.startsWith('feature_');

  it('answers every install-base panel query with the same numbers (Cortex through the query-frontend)', async () => {
    const { differ, compared, nonEmpty } = await panels((id) => !isFeature(id));
    expect(differ).toEqual([]);
    // Not vacuous: nearly every panel has data.
    expect(compared).toBeGreaterThan(20);
    expect(nonEmpty).toBeGreaterThan(compared - 3);
  });

  it('answers every feature panel query with the same numbers (no created-timestamp zero samples on Cortex)', async () => {
    const { differ, compared, nonEmpty } = await panels(isFeature);
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(nonEmpty).toBe(compared);
  });
});

if (!ready) {
  describe('one seeded fleet into Prometheus and Cortex', () => {
    it.skip(`skipped locally: ${!bins.ok ? bins.reason : !cortex.ok ? cortex.reason : ''}`, () => undefined);
  });
}
