/**
 * Scale (issue 4): N simulated installs with D days of history, driven through the real sender
 * (src/simulate) into the DEMO stack (real collector + Prometheus, scripts/stack/demo-stack.ts),
 * then:
 * - head series (/api/v1/status/tsdb) ÷ distinct install ids → series per install (target ≤ 12);
 * - Prometheus VmRSS / VmHWM (/proc/<pid>/status): idle before loading (baseline), after loading,
 *   after the queries;
 * - time of every recording rule of src/queries.ts on the raw history (an instant query each:
 *   what one rule evaluation costs Prometheus every RULE_INTERVAL), then the rules backfilled
 *   with promtool once a day over the history (scripts/stack/demo-stack.ts recordRules);
 * - time of every query of src/queries.ts (allQueries of the example catalog) as the dashboards
 *   issue it, as of the newest recorded evaluation: an instant query for stat / bar / table
 *   panels (every query is also timed as an instant query), a range query for time-series panels
 *   (30 days back at the query's `step`; the health dashboard's raw now-2d at a 2 m auto
 *   interval), and the dashboards' two variable queries (label values); baseline `vector(1)`;
 * - load time of the fleet (heartbeats/s);
 * - out-of-order samples appended (must be 0: the history is written in time order, so the
 *   queries read the in-order head and compacted blocks, as production data stamped on receipt).
 *
 *   npm run bench:scale -- --installs 10000 --days 7 [--seed 42] [--concurrency 256] [--repeat 3] [--json out.json] [--keep]
 *   npm run bench:scale -- --fast --live --installs 100000 --days 30 --concurrency 24 --repeat 1
 *   npm run bench:scale -- --engine cortex [--fast] ...   (bench/scale-cortex.ts)
 *
 * --fast sends the fleet with the fast OTLP generator (bench/otlp-load.ts: the SDK's own heartbeat
 * bodies, each install with its own stable id, day by day, oldest first) instead of one SDK handle
 * per install: ~10x faster (4,477 vs 462 heartbeats/s at 100k), heartbeats only (no feature
 * records), for fleets × days the simulator takes hours for.
 *
 * --live has Prometheus evaluate the rules itself instead of the promtool backfill (which reads
 * the whole history once per rule and day: hours and tens of GiB at 100k installs × 30 days):
 * the backfill rules file (raw definitions) for one evaluation, which starts the carried state
 * and is the cycle of the design without it, then the shipped rules file at `--rule-interval`
 * (default 1m, so cycles are seen in minutes); cycle and per-rule times are Prometheus' own
 * (prometheus_rule_group_last_duration_seconds, /api/v1/rules). The time-series panels then
 * have only the live evaluations to read.
 *
 * --keep leaves the loaded stack running (Prometheus URL on stderr) until Ctrl-C, for experiments.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { requireBinaries } from '../scripts/stack/binaries.ts';
import { metricValue } from '../scripts/stack/cortex.ts';
import { durationMs, startDemoStack } from '../scripts/stack/demo-stack.ts';
import type { HeadcountOptions } from '../src/headcount.ts';
import { allQueries, backfillRulesFile, HEALTH, RECORDED, recordingRules, renderQuery, RULE_GROUP, RULE_INTERVAL, rulesFile, STATE_CARRY, VARIABLE_QUERIES, type Query } from '../src/queries.ts';
import { planFleet } from '../src/simulate/fleet.ts';
import { simulate, type DayStats, type SimulationResult } from '../src/simulate/run.ts';
import { fastLoad, installIdFor } from './otlp-load.ts';
import { median, sleep } from './stats.ts';

// `--engine cortex`: the same fleet on a multi-process Cortex cluster (bench/scale-cortex.ts).
if (process.argv.includes('--engine') && process.argv[process.argv.indexOf('--engine') + 1] === 'cortex') {
  await import('./scale-cortex.ts');
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    installs: { type: 'string', default: '10000' },
    days: { type: 'string', default: '7' },
    seed: { type: 'string', default: '42' },
    concurrency: { type: 'string', default: '256' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'prometheus' },
    fast: { type: 'boolean', default: false },
    live: { type: 'boolean', default: false },
    'rule-interval': { type: 'string', default: '1m' },
    cycles: { type: 'string', default: '2' },
  },
  allowPositionals: true,
});
const installs = Number(args.installs);
const days = Number(args.days);
const seed = Number(args.seed);
const concurrency = Number(args.concurrency);
const repeat = Number(args.repeat);
for (const [name, n] of Object.entries({ installs, days, seed, concurrency, repeat })) {
  if (!Number.isInteger(n) || n < (name === 'seed' ? 0 : 1)) throw new Error(`--${name}: a whole number`);
}

const app = ((await import('../examples/acme-app/telemetry.ts')) as { default: HeadcountOptions }).default;
const vars = { service: app.product, k: 5 };
const log = (line: string) => void process.stderr.write(`${line}\n`);
const mib = (kib: number) => kib / 1024;

/** The Prometheus process serving `dataDir` (the stack does not expose its pid). */
async function pidServing(dataDir: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (argv.includes(`--storage.tsdb.path=${dataDir}`)) return Number(entry);
    } catch {
      // gone, or not ours
    }
  }
  throw new Error(`no process serves ${dataDir}`);
}

