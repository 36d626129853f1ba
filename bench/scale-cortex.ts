/**
 * `npm run bench:scale -- --engine cortex`: the scale bench on a real multi-process Cortex
 * cluster (scripts/stack/cortex.ts) instead of one Prometheus.
 *
 * Load, one of:
 * - default: N installs × D days through the real sender (the SDK simulator) and the real
 *   demo collector (history by time shift) with otelcol.cortex.yaml: the collector exports to
 *   the distributor only (the demo stack's Prometheus stays empty and idle);
 * - `--fast`: the fast OTLP load generator (bench/otlp-load.ts, SDK-identical bodies, one
 *   install per request, each install with its own stable id) through the demo collector with
 *   otelcol.cortex.yaml, day by day, oldest first (`atDaysAgo` before
 *   each day).
 * Then: the recording rules loaded into the ruler for the tenant (the generated rules file; the
 * carried state started first with one evaluation of the start rules file, as operators do),
 * with the group interval `--rule-interval` (default 1m, so the bench sees evaluations), and
 * every panel query of src/queries.ts timed through the query-frontend.
 *
 * Prints: ingest rate, RSS per process (VmRSS) and per 1k installs, series per install (the
 * ingesters' in-memory series ÷ replication 3 ÷ installs), ruler cycle time (the ruler's own
 * cortex_prometheus_rule_group_last_duration_seconds), slowest panel.
 *
 *   npm run bench:scale -- --engine cortex --installs 100000 --days 7
 *   npm run bench:scale -- --engine cortex --fast --installs 100000 --days 7
 *   npm run bench:scale -- --engine cortex --fast --installs 1000000 --days 1 --replication 1
 *
 * `--replication N` (default 3, as shipped) sets the ingesters' replication factor: one 24 GiB
 * machine holds three replicas of a million series but not also the queries over them, so the
 * million-install run keeps one copy of each series (the figures say which was used).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { collectorBinaries } from '../scripts/stack/binaries.ts';
import { cortexBinary, cortexOverlay, metricValue, PROM_PREFIX, rssKiB, startCortex, type CortexCluster } from '../scripts/stack/cortex.ts';
import { startDemoStack } from '../scripts/stack/demo-stack.ts';
import type { Catalog } from '../src/catalog.ts';
import type { HeadcountOptions } from '../src/headcount.ts';
import * as queries from '../src/queries.ts';
import { allQueries, HEALTH, RECORDED, RULE_INTERVAL, rulesFile, renderQuery } from '../src/queries.ts';
import { planFleet } from '../src/simulate/fleet.ts';
import { DAY_MS, simulate } from '../src/simulate/run.ts';
import { fastLoad, installIdFor } from './otlp-load.ts';
import { median, sleep } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string' },
    installs: { type: 'string', default: '10000' },
    days: { type: 'string', default: '7' },
    seed: { type: 'string', default: '42' },
    concurrency: { type: 'string', default: '256' },
    repeat: { type: 'string', default: '3' },
    fast: { type: 'boolean', default: false },
    'rule-interval': { type: 'string', default: '1m' },
    // Evaluations of the shipped rules waited for before reading the cycle time (the first one
    // after the state was started from raw, then steady ones).
    cycles: { type: 'string', default: '2' },
    replication: { type: 'string', default: '3' },
  },
  allowPositionals: true,
});
const installs = Number(args.installs);
const days = Number(args.days);
const seed = Number(args.seed);
const concurrency = Number(args.concurrency);
const repeat = Number(args.repeat);
const replication = Number(args.replication);
if (!Number.isInteger(replication) || replication < 1 || replication > 3) throw new Error(`--replication must be 1, 2 or 3 (three ingesters), got ${args.replication}`);

const app = ((await import('../examples/acme-app/telemetry.ts')) as { default: HeadcountOptions }).default;
const TENANT = 'bench';
const log = (line: string) => void process.stderr.write(`${line}\n`);
const mib = (kib: number) => kib / 1024;

const bins = await collectorBinaries();
if (!bins.ok) throw new Error(bins.reason);
log('Building or finding Cortex, starting the cluster…');
const cluster: CortexCluster = await startCortex(await cortexBinary(), {
  tenant: TENANT,
  oooWindow: `${days + 2}d`,
  syncInterval: '30s',
  extraFlags: replication === 3 ? [] : [`-distributor.replication-factor=${replication}`],
});
const rss = async () => Object.fromEntries(await Promise.all([...cluster.processes.keys()].map(async (n) => [n, await rssKiB(cluster.pid(n))] as const)));
const workDir = await mkdtemp(join(tmpdir(), 'headcount-scale-cortex-'));
let stopDemo: (() => Promise<void>) | undefined;
try {
  await sleep(5_000);
  const idle = await rss();
  const plan = planFleet(installs, days, seed, app.catalog);
  const env = { HEADCOUNT_CORTEX_URL: cluster.distributorUrl, HEADCOUNT_CORTEX_TENANT: TENANT };
  const t0 = Date.now();
  let heartbeats: number;
  let sendSeconds: number;
  const stack = await startDemoStack({ product: app.product, catalog: app.catalog, historyDays: days, collectorOverlays: [cortexOverlay], collectorEnv: env });
  stopDemo = () => stack.stop();
  if (args.fast) {
    heartbeats = 0;
    sendSeconds = 0;
    for (let day = 0; day < days; day++) {
      // The disk queue keeps what was accepted under the previous shift (already stamped).
      await stack.atDaysAgo(days - 1 - day);
      const r = await fastLoad({ app, plan, day, endpoint: stack.collector.url, token: stack.token, idFor: (i) => installIdFor(seed, i), concurrency, progress: log });
      if (r.failed > 0) throw new Error(`day ${day}: ${r.failed} heartbeats were not answered 200`);
      heartbeats += r.ok;
      sendSeconds += r.seconds;
      log(`  day ${day + 1}/${days}: ${r.ok} heartbeats (${r.templates} distinct SDK bodies) in ${r.seconds.toFixed(0)} s  [${((Date.now() - t0) / 1000).toFixed(0)} s]`);
    }
  } else {
    const result = await simulate({
      app,
      plan,
      endpoint: stack.collector.url,
      token: stack.token,
      seed,
      stateDir: join(workDir, 'state'),
      concurrency,
      beforeDay: (_d, ago) => stack.atDaysAgo(ago),
      afterDay: async (stats) => {
        // The day is in Cortex (read through the query-frontend) before the next one starts.
        const at = (stats.endedAt + 5_000 - stats.daysAgo * DAY_MS - 900_000) / 1000;
        const window = `${Math.ceil((stats.endedAt - stats.startedAt) / 1000) + 1200}s`;
        await cluster.waitFor(`count(last_over_time(headcount_heartbeat{job="${app.product}"}[${window}])) >= ${stats.heartbeats}`, 1, 900_000, at);
      },
      progress: (line) => log(`  ${line}  [${((Date.now() - t0) / 1000).toFixed(0)} s]`),
    });
    if (result.failed > 0) throw new Error(`${result.failed} heartbeats were not delivered`);
    heartbeats = result.heartbeats;
    sendSeconds = result.days.reduce((n, d) => n + (d.endedAt - d.startedAt) / 1000, 0);
  }
  const expected = plan.installs.filter((p) => p.days.length > 0).length;
  // Arrived: the ingesters' in-memory series (each written to `replication` ingesters), read from
  // their /metrics, cover every install (cheap to poll; a PromQL count over a million series is
  // not). Then the distinct installs counted once through the query-frontend.
  // With more than one day, older days are in blocks already: only the count below tells.
  const ingesterSeries = async (): Promise<number> => {
    let n = 0;
    for (const p of cluster.processes.values()) {
      if (p.role === 'ingester') n += (await metricValue(`http://127.0.0.1:${p.httpPort}/metrics`, /^cortex_ingester_memory_series (\S+)$/m)) ?? 0;
    }
    return n / replication;
  };
  const arrivedBy = Date.now() + 1_800_000;
  if (days === 1) while ((await ingesterSeries()) < expected && Date.now() < arrivedBy) await sleep(2_000);
  const distinctExpr = `count(count by (instance) (last_over_time(headcount_heartbeat{job="${app.product}"}[${days + 1}d])))`;
  const [reached] = await cluster.waitFor(`${distinctExpr} >= ${expected}`, 1, Math.max(60_000, arrivedBy - Date.now()));
  const loadSeconds = (Date.now() - t0) / 1000;
  const distinct = Number(reached?.value[1] ?? 0);
  const loaded = await rss();
  const series = await ingesterSeries();

  // ---- rules in the ruler ------------------------------------------------------------------
  const interval = args['rule-interval'];
  const fastRules = (text: string) => text.replace(`interval: ${RULE_INTERVAL}`, `interval: ${interval}`);
  const marker = `ts_of_last_over_time(${RECORDED.evaluated}[1h])`;
  /** The group's last duration; set just after its last rule (the marker) is written, so polled briefly. */
  const groupSeconds = async (): Promise<number> => {
    for (let i = 0; i < 20; i++, await sleep(500)) {
      const v = await metricValue(`${cluster.rulerUrl}/metrics`, /^cortex_prometheus_rule_group_last_duration_seconds\{[^}]*rule_group="[^"]*headcount"[^}]*\} (\S+)$/m);
      if (v !== undefined) return v;
    }
    return Number.NaN;
  };
  const start = (queries as Record<string, unknown>)['startRulesFile'] as ((c: Catalog) => string) | undefined;
  let rawCycle = Number.NaN;
  if (start !== undefined) {
    const t = Date.now() / 1000;
    await cluster.loadRules(fastRules(start(app.catalog)));
    await cluster.waitFor(`${marker} > ${t}`, 1, 3_600_000);
    rawCycle = await groupSeconds();
  }
  let t = Date.now() / 1000;
  await cluster.loadRules(fastRules(rulesFile(app.catalog)));
  for (let i = 0; i < Math.max(1, Number(args.cycles)); i++) {
    await cluster.waitFor(`${marker} > ${t + 1}`, 1, 3_600_000);
    t = Date.now() / 1000;
  }
  // Each rule's own evaluation time in the last cycle (the ruler's rules API), slowest first.
  const rulesApi = (await (await fetch(`${cluster.rulerUrl}${PROM_PREFIX}/api/v1/rules`, { headers: { 'X-Scope-OrgID': TENANT } })).json()) as {
    data?: { groups?: { name: string; rules: { name?: string; record?: string; evaluationTime?: number }[] }[] };
  };
  const perRule = (rulesApi.data?.groups ?? []).flatMap((g) => g.rules.map((r) => ({ name: r.record ?? r.name ?? '?', seconds: r.evaluationTime ?? 0 })));
  perRule.sort((a, b) => b.seconds - a.seconds);
  const cycle = await groupSeconds();

  // ---- panels through the query-frontend ---------------------------------------------------
  const now = Number((await cluster.query(marker))[0]?.value[1]);
  const timings: { id: string; ms: number; error?: string }[] = [];
  for (const q of allQueries(app.catalog).filter((x) => !HEALTH.includes(x))) {
    const ms: number[] = [];
    let error: string | undefined;
    for (let i = 0; i < repeat; i++) {
      const q0 = performance.now();
      try {
        await cluster.query(renderQuery(q, { service: app.product, k: 5 }), now);
      } catch (e) {
        error = (e as Error).message;
        break;
      }
      ms.push(performance.now() - q0);
    }
    timings.push({ id: q.id, ms: median(ms), ...(error === undefined ? {} : { error }) });
  }
  const after = await rss();
  const slowest = [...timings].sort((a, b) => b.ms - a.ms);

  const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const out: string[] = [];
  out.push(`# Scale on Cortex 1.21.1 (9 processes, replication ${replication}): ${installs} installs × ${days} day(s), ${args.fast ? 'fast OTLP generator (SDK bodies, day by day)' : 'SDK simulator + demo collector'}, seed ${seed}`);
  out.push('');
  out.push(`Load: ${heartbeats} heartbeats in ${loadSeconds.toFixed(1)} s end to end → ${(heartbeats / loadSeconds).toFixed(0)}/s (sending only: ${(heartbeats / sendSeconds).toFixed(0)}/s); distinct installs in Cortex ${distinct} (plan ${expected})`);
  out.push(`Series (ingesters' in-memory series ÷ ${replication} replica(s)): ${series.toFixed(0)} → ${(series / distinct).toFixed(2)} per install`);
  out.push(`RSS (VmRSS MiB)   idle → loaded → after rules and queries`);
  for (const name of Object.keys(idle)) out.push(`  ${name.padEnd(15)} ${mib(idle[name]!).toFixed(0).padStart(6)} → ${mib(loaded[name]!).toFixed(0).padStart(6)} → ${mib(after[name]!).toFixed(0).padStart(6)}`);
  out.push(`  ${'all'.padEnd(15)} ${mib(total(idle)).toFixed(0).padStart(6)} → ${mib(total(loaded)).toFixed(0).padStart(6)} → ${mib(total(after)).toFixed(0).padStart(6)}   (${(mib(total(after) - total(idle)) / (distinct / 1000)).toFixed(1)} MiB per 1k installs above idle)`);
  out.push(`Ruler: one cycle of the ${RECORDED.evaluated.split(':')[0]} group = ${cycle.toFixed(2)} s (interval here ${interval}; shipped ${RULE_INTERVAL}: ${((100 * cycle) / 900).toFixed(1)} % of it)`);
  for (const r of perRule.slice(0, 5)) out.push(`  ${r.seconds.toFixed(2).padStart(8)} s  ${r.name}`);
  if (!Number.isNaN(rawCycle)) out.push(`  the start evaluation (rules-start: the two state rules from 30 days of raw heartbeats): ${rawCycle.toFixed(2)} s`);
  out.push(`Panels (${timings.length}, through the query-frontend, median of ${repeat}): median ${median(timings.map((x) => x.ms)).toFixed(1)} ms; slowest ${slowest[0]?.ms.toFixed(0)} ms (${slowest[0]?.id})`);
  for (const x of slowest.slice(0, 5)) out.push(`  ${x.ms.toFixed(0).padStart(7)} ms  ${x.id}`);
  for (const x of timings.filter((y) => y.error !== undefined)) out.push(`  FAILED ${x.id}: ${x.error}`);
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await stopDemo?.();
  await cluster.stop();
  await rm(workDir, { recursive: true, force: true });
}
