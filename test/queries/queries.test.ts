/**
 * Every query of src/queries.ts, evaluated against a real Prometheus loaded through the real
 * collector (demo variant) by the simulator driving a KNOWN scripted fleet through the real
 * sender, with the exact numbers that fleet must give. Every rendered query is also parsed with
 * @prometheus-io/lezer-promql and evaluated error-free.
 *
 * The fleet (4 simulated days, day 3 = today; acme's catalog):
 *   A ×4  days 0-3, 1.4.0, linux/amd64/container, servers 42, sso on; export_csv 3/day; A1-A2 also
 *         dashboard_shared 150/day from day 2
 *   B ×2  days 0-3, 1.4.0 → 1.5.0 on day 2 (an upgrade inside every window), linux/arm64/kubernetes,
 *         servers 500, sso off; export_csv 20/day from day 1
 *   C ×1  days 0-3, 1.3.2, windows/amd64/other, servers 5, sso on
 *   D ×2  day 1 only (one-off), 1.4.0, linux/amd64/container, servers 0, sso off
 *   E ×1  day 3 only (new), 1.5.0, darwin/arm64/other, servers 3000, sso on
 *   F ×1  days 0-1 then stops, 1.3.2, linux/amd64/other, servers 42, sso off, external_db on
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import options, { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorBinaries, repoRoot, requireBinaries } from '../../scripts/stack/binaries.ts';
import { HISTORY_LAG_MS, startDemoStack, type DemoStack } from '../../scripts/stack/demo-stack.ts';
import { allQueries, backfillRulesFile, DEFAULT_K, latest, QUERIES, recordingRules, renderQuery, rulesFile, startRulesFile, type Query } from '../../src/queries.ts';
import { collectReport, installBaseReport, prometheusApi, renderReport, type Evaluate, type Sample } from '../../src/report.ts';
import { DAY_MS, simulate, type SimulationResult } from '../../src/simulate/run.ts';
import { FLEET, FLEET_DAYS } from './fleet.ts';

const bins = await collectorBinaries();

/** A query's expression with its catalog quantity name taken out. */
const template = (expr: string): string => expr.replace(/quantity_[a-z0-9_]+/g, 'quantity_*');

const byId = new Map(allQueries(catalog).map((q) => [q.id, q]));
const q = (id: string): Query => {
  const found = byId.get(id);
  if (found === undefined) throw new Error(`no query ${id}`);
  return found;
};

