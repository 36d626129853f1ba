/**
 * The DEMO stack: the real collector (otelcol.yaml + the demo-only otelcol.demo.yaml overlay)
 * and Prometheus (collector-config/prometheus.yml with a longer out-of-order window, a scrape of
 * the collector's own metrics and the catalog's recording rules), on 127.0.0.1 with free ports
 * and temp dirs.
 *
 * `atDaysAgo(n)` restarts the collector so that what it receives now is stamped n days ago (and
 * one rule interval more, HISTORY_LAG_MS): how the simulator writes history. `recordRules()`
 * then backfills the recording rules over that history with promtool, exactly as an operator
 * backfills rules added to a Prometheus that already holds data, and starts evaluating them.
 * Used by scripts/demo.ts, `headcount simulate` without `--collector`, the query tests and
 * bench/scale.ts. Production never runs this.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import type { Catalog } from '../../src/catalog.ts';
import { collectorAllowListEnv } from '../../src/otlp/allowlist.ts';
import { backfillRulesFile, RECORDED, RECORDED_WINDOW, recordingRules, RULE_INTERVAL, rulesFile } from '../../src/queries.ts';
import { DAY_MS, type DayStats } from '../../src/simulate/run.ts';
import { prometheusConfig, repoRoot, requireBinaries } from './binaries.ts';
import { fastCollectorEnv, startCollector, startPrometheus, stopAll, type Collector, type Prometheus } from './processes.ts';

export const demoOverlay = `${repoRoot}collector-config/otelcol.demo.yaml`;

/** A Prometheus duration of one unit (`15m`, `1h`, `1d`) in ms. */
export function durationMs(duration: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(duration);
  if (m === null) throw new Error(`duration ${duration}: expected <n>s|m|h|d`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const RULE_INTERVAL_MS = durationMs(RULE_INTERVAL);

/**
 * History is stamped this much earlier than "n days ago": one rule interval. The backfill's last
 * evaluation (on the rule group's fixed grid, at most one interval before the backfill runs) is
 * then after every simulated heartbeat, so the recorded values as of `recordRules()` cover the
 * whole history, today included.
 */
export const HISTORY_LAG_MS = RULE_INTERVAL_MS;

export interface DemoStackOptions {
  readonly product: string;
  readonly catalog: Catalog;
  /** Days of history to accept (out-of-order window = this + 2 days). */
  readonly historyDays: number;
  readonly token?: string;
  /** Collector batch timeout (default 1s: a small fleet's day lands in one batch). */
  readonly batchTimeout?: string;
  readonly prometheusFlags?: readonly string[];
  /** Prometheus `--enable-feature` list instead of the shipped one. */
  readonly prometheusFeatures?: readonly string[];
  /** Collector overlays after otelcol.demo.yaml (e.g. a second exporter to Cortex) and their settings. */
  readonly collectorOverlays?: readonly string[];
  readonly collectorEnv?: Readonly<Record<string, string>>;
}

export interface RecordRulesOptions {
  /**
   * Evaluation interval of the backfill (default RULE_INTERVAL). bench/scale.ts backfills a
   * large fleet once a day: every evaluation reads the raw history, as a live one would.
   */
  readonly interval?: string;
  /** Evaluate the rules live afterwards (default true). */
  readonly live?: boolean;
}

export interface DemoStack {
  readonly prometheus: Prometheus;
  readonly collector: Collector;
  readonly token: string;
  /** Restarts the collector so data received from now on is stamped `daysAgo` days back. */
  atDaysAgo(daysAgo: number): Promise<void>;
  /**
   * Backfills the catalog's recording rules over the history written so far (promtool tsdb
   * create-blocks-from rules against this Prometheus; the blocks are moved into its data dir),
   * then has Prometheus evaluate them every RULE_INTERVAL from now on. Resolves with the time of
   * the newest backfilled evaluation (s): read the install base "as of" it.
   */
  recordRules(options?: RecordRulesOptions): Promise<number>;
  /** Has Prometheus evaluate `text` (a rules file) from now on instead of any rules before. */
  loadRules(text: string): Promise<void>;
  /**
   * Starts scraping the collector's own metrics (pipeline health) and waits for the first
   * successful scrape. Call it after the history is written: scraped samples carry the
   * wall-clock time, which makes every older sample out-of-order, and Prometheus writes no
   * created-timestamp zero for out-of-order counters.
   */
  scrapeCollector(): Promise<void>;
  /** Waits (bounded) until Prometheus holds a simulated day's heartbeats and feature records. */
  waitForDay(product: string, stats: DayStats, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** prometheus.yml with the demo's out-of-order window, scrape jobs and rules file (absolute path). */
export async function demoPrometheusConfig(historyDays: number, scrapeTargets: Readonly<Record<string, string>>, rules?: string): Promise<string> {
  const config = parse(await readFile(prometheusConfig, 'utf8')) as Record<string, unknown> & { storage?: { tsdb?: Record<string, unknown> } };
  config.storage = { ...config.storage, tsdb: { ...config.storage?.tsdb, out_of_order_time_window: `${historyDays + 2}d` } };
  config['global'] = { scrape_interval: '5s' };
  // Only the demo's own jobs (no scrape.d/ files next to a temp config anyway).
  delete config['scrape_config_files'];
  config['scrape_configs'] = Object.entries(scrapeTargets).map(([job, target]) => ({ job_name: job, static_configs: [{ targets: [target] }] }));
  if (rules === undefined) delete config['rule_files'];
  else config['rule_files'] = [rules];
  return `# Generated by scripts/stack/demo-stack.ts for the DEMO stack only.\n${stringify(config)}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const run = promisify(execFile);

/** The collector's demo time shift for data received now that belongs `daysAgo` days back. */
/** HEADCOUNT_DEMO_TIME_SHIFT_NS for data received now to be stamped `daysAgo` days (and HISTORY_LAG_MS) ago. */
const shiftNs = (daysAgo: number): string => `${(BigInt(daysAgo) * BigInt(DAY_MS) + BigInt(HISTORY_LAG_MS)) * 1_000_000n}`;

export async function startDemoStack(o: DemoStackOptions): Promise<DemoStack> {
  const bins = await requireBinaries();
  const token = o.token ?? 'demo-token-0123456789';
  const dataDir = await mkdtemp(join(tmpdir(), 'headcount-demo-prom-'));
  const configFile = join(dataDir, 'prometheus.demo.yml');
  await writeFile(configFile, await demoPrometheusConfig(o.historyDays, {}));
  // Backfilled blocks are picked up within a second instead of Prometheus' default minute.
  const extraFlags = ['--web.enable-lifecycle', '--storage.tsdb.block-reload-interval=1s', ...(o.prometheusFlags ?? [])];
  const prometheus = await startPrometheus(bins.prometheus, { configFile, dataDir: join(dataDir, 'tsdb'), extraFlags, ...(o.prometheusFeatures === undefined ? {} : { features: o.prometheusFeatures }) });
  let collector: Collector | undefined;
  try {
    collector = await startCollector(bins.collector, {
      prometheusUrl: prometheus.url,
      tokens: [token],
      overlays: [demoOverlay, ...(o.collectorOverlays ?? [])],
      env: {
        ...fastCollectorEnv,
        HEADCOUNT_BATCH_TIMEOUT: o.batchTimeout ?? '1s',
        HEADCOUNT_DEMO_TIME_SHIFT_NS: shiftNs(0),
        ...collectorAllowListEnv([o.product], o.catalog),
        ...o.collectorEnv,
      },
    });
  } catch (error) {
    await stopAll(prometheus);
    throw error;
  }
  const col = collector;
  let shift = 0;
  const scrape: Record<string, string> = {};
  let rules: string | undefined;
  const reload = async (): Promise<void> => {
    await writeFile(configFile, await demoPrometheusConfig(o.historyDays, scrape, rules));
    const res = await fetch(`${prometheus.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`Prometheus config reload answered ${res.status}: ${await res.text()}`);
    await res.body?.cancel();
  };
  return {
    prometheus,
    collector: col,
    token,
    async atDaysAgo(daysAgo) {
      if (daysAgo === shift) return;
      await col.stop();
      shift = daysAgo;
      col.setEnv({ HEADCOUNT_DEMO_TIME_SHIFT_NS: shiftNs(daysAgo) });
      await col.start();
    },
    async recordRules(options = {}) {
      const file = join(dataDir, 'headcount.rules.yml');
      await writeFile(file, rulesFile(o.catalog));
      // promtool evaluates each rule over the whole range before the next, so the rules that
      // carry state from one evaluation to the next are backfilled from their raw definitions;
      // the live rules then carry on from the backfilled state.
      const backfillFile = join(dataDir, 'backfill.rules.yml');
      const backfill = backfillRulesFile(o.catalog);
      await writeFile(backfillFile, options.interval === undefined ? backfill : backfill.replace(`interval: ${RULE_INTERVAL}`, `interval: ${options.interval}`));
      const end = Math.floor(Date.now() / 1000);
      const blocks = join(dataDir, 'backfill');
      // One block per rule per block range; ranges as long as the history keep them few.
      const maxBlock = `${(o.historyDays + 2) * 24}h`;
      const args = ['--enable-feature=promql-experimental-functions', 'tsdb', 'create-blocks-from', 'rules', '--quiet', `--url=${prometheus.url}`, `--start=${end - (o.historyDays + 1) * 86_400}`, `--end=${end}`];
      try {
        await run(bins.promtool, [...args, `--output-dir=${blocks}`, `--max-block-duration=${maxBlock}`, backfillFile], { maxBuffer: 64 * 1024 * 1024 });
      } catch (error) {
        const stderr = (error as { stderr?: unknown }).stderr;
        throw new Error(`promtool rule backfill failed: ${typeof stderr === 'string' ? stderr.trim().slice(-2000) : String(error)}`, { cause: error });
      }
      // Block ULIDs sort by creation time, and promtool writes the rules in file order: the
      // marker's blocks (last rule) move last, so the marker never shows before the rest.
      for (const block of (await readdir(blocks)).sort()) await rename(join(blocks, block), join(prometheus.dataDir, block));
      if (options.live !== false) {
        rules = file;
        await reload();
      }
      // The newest backfilled evaluation, read as of `end` (live evaluations come after it),
      // once Prometheus has loaded the blocks of every rule.
      const window = options.interval ?? RECORDED_WINDOW;
      const names = `count(count by (__name__) (last_over_time({__name__=~"headcount:.+"}[${window}])))`;
      const ruleCount = recordingRules(o.catalog).length;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const [loaded, marker] = await Promise.all([prometheus.query(names, end), prometheus.query(`ts_of_last_over_time(${RECORDED.evaluated}[${window}])`, end)]);
        if (Number(loaded[0]?.value[1] ?? 0) === ruleCount && marker[0] !== undefined) return Number(marker[0].value[1]);
        if (Date.now() > deadline) throw new Error(`backfilled rule blocks not loaded by Prometheus after 60 s:\n${prometheus.logs().slice(-2000)}`);
        await sleep(250);
      }
    },
    async loadRules(text) {
      const file = join(dataDir, 'live.rules.yml');
      await writeFile(file, text);
      rules = file;
      await reload();
    },
    async scrapeCollector() {
      scrape['otelcol'] = col.metricsTarget;
      await reload();
      // Resolve after the first successful scrape, so the health queries have data from now on.
      await prometheus.waitFor('up{job="otelcol"} == 1', 1, 30_000);
    },
    async waitForDay(product, stats, timeoutMs = 60_000) {
      // Evaluate at the end of that day's sends as stamped: wall time minus the shift.
      const at = (stats.endedAt + 5_000 - stats.daysAgo * DAY_MS - HISTORY_LAG_MS) / 1000;
      const window = `${Math.ceil((stats.endedAt - stats.startedAt) / 1000) + 600}s`;
      const job = `job="${product}"`;
      const checks: [string, number][] = [[`count(last_over_time(headcount_heartbeat{${job}}[${window}]))`, stats.heartbeats]];
      if (stats.featureRecords > 0) checks.push([`sum(sum_over_time(headcount_feature_install_days_total{${job}}[${window}]))`, stats.featureRecords]);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const values = await Promise.all(checks.map(async ([q]) => Number((await prometheus.query(q, at))[0]?.value[1] ?? 0)));
        if (values.every((v, i) => v >= checks[i]![1])) return;
        if (Date.now() > deadline) throw new Error(`day ${stats.day}: Prometheus has ${values.join(', ')}, expected ${checks.map((c) => c[1]).join(', ')}`);
        await sleep(250);
      }
    },
    async stop() {
      await stopAll(col, prometheus);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