async function memKiB(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** CPU seconds (user + system) of a process. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const workDir = await mkdtemp(join(tmpdir(), 'headcount-scale-'));
const stateDir = join(workDir, 'state');
log(`Starting the demo stack (collector + Prometheus, ${days + 2}d out-of-order window)…`);
// Backfill range queries evaluate a day's raw history per step: more than the default 2 min at 100k.
const stack = await startDemoStack({ product: app.product, catalog: app.catalog, historyDays: days, prometheusFlags: ['--query.timeout=30m'] });
const promUrl = stack.prometheus.url;
let keeping = false;
const interrupted = () => {
  if (keeping) return; // --keep: the wait below resolves and the finally block stops the stack
  void stack.stop().finally(() => process.exit(130));
};
process.on('SIGINT', interrupted);
process.on('SIGTERM', interrupted);

async function api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const get = path.startsWith('/api/v1/status/') || path.startsWith('/api/v1/label/') || path === '/api/v1/rules';
  const query = new URLSearchParams(params);
  const res = await fetch(`${promUrl}${path}${get ? `?${query.toString()}` : ''}`, { method: get ? 'GET' : 'POST', ...(get ? {} : { body: query }), signal: AbortSignal.timeout(300_000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${res.status}`);
  return body.data;
}

type Timed = { ms: number; error?: string; results?: number };
/** Median wall time of `repeat` runs of one query (a query that fails is reported, not retried). */
async function timeQuery(path: string, params: Record<string, string>, times = repeat): Promise<Timed> {
  const ms: number[] = [];
  let results = 0;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    try {
      const data = await api<{ result: unknown }>(path, params);
      results = Array.isArray(data.result) ? data.result.length : 1;
    } catch (error) {
      return { ms: performance.now() - t0, error: (error as Error).message };
    }
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), results };
}

/**
 * Backfills the two state rules (raw definitions) every RULE_INTERVAL over the STATE_CARRY
 * before `at`, as live evaluations would have written them, and waits until Prometheus serves them.
 */
async function backfillState(at: number): Promise<void> {
  const { promtool } = await requireBinaries();
  const file = join(workDir, 'state.rules.yml');
  const text = backfillRulesFile(app.catalog);
  const keep = new Set<string>([RECORDED.lastSeen, RECORDED.previousSeen]);
  // Keep the header and group lines, and the record/expr pairs of the two state rules.
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {6}- record: (.+)$/.exec(lines[i]!);
    if (m === null) out.push(lines[i]!);
    else if (keep.has(m[1]!)) out.push(lines[i]!, lines[++i]!);
    else i++;
  }
  await writeFile(file, out.join('\n'));
  const blocks = join(workDir, 'state-blocks');
  const carryS = durationMs(STATE_CARRY) / 1000;
  await promisify(execFile)(promtool, ['--enable-feature=promql-experimental-functions', 'tsdb', 'create-blocks-from', 'rules', '--quiet', `--url=${promUrl}`,
    `--start=${at - carryS + durationMs(RULE_INTERVAL) / 1000}`, `--end=${at}`, `--output-dir=${blocks}`, file], { maxBuffer: 64 * 1024 * 1024 });
  for (const block of (await readdir(blocks)).sort()) await rename(join(blocks, block), join(stack.prometheus.dataDir, block));
  const expected = carryS / (durationMs(RULE_INTERVAL) / 1000);
  for (const deadline = Date.now() + 120_000; ; await sleep(500)) {
    const counts = await Promise.all(
      [RECORDED.lastSeen, RECORDED.previousSeen].map(async (m) => {
        const r = await api<{ result: { value: [number, string] }[] }>('/api/v1/query', { query: `count_over_time(${m}{instance=""}[${STATE_CARRY}])`, time: String(at) });
        return Number(r.result[0]?.value[1] ?? 0);
      }),
    );
    // promtool may leave out the evaluation at --end itself (the 1-day backfill has it).
    if (counts.every((n) => n >= expected - 1)) return;
    if (Date.now() > deadline) throw new Error(`state blocks not loaded: ${counts.join(', ')} of ${expected} evaluations`);
  }
}

/**
 * `--fast`: the plan's days oldest first through the fast generator (SDK bodies, stable ids), the
 * collector's clock shifted for each day as the simulator does, each day in Prometheus before
 * the next starts. Heartbeats only.
 */
async function fastDays(plan: ReturnType<typeof planFleet>, progress: (line: string) => void): Promise<SimulationResult> {
  const out: DayStats[] = [];
  for (let day = 0; day < plan.days; day++) {
    const daysAgo = plan.days - 1 - day;
    await stack.atDaysAgo(daysAgo);
    const startedAt = Date.now();
    const r = await fastLoad({ app, plan, day, endpoint: stack.collector.url, token: stack.token, idFor: (i) => installIdFor(seed, i), concurrency, progress });
    const stats: DayStats = { day, daysAgo, heartbeats: r.ok, featureRecords: 0, failed: r.failed, startedAt, endedAt: Date.now() };
    await stack.waitForDay(app.product, stats, 600_000);
    progress(`day ${day + 1}/${plan.days}: ${r.ok} heartbeats (${r.templates} distinct SDK bodies) in ${r.seconds.toFixed(0)} s`);
    out.push(stats);
  }
  const sum = (f: (d: DayStats) => number) => out.reduce((n, d) => n + f(d), 0);
  return { days: out, heartbeats: sum((d) => d.heartbeats), featureRecords: 0, failed: sum((d) => d.failed) };
}

interface TsdbStatus {
  headStats: { numSeries: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: { name: string; value: number }[];
}

try {
  const promPid = await pidServing(stack.prometheus.dataDir);
  await sleep(5_000);
  const idle = await memKiB(promPid);
  log(`Prometheus pid ${promPid}: idle VmRSS ${mib(idle.rss).toFixed(1)} MiB`);

  // ---- load the fleet through the real sender ------------------------------------------------
  const plan = planFleet(installs, days, seed, app.catalog);
  const expectedInstalls = plan.installs.filter((p) => p.days.length > 0).length;
  const promCpu0 = await cpuSeconds(promPid);
  const t0 = Date.now();
  const progress = (line: string) => log(`  ${line}  [${((Date.now() - t0) / 1000).toFixed(0)} s, node RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB]`);
  const result: SimulationResult = args.fast
    ? await fastDays(plan, progress)
    : await simulate({
        app,
        plan,
        endpoint: stack.collector.url,
        token: stack.token,
        seed,
        stateDir,
        concurrency,
        beforeDay: (_day, daysAgo) => stack.atDaysAgo(daysAgo),
        afterDay: (stats) => stack.waitForDay(app.product, stats, 600_000),
        progress,
      });
  if (result.failed > 0) throw new Error(`${result.failed} heartbeats were not delivered`);
  const loadSeconds = (Date.now() - t0) / 1000;
  const sendSeconds = result.days.reduce((n, d) => n + (d.endedAt - d.startedAt) / 1000, 0);
  const promLoadCpu = (await cpuSeconds(promPid)) - promCpu0;
  await stack.scrapeCollector();

  // ---- wait until Prometheus has every install ----------------------------------------------
  const distinctExpr = `count(count by (instance) (last_over_time(headcount_heartbeat{job="${app.product}"}[${days + 1}d])))`;
  let distinct = 0;
  for (const deadline = Date.now() + 300_000; ; await sleep(1_000)) {
    const r = await api<{ result: { value: [number, string] }[] }>('/api/v1/query', { query: distinctExpr });
    distinct = Number(r.result[0]?.value[1] ?? 0);
    if (distinct >= expectedInstalls) break;
    if (Date.now() > deadline) throw new Error(`Prometheus has ${distinct} installs, expected ${expectedInstalls}`);
  }
  // Let the compaction of the history into blocks finish (the head keeps the newest ~3 h).
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(5_000)) {
    const head = (await api<TsdbStatus>('/api/v1/status/tsdb', { limit: '1' })).headStats;
    if (head.maxTime - head.minTime <= 4 * 3_600_000) break;
  }
  await sleep(12_000); // two scrapes of the collector's own metrics (health queries)
  // What is timed must be what production reads: data stamped on receipt, in order, in the head
  // and in compacted blocks. The demo's history is written day by day in time order, so nothing
  // should have gone through the out-of-order head (much slower to read); checked, not assumed.
  const ownMetrics = await (await fetch(`${promUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const oooSamples = [...ownMetrics.matchAll(/^prometheus_tsdb_head_out_of_order_samples_appended_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  if (oooSamples > 0) log(`WARNING: ${oooSamples} samples went through the out-of-order head: the timings are not production's`);
  const loaded = await memKiB(promPid);
  // The head holds only the newest ~2-3 h after Prometheus compacts the older history into
  // blocks, so the cardinality over the whole history is counted with a query, per metric name.
  const tsdb = await api<TsdbStatus>('/api/v1/status/tsdb', { limit: '20' });
  const headSeries = tsdb.headStats.numSeries;
  const blocks = (await readdir(stack.prometheus.dataDir)).filter((f) => /^[0-9A-Z]{26}$/.test(f)).length;
  const perName = await api<{ result: { metric: { __name__?: string }; value: [number, string] }[] }>('/api/v1/query', {
    query: `count by (__name__) (last_over_time({__name__=~".+"}[${days + 1}d]))`,
  });
  const byName = Object.fromEntries(perName.result.map((r) => [r.metric.__name__ ?? '?', Number(r.value[1])]));
  const totalSeries = Object.values(byName).reduce((n, v) => n + v, 0);
  const perInstall = ['headcount_heartbeat', 'headcount_feature_install_days_total'];
  const headcountSeries = perInstall.reduce((n, name) => n + (byName[name] ?? 0), 0);

  // ---- recording rules: backfill, then one evaluation of every rule ----------------------------
  const rules = recordingRules(app.catalog);
  const ruleTimings: { record: string; timed: Timed; raw: Timed }[] = [];
  let now: number;
  let ruleCpu: number;
  let rawCpu: number;
  let backfillSeconds = Number.NaN;
  /** --live: Prometheus' own cycle times, the raw definitions' cycle and the shipped rules' one. */
  let liveCycle: { raw: number; shipped: number; cpuPerInterval: number } | undefined;
  if (args.live) {
    const interval = args['rule-interval'];
    const at = (text: string) => text.replace(`interval: ${RULE_INTERVAL}`, `interval: ${interval}`);
    const marker = `ts_of_last_over_time(${RECORDED.evaluated}[1h])`;
    const markerAfter = async (t: number): Promise<number> => Number((await stack.prometheus.waitFor(`${marker} > ${t}`, 1, 3_600_000))[0]!.value[1]);
    const groupSeconds = async (): Promise<number> =>
      (await metricValue(`${promUrl}/metrics`, new RegExp(`^prometheus_rule_group_last_duration_seconds\\{rule_group="[^"]*;${RULE_GROUP}"\\} (\\S+)$`, 'm'))) ?? Number.NaN;
    const perRule = async (): Promise<Map<string, number>> => {
      const data = await api<{ groups: { rules: { name: string; evaluationTime?: number; health?: string; lastError?: string }[] }[] }>('/api/v1/rules');
      const out = new Map<string, number>();
      for (const r of data.groups.flatMap((g) => g.rules)) {
        if (r.health === 'err') log(`  rule ${r.name} FAILED: ${r.lastError ?? ''}`);
        out.set(r.name, (r.evaluationTime ?? Number.NaN) * 1000);
      }
      return out;
    };
    log(`Starting the carried state: one live evaluation of the backfill rules (raw definitions)…`);
    const c0 = await cpuSeconds(promPid);
    await stack.loadRules(at(backfillRulesFile(app.catalog)));
    await markerAfter(Date.now() / 1000);
    rawCpu = (await cpuSeconds(promPid)) - c0;
    const raw = await perRule();
    const rawCycle = await groupSeconds();
    log(`  raw definitions: ${rawCycle.toFixed(1)} s; now the shipped rules every ${interval}…`);
    await stack.loadRules(at(rulesFile(app.catalog)));
    let t = await markerAfter(Date.now() / 1000);
    let cpuPerInterval = 0;
    for (let i = 1; i < Math.max(1, Number(args.cycles)); i++) {
      const c1 = await cpuSeconds(promPid);
      const t1 = await markerAfter(t + 1);
      cpuPerInterval = (await cpuSeconds(promPid)) - c1;
      t = t1;
    }
    const shipped = await perRule();
    const cycle = await groupSeconds();
    ruleCpu = cpuPerInterval;
    now = t;
    liveCycle = { raw: rawCycle, shipped: cycle, cpuPerInterval };
    for (const rule of rules) ruleTimings.push({ record: rule.record, timed: { ms: shipped.get(rule.record) ?? Number.NaN }, raw: { ms: raw.get(rule.record) ?? Number.NaN } });
  } else {
    log(`Backfilling the ${rules.length} rules once a day over ${days} days with promtool (raw definitions)…`);
    const b0 = Date.now();
    now = await stack.recordRules({ interval: '1d', live: false });
    backfillSeconds = (Date.now() - b0) / 1000;
    // The state rules' series as live evaluations leave them: one sample every RULE_INTERVAL over
    // the last STATE_CARRY (what the next evaluation reads back).
    log(`Backfilling the state rules every ${RULE_INTERVAL} over the last ${STATE_CARRY}…`);
    await backfillState(now);
    // One evaluation cycle at the newest evaluation: each rule as Prometheus evaluates it every
    // RULE_INTERVAL (the state rules read their carried state and one day of raw heartbeats), and
    // the same series from their raw definitions (the cycle before the state was carried).
    const promCpuRules = await cpuSeconds(promPid);
    for (const rule of rules) {
      log(`  rule ${rule.record}`);
      ruleTimings.push({ record: rule.record, timed: await timeQuery('/api/v1/query', { query: rule.expr, time: String(now) }, 1), raw: { ms: 0 } });
    }
    ruleCpu = (await cpuSeconds(promPid)) - promCpuRules;
    const promCpuRaw = await cpuSeconds(promPid);
    for (const r of ruleTimings) {
      const rule = rules.find((x) => x.record === r.record)!;
      r.raw = rule.raw === rule.expr ? r.timed : await timeQuery('/api/v1/query', { query: rule.raw, time: String(now) }, 1);
    }
    rawCpu = (await cpuSeconds(promPid)) - promCpuRaw;
  }
  const recordedSeries = await api<{ result: { value: [number, string] }[] }>('/api/v1/query', { query: `count({__name__=~"headcount:.+"})`, time: String(now) });
  const stateSeries = await api<{ result: { value: [number, string] }[] }>('/api/v1/query', { query: `count({__name__=~"${RECORDED.lastSeen}|${RECORDED.previousSeen}"})`, time: String(now) });

  // ---- queries, as the dashboards issue them, as of the newest recorded evaluation ------------
  const baseline = await timeQuery('/api/v1/query', { query: 'vector(1)', time: String(now) }, 21);
  const queries = allQueries(app.catalog);
  const isRange = (q: Query) => q.kind === 'timeseries' || (q.kind === 'bars' && q.step !== undefined);
  const timings: { id: string; mode: 'instant' | 'range'; timed: Timed; panel: boolean }[] = [];
  const promCpu1 = await cpuSeconds(promPid);
  const q0 = Date.now();
  for (const q of queries) {
    const expr = renderQuery(q, vars);
    log(`  query ${q.id}`);
    timings.push({ id: q.id, mode: 'instant', panel: !isRange(q), timed: await timeQuery('/api/v1/query', { query: expr, time: String(now) }) });
    if (isRange(q)) {
      // Grafana: dashboards over now-30d (health: now-2d, auto interval ≈ 2 m). Recorded panels
      // end at the newest evaluation (on the backfill's daily grid); health reads raw data live.
      const health = HEALTH.includes(q);
      const step = health ? 120 : durationMs(q.step ?? '5m') / 1000;
      const wall = Date.now() / 1000;
      const end = health ? Math.floor(wall / step) * step : now;
      const start = end - (health ? 2 : 30) * 86_400;
      timings.push({ id: q.id, mode: 'range', panel: true, timed: await timeQuery('/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: String(step) }) });
    }
  }
  for (const [name, query] of Object.entries(VARIABLE_QUERIES)) {
    // Grafana's label_values(metric{...}, label) = /api/v1/label/<label>/values?match[]=... over the dashboard range.
    const m = /^label_values\((.+), (\w+)\)$/.exec(query.replace('$service', app.product));
    if (m === null) throw new Error(`variable query ${query}: not label_values(selector, label)`);
    const params = { 'match[]': m[1]!, start: String(now - 30 * 86_400), end: String(now) };
    timings.push({ id: `variable_${name}`, mode: 'instant', panel: true, timed: await timeQuery(`/api/v1/label/${m[2]!}/values`, params) });
  }
  const querySeconds = (Date.now() - q0) / 1000;
  const promQueryCpu = (await cpuSeconds(promPid)) - promCpu1;
  const after = await memKiB(promPid);

  // ---- report ---------------------------------------------------------------------------------
  const ok = timings.filter((t) => t.timed.error === undefined);
  const failed = timings.filter((t) => t.timed.error !== undefined);
  const panels = ok.filter((t) => t.panel);
  const slowest = [...ok].sort((a, b) => b.timed.ms - a.timed.ms);
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`# Scale: ${installs} installs × ${days} days (seed ${seed}, ${args.fast ? 'fast OTLP generator: SDK heartbeat bodies, no feature records' : 'SDK simulator'}, ${queries.length} queries of src/queries.ts for examples/acme-app)`);
  line();
  line(`Load: ${result.heartbeats} heartbeats + ${result.featureRecords} feature records in ${loadSeconds.toFixed(1)} s → ${(result.heartbeats / loadSeconds).toFixed(0)} heartbeats/s end to end (sending only: ${(result.heartbeats / sendSeconds).toFixed(0)}/s; the rest is ${days} collector restarts and waiting for Prometheus); Prometheus used ${promLoadCpu.toFixed(1)} CPU-s`);
  line(`Distinct installs in Prometheus: ${distinct} (plan: ${expectedInstalls})`);
  line(`Series over the whole history: ${totalSeries} (headcount_heartbeat ${byName['headcount_heartbeat'] ?? 0}, headcount_feature_install_days_total ${byName['headcount_feature_install_days_total'] ?? 0}, target_info ${byName['target_info'] ?? 0}, collector self-metrics and other ${totalSeries - headcountSeries})`);
  line(`Series per install: ${(totalSeries / distinct).toFixed(2)} (heartbeat + feature only: ${(headcountSeries / distinct).toFixed(2)}; target ≤ 12)`);
  line(`Head series (prometheus_tsdb_head_series) now: ${headSeries} = ${(headSeries / distinct).toFixed(2)} per install; ${tsdb.headStats.chunkCount} head chunks; ${blocks} persisted blocks (the older history)`);
  line(`Out-of-order samples appended: ${oooSamples}${oooSamples === 0 ? ' (all in order: the queries read the in-order head and compacted blocks, as in production)' : ' (NOT production-like: part of the data is read from the out-of-order head)'}`);
  line(`Prometheus memory: idle VmRSS ${mib(idle.rss).toFixed(1)} MiB (baseline); loaded VmRSS ${mib(loaded.rss).toFixed(1)} MiB, VmHWM ${mib(loaded.hwm).toFixed(1)} MiB; after the queries VmRSS ${mib(after.rss).toFixed(1)} MiB, VmHWM ${mib(after.hwm).toFixed(1)} MiB`);
  line(`Simulator (node) peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  line();
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const slowRule = [...ruleTimings].sort((a, b) => b.timed.ms - a.timed.ms)[0];
  const slowRaw = [...ruleTimings].sort((a, b) => b.raw.ms - a.raw.ms)[0];
  if (liveCycle !== undefined) {
    line(`Rule cycle (${rules.length} rules, evaluated by Prometheus every ${args['rule-interval']}; shipped every ${RULE_INTERVAL}): ${liveCycle.shipped.toFixed(2)} s = ${((100 * liveCycle.shipped) / (durationMs(RULE_INTERVAL) / 1000)).toFixed(1)} % of ${RULE_INTERVAL}; Prometheus ${liveCycle.cpuPerInterval.toFixed(1)} CPU-s per ${args['rule-interval']} interval (the cycle and everything else); slowest ${slowRule?.timed.ms.toFixed(0)} ms (${slowRule?.record})`);
    line(`  the raw definitions, one evaluation (starts the state; the cycle without carried state or intermediates): ${liveCycle.raw.toFixed(2)} s, ${rawCpu.toFixed(1)} CPU-s; slowest ${slowRaw?.raw.ms.toFixed(0)} ms (${slowRaw?.record})`);
  } else {
    line(`Rule cycle (${rules.length} rules, one evaluation as Prometheus runs it every ${RULE_INTERVAL}): ${(sum(ruleTimings.map((r) => r.timed.ms)) / 1000).toFixed(2)} s, Prometheus ${ruleCpu.toFixed(1)} CPU-s; slowest ${slowRule?.timed.ms.toFixed(0)} ms (${slowRule?.record})`);
    line(`  the same series from the raw definitions (the cycle without carried state): ${(sum(ruleTimings.map((r) => r.raw.ms)) / 1000).toFixed(2)} s, ${rawCpu.toFixed(1)} CPU-s for the rules that differ; slowest ${slowRaw?.raw.ms.toFixed(0)} ms (${slowRaw?.record})`);
  }
  line('  per rule, ms (cycle / raw):');
  for (const r of ruleTimings) line(`  ${r.timed.ms.toFixed(0).padStart(8)} / ${r.raw.ms.toFixed(0).padStart(8)}  ${r.record}`);
  for (const r of ruleTimings.filter((t) => t.timed.error !== undefined || t.raw.error !== undefined)) line(`  FAILED rule ${r.record}: ${r.timed.error ?? r.raw.error}`);
  line(`${args.live ? 'No backfill (--live: the time-series panels read only the live evaluations)' : `Backfill (promtool, one evaluation per rule per day over ${days} days, raw definitions): ${backfillSeconds.toFixed(1)} s`}; recorded series: ${recordedSeries.result[0]?.value[1] ?? 0} (per-install state: ${stateSeries.result[0]?.value[1] ?? 0})`);
  line();
  line(`Queries (median of ${repeat} runs each; baseline vector(1): ${baseline.ms.toFixed(2)} ms):`);
  line(`- ${ok.filter((t) => t.mode === 'instant').length} instant, ${ok.filter((t) => t.mode === 'range').length} range; ${timings.length} timings took ${querySeconds.toFixed(1)} s wall with repeats, Prometheus ${promQueryCpu.toFixed(1)} CPU-s`);
  line(`- median ${median(ok.map((t) => t.timed.ms)).toFixed(1)} ms (as the panels issue them: ${median(panels.map((t) => t.timed.ms)).toFixed(1)} ms); slowest ${slowest[0]?.timed.ms.toFixed(0)} ms; over 1 s: ${ok.filter((t) => t.timed.ms > 1000).length}`);
  line(`- a full dashboard load, sequential sum of its panels' queries: ${(panels.reduce((n, t) => n + t.timed.ms, 0) / 1000).toFixed(2)} s for all ${panels.length} panels of the five dashboards`);
  line('- slowest 10:');
  for (const t of slowest.slice(0, 10)) line(`  ${t.timed.ms.toFixed(0).padStart(7)} ms  ${t.mode.padEnd(7)} ${t.id}${t.panel ? '' : ' (panel uses range)'}  (${t.timed.results} series)`);
  for (const t of failed) line(`  FAILED ${t.mode} ${t.id}: ${t.timed.error}`);
  process.stdout.write(`${out.join('\n')}\n`);

  if (args.json !== undefined) {
    await writeFile(
      args.json,
      JSON.stringify(
        {
          installs, days, seed, concurrency, repeat,
          heartbeats: result.heartbeats, featureRecords: result.featureRecords, loadSeconds, sendSeconds, promLoadCpu,
          distinct, headSeries, totalSeries, blocks, oooSamples, byName, idle, loaded, after, nodeMaxRssKiB: process.resourceUsage().maxRSS,
          baselineMs: baseline.ms, querySeconds, promQueryCpu, ruleCpu, backfillSeconds,
          rules: ruleTimings.map((r) => ({ record: r.record, ...r.timed, rawMs: r.raw.ms })),
          timings: timings.map((t) => ({ id: t.id, mode: t.mode, panel: t.panel, ...t.timed })),
        },
        null,
        2,
      ),
    );
  }
  if (args.keep) {
    log(`Prometheus ${promUrl} stays up until Ctrl-C (--keep).`);
    keeping = true;
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
} finally {
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