describe.skipIf(!bins.ok)('install-base queries against a known fleet', () => {
  let stack: DemoStack;
  let binaries: Awaited<ReturnType<typeof requireBinaries>>;
  let stateDir: string;
  let result: SimulationResult;
  let evaluate: Evaluate;
  /** The newest recorded rule evaluation (s): the install base is read as of it. */
  let now: number;
  /** Wall-clock time once the collector is scraped (s): pipeline health is read then. */
  let wallNow: number;
  /** The newest feature-counter sample of today and of yesterday (s). */
  let featureAt: number;
  let featureAtYesterday: number;

  const run = async (id: string, k = 2, time = now): Promise<Sample[]> => evaluate(renderQuery(q(id), { service: 'acme', k }), time);
  const value = async (id: string, k = 2, time = now) => (await run(id, k, time))[0]?.value;
  const groups = async (id: string, k = 2, time = now) => {
    const query = q(id);
    const labels = (query.groupBy ?? '').split(', ');
    const out: Record<string, number> = {};
    for (const s of await run(id, k, time)) out[labels.map((l) => s.metric[l]).join(' ')] = Math.round(s.value * 1e6) / 1e6;
    return out;
  };
  const pct = (n: number, of: number) => Math.round((100 * n * 1e6) / of) / 1e6;

  beforeAll(async () => {
    binaries = await requireBinaries();
    stack = await startDemoStack({ product: 'acme', catalog, historyDays: 4, batchTimeout: '3s' });
    stateDir = await mkdtemp(join(tmpdir(), 'headcount-queries-'));
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
    now = await stack.recordRules();
    await stack.scrapeCollector();
    wallNow = Date.now() / 1000;
    evaluate = prometheusApi(stack.prometheus.url);
    const newest = async (t: number) => (await evaluate('max(ts_of_last_over_time(headcount_feature_install_days_total[1h]))', t))[0]!.value;
    featureAt = await newest(now);
    // Day 2's data was in Prometheus (waitForDay) before day 3 started: read it as of then.
    featureAtYesterday = await newest((result.days[3]!.startedAt - DAY_MS - HISTORY_LAG_MS) / 1000);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('the simulator delivered the planned heartbeats and feature records', () => {
    expect(result.failed).toBe(0);
    expect(result.days.map((d) => d.heartbeats)).toEqual([8, 10, 7, 8]);
    expect(result.days.map((d) => d.featureRecords)).toEqual([0, 4, 6, 8]);
  });

  it('every rendered query parses (lezer-promql) and Prometheus evaluates it without error', async () => {
    for (const query of allQueries(catalog)) {
      const expr = renderQuery(query, { service: 'acme', k: 5 });
      let error = false;
      parser.parse(expr).iterate({
        enter: (n) => {
          if (n.type.isError) error = true;
        },
      });
      expect(error, `${query.id}: ${expr}`).toBe(false);
      await expect(evaluate(expr, now), query.id).resolves.toBeDefined();
    }
    expect(new Set(allQueries(catalog).map((x) => x.id)).size).toBe(allQueries(catalog).length);
    for (const query of QUERIES) expect(query.description.length, query.id).toBeGreaterThan(20);
  });

  it('the committed rules files are what promtool accepts (and what `npm run dashboards` writes)', async () => {
    const file = `${repoRoot}collector-config/rules/headcount.rules.yml`;
    for (const [path, text] of [
      [file, rulesFile(catalog)],
      [`${repoRoot}collector-config/rules-backfill/headcount.rules.yml`, backfillRulesFile(catalog)],
      [`${repoRoot}collector-config/rules-start/headcount.rules.yml`, startRulesFile(catalog)],
    ] as const) {
      expect(await readFile(path, 'utf8'), path).toBe(text);
      const { stdout } = await promisify(execFile)(binaries.promtool, ['--enable-feature=promql-experimental-functions', 'check', 'rules', path]);
      expect(stdout, path).toMatch(new RegExp(`SUCCESS: ${recordingRules(catalog).length} rules found`));
    }
    // The marker that dates a complete evaluation is evaluated last (rules run in file order).
    expect(recordingRules(catalog).at(-1)?.record).toBe('headcount:rules_evaluated');
  });

  it('every recorded series equals its rule evaluated on the raw history at the same instant', async () => {
    const rules = recordingRules(catalog);
    expect(rules.length).toBeGreaterThan(10);
    const key = (s: Sample) => JSON.stringify(Object.entries(s.metric).filter(([name]) => name !== '__name__').sort());
    const table = (rows: Sample[]) => Object.fromEntries(rows.map((r) => [key(r), r.value]));
    for (const rule of rules) {
      const raw = table(await evaluate(rule.expr, now));
      expect(Object.keys(raw).length, rule.record).toBeGreaterThan(0);
      expect(table(await evaluate(rule.record, now)), rule.record).toEqual(raw);
    }
    // Before the first rule evaluation the panels say "no data", not 0.
    expect(await run('active_installs_24h', 2, now - 6 * 86_400)).toEqual([]);
  });

  it('active installs are distinct install ids: an upgrade inside the window counts once', async () => {
    expect(await value('active_installs_24h')).toBe(8);
    expect(await value('active_installs_7d')).toBe(11);
    expect(await value('active_installs_30d')).toBe(11);
    // The trap the queries avoid: counting series counts B's two versions twice.
    const naive = await evaluate('count(last_over_time(headcount_heartbeat{job="acme"}[7d]))', now);
    expect(naive[0]!.value).toBe(13);
  });

  it('one-off installs are apart: established + new + one-off = active (7 d)', async () => {
    expect(await value('established_installs_7d')).toBe(8);
    expect(await value('one_off_installs_7d')).toBe(2);
    expect(await value('new_installs_24h')).toBe(1);
    expect(await value('stopped_installs_7d')).toBe(1);
  });

  it('installs over time ([25h] windows: yesterday\'s heartbeats count), established and new per day', async () => {
    const at = (daysAgo: number) => now - daysAgo * 86_400;
    expect(await Promise.all([3, 2, 1, 0].map(async (d) => value('installs_over_time', 2, at(d))))).toEqual([8, 10, 10, 8]);
    expect(await Promise.all([3, 2, 1, 0].map(async (d) => value('new_installs_per_day', 2, at(d))))).toEqual([8, 2, 0, 1]);
    expect(await Promise.all([3, 2, 1, 0].map(async (d) => value('established_over_time', 2, at(d))))).toEqual([undefined, 8, 8, 8]);
  });

  it('version shares use each install\'s latest version and sum to 100 %', async () => {
    const shares = await groups('version_share', 1);
    expect(shares).toEqual({ '1.4.0': pct(6, 11), '1.5.0': pct(3, 11), '1.3.2': pct(2, 11) });
    expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
    expect(await groups('version_installs')).toEqual({ '1.4.0': 6, '1.5.0': 3, '1.3.2': 2 });
    expect(await groups('channel_share')).toEqual({ stable: 100 });
    // latest() by hand: exactly one series per install (11 installs, 11 series).
    const latestExpr = latest('headcount_heartbeat{job="acme"}');
    const perInstall = await evaluate(`count(count by (instance) (${latestExpr}))`, now);
    expect(perInstall[0]!.value).toBe(11);
    expect((await evaluate(`count(${latestExpr})`, now))[0]!.value).toBe(11);
  });

  it('version adoption over time: one heartbeat per install per day', async () => {
    expect(await groups('version_adoption_over_time', 1)).toEqual({ '1.4.0': 4, '1.5.0': 3, '1.3.2': 1 });
    expect(await groups('version_adoption_over_time', 1, now - 86_400)).toEqual({ '1.4.0': 4, '1.5.0': 2, '1.3.2': 1 });
    expect(await groups('version_adoption_over_time', 1, now - 2 * 86_400)).toEqual({ '1.4.0': 8, '1.3.2': 2 });
  });

  it('small-group suppression hides every group with fewer than k installs', async () => {
    expect(await groups('os_share', 1)).toEqual({ linux: pct(9, 11), windows: pct(1, 11), darwin: pct(1, 11) });
    expect(await groups('os_share', 2)).toEqual({ linux: pct(9, 11) });
    expect(await groups('version_share', 3)).toEqual({ '1.4.0': pct(6, 11), '1.5.0': pct(3, 11) });
    expect(await groups('version_installs', 7)).toEqual({});
    expect(await groups('quantity_servers_buckets', 2)).toEqual({ '10-99': 5, '100-999': 2, '0': 2 });
    expect(await groups('quantity_servers_buckets', 1)).toEqual({ '10-99': 5, '100-999': 2, '0': 2, '1-9': 1, '1k-9.9k': 1 });
    expect(await value('flag_external_db_adoption', 2)).toBeUndefined();
    expect(await value('flag_external_db_adoption', 1)).toBe(100);
  });

  it('environment mix: arch, runtime, deployment', async () => {
    expect(await groups('arch_share')).toEqual({ amd64: pct(8, 11), arm64: pct(3, 11) });
    expect(await groups('runtime_share')).toEqual({ 'nodejs 22.23': 100 });
    expect(await groups('deployment_share')).toEqual({ container: pct(6, 11), kubernetes: pct(2, 11), other: pct(3, 11) });
  });

  it('quantities and flags: bucket distribution and adoption % from latest heartbeats', async () => {
    expect(await groups('quantity_users_buckets', 1)).toEqual({});
    expect(await value('flag_sso_enabled_adoption')).toBeCloseTo(pct(6, 11), 6);
  });

  it('features: installs per day, estimated uses, share of active installs (read at the newest counter sample)', async () => {
    expect(await groups('feature_installs_per_day', 2, featureAt)).toEqual({ export_csv: 6, dashboard_shared: 2 });
    expect(await groups('feature_installs_per_day', 3, featureAt)).toEqual({ export_csv: 6 });
    expect(await groups('feature_events_per_day', 2, featureAt)).toEqual({ export_csv: 4 * 5 + 2 * 50, dashboard_shared: 2 * 500 });
    // Shares divide by installs active in 24 h at the same instant; the heartbeat batch may land
    // just after the counters' (separate pipelines), so the denominator is read at that instant.
    const active = (await value('active_installs_24h', 2, featureAt))!;
    expect([7, 8]).toContain(active);
    expect(await groups('feature_share', 2, featureAt)).toEqual({ export_csv: pct(6, active), dashboard_shared: pct(2, active) });
    expect(await value('feature_export_csv_installs_per_day', 2, featureAt)).toBe(6);
    expect(await value('feature_dashboard_shared_events_per_day', 2, featureAt)).toBe(1000);
    expect(await value('feature_dashboard_shared_share', 2, featureAt)).toBeCloseTo(pct(2, active), 6);
    // Yesterday: A's export_csv (day 1 uses) and B's (from day 1), no dashboard_shared yet.
    expect(await groups('feature_installs_per_day', 1, featureAtYesterday)).toEqual({ export_csv: 6 });
  });

  it('freshness and pipeline health', async () => {
    const last = (await value('last_heartbeat'))!;
    expect(last / 1000).toBeGreaterThan((result.days[3]!.startedAt - HISTORY_LAG_MS) / 1000 - 1);
    expect(last / 1000).toBeLessThanOrEqual(now);
    expect(await value('installs_heard_1h')).toBe(8);
    expect(await value('collector_scraped', 2, wallNow)).toBe(1);
    expect(await value('collector_queue_size', 2, wallNow)).toBe(0);
    // The fleet sent nothing the collector refuses or drops.
    expect(await value('collector_refused_per_hour', 2, wallNow)).toBe(0);
    expect(await value('collector_dropped_per_hour', 2, wallNow)).toBe(0);
    // Accepted: today's collector process took 8 heartbeats and 8 feature records before its
    // first scrape; increase() counts them from the counters' created timestamps (or not at all).
    expect([0, 16]).toContain(await value('collector_accepted_per_hour', 2, wallNow));
    // Before the collector was scraped (yesterday), health reads "no data", never a healthy 0.
    for (const id of ['collector_scraped', 'collector_queue_size', 'collector_accepted_per_hour', 'collector_refused_per_hour', 'collector_dropped_per_hour']) {
      expect(await run(id, 2, featureAtYesterday), id).toEqual([]);
    }
  });

  it('the terminal report shows the same numbers', async () => {
    const text = renderReport(await collectReport(evaluate, { service: 'acme', k: 2, catalog, time: now }));
    expect(text).toMatch(new RegExp(`^Install base at .* UTC \\(rules evaluated ${new Date(now * 1000).toISOString().slice(11, 16)};`));
    expect(text).toMatch(/Established installs \(7 d\) ◀ +8$/m);
    expect(text).toMatch(/One-off installs \(7 d, not counted\) +2$/m);
    expect(text).toMatch(/^ {4}linux +81\.8 %/m);
    expect(text).not.toMatch(/^ {4}darwin/m);
    expect(text).toMatch(/^ {4}export_csv +6 /m);
  });

  it('k-suppression: removing any one `>= $k` from any query changes what it shows (mutants generated from src/queries.ts)', async () => {
    const k = 1_000_000; // every group is smaller: the query shows nothing, its mutant shows the groups
    const suppressed = allQueries(catalog).filter((x) => x.expr.includes('>= $k'));
    expect(suppressed.map((x) => x.id)).toEqual(expect.arrayContaining(['version_adoption_over_time', 'feature_events_per_day', 'feature_installs_per_day', 'version_share', 'os_share']));
    const tested = new Set<string>();
    const noData: Query[] = [];
    for (const query of suppressed) {
      const parts = query.expr.split('>= $k');
      const time = query.id.startsWith('feature') ? featureAt : now;
      expect(await evaluate(renderQuery(query, { service: 'acme', k }), time), `${query.id}: suppressed at k=${k}`).toEqual([]);
      let shown = true;
      for (let i = 1; i < parts.length; i++) {
        const mutant = `${parts.slice(0, i).join('>= $k')}${parts.slice(i).join('>= $k')}`;
        if ((await evaluate(renderQuery(mutant, { service: 'acme', k }), time)).length === 0) shown = false;
      }
      if (shown) tested.add(template(query.expr));
      else noData.push(query);
    }
    // A query the fleet has no data for (acme's `users` and `checks_per_day` quantities) is made by
    // the same builder as one that was tested: same expression but for the catalog name.
    expect(noData.map((x) => x.id).sort()).toEqual(['quantity_checks_per_day_buckets', 'quantity_users_buckets']);
    for (const query of noData) expect(tested, query.id).toContain(template(query.expr));
  });

  it(`\`headcount report\` hides groups under the default k (${DEFAULT_K}) when none is given`, async () => {
    const text = await installBaseReport(stack.prometheus.url, { service: 'acme', catalog, time: now });
    // 9 linux installs are shown; windows (1) and darwin (1) are not, nor version 1.5.0 (3).
    expect(text).toMatch(/^ {4}linux +81\.8 %/m);
    expect(text).not.toMatch(/^ {4}(windows|darwin)/m);
    expect(text).toMatch(/^ {4}1\.4\.0 /m);
    expect(text).not.toMatch(/^ {4}1\.5\.0 /m);
    // With k = 3 the 1.5.0 group (3 installs) shows: the default really is above 3.
    expect(renderReport(await collectReport(evaluate, { service: 'acme', k: 3, catalog, time: now }))).toMatch(/^ {4}1\.5\.0 /m);
  });

  // Last: deletes a recorded metric.
  it('a rule that did not run at the newest evaluation gives no data, never a false 0', async () => {
    expect(await value('one_off_installs_7d')).toBe(2);
    expect(await value('new_installs_per_day')).toBe(1);
    // As if both rules had failed (query timeout): their samples of the newest evaluation gone.
    const url = new URL('/api/v1/admin/tsdb/delete_series', stack.prometheus.url);
    for (const m of ['headcount:installs_one_off:7d', 'headcount:installs_first_seen:1d']) url.searchParams.append('match[]', m);
    url.searchParams.set('start', String(now - 60));
    const res = await fetch(url, { method: 'POST' });
    expect(res.status).toBe(204);
    expect(await run('one_off_installs_7d')).toEqual([]);
    expect(await run('new_installs_per_day')).toEqual([]);
    expect(await value('established_installs_7d')).toBe(8);
  });
});
