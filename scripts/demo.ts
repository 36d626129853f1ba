/**
 * The demo (`npm run demo`, `headcount demo`): builds or reuses the Collector and Prometheus
 * binaries, starts the DEMO stack on 127.0.0.1 (scripts/stack/demo-stack.ts: the shipped
 * pipeline + the demo-only history overlay), simulates a fleet with a week of history through the
 * real SDK (src/simulate), prints the install-base report (src/report.ts, the dashboards'
 * queries) and how to point Grafana at it, then stops — or with `--keep` runs until Ctrl-C.
 *
 *   npm run demo
 *   npm run demo -- --installs 1000 --days 14 --seed 7 --k 5 --keep
 *   npm run demo -- --app ./my-telemetry.ts      # your product's catalog instead of acme's
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { envPrefixFor } from '../src/config.ts';
import type { HeadcountOptions } from '../src/headcount.ts';
import { RULE_INTERVAL } from '../src/queries.ts';
import { installBaseReport } from '../src/report.ts';
import { planFleet } from '../src/simulate/fleet.ts';
import { simulate } from '../src/simulate/run.ts';
import { formatBuild, formatBuilds, requireBinaries, watchBuilds, type BuildProgress } from './stack/binaries.ts';
import { HISTORY_LAG_MS, startDemoStack } from './stack/demo-stack.ts';

export interface DemoOptions {
  readonly installs: number;
  readonly days: number;
  readonly seed: number;
  readonly k: number;
  readonly keep: boolean;
  /** Module whose default export is the product's HeadcountOptions (default: examples/acme-app). */
  readonly app?: string;
  readonly out?: (text: string) => void;
  /** Redraw one progress line in place (a terminal); otherwise a line per step and every 30 s. */
  readonly tty?: boolean;
}

export const DEMO_USAGE = 'usage: npm run demo -- [--installs 300] [--days 7] [--seed 42] [--k 5] [--keep] [--app <module>]';

const whole = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: a whole number from ${min} to ${max}`);
  return n;
};

export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      installs: { type: 'string', default: '300' },
      days: { type: 'string', default: '7' },
      seed: { type: 'string', default: '42' },
      k: { type: 'string', default: '5' },
      keep: { type: 'boolean', default: false },
      app: { type: 'string' },
    },
    allowPositionals: true,
  });
  return {
    installs: whole('installs', values.installs, 1, 200_000),
    days: whole('days', values.days, 1, 60),
    seed: whole('seed', values.seed, 0, 2 ** 31),
    k: whole('k', values.k, 1, 1_000),
    keep: values.keep,
    ...(values.app === undefined ? {} : { app: values.app }),
  };
}

async function loadApp(module: string | undefined): Promise<HeadcountOptions> {
  const url = module === undefined ? new URL('../examples/acme-app/telemetry.ts', import.meta.url).href : pathToFileURL(resolve(module)).href;
  const mod = (await import(url)) as { default?: HeadcountOptions };
  if (mod.default === undefined) throw new Error(`${module ?? 'examples/acme-app/telemetry.ts'} has no default export`);
  return mod.default;
}

/**
 * Builds (or reuses) the binaries with visible progress: on a terminal one line redrawn every
 * second; otherwise a line whenever a build enters a new step and all builds every 30 s; then one
 * closing line (`collector built in 6m12s · prometheus cached`). Each line names the
 * binary, its elapsed time and its package count, which keeps growing while the Go tool works.
 */
async function buildWithProgress(out: (text: string) => void, tty: boolean): Promise<void> {
  let builds: readonly BuildProgress[] = [];
  const phases = new Map<string, string>();
  const line = () => `  ${formatBuilds(builds)}`;
  const unwatch = watchBuilds((all) => {
    builds = all;
    if (tty) return;
    for (const b of all) {
      // Each new step once; the end state goes on the closing line.
      const key = `${b.phase} ${b.step ?? ''}`;
      if (phases.get(b.name) === key || ['starting', 'built', 'cached', 'failed'].includes(b.phase)) continue;
      phases.set(b.name, key);
      out(`  ${formatBuild(b)}\n`);
    }
  });
  const timer = setInterval(() => (tty ? out(`\r\x1b[K${line()}`) : out(`${line()}\n`)), tty ? 1_000 : 30_000);
  try {
    await requireBinaries();
  } finally {
    clearInterval(timer);
    unwatch();
    out(`${tty ? '\r\x1b[K' : ''}${line()}\n`);
  }
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const out = o.out ?? ((t: string) => void process.stdout.write(t));
  const app = await loadApp(o.app);
  out('Building or reusing the Collector, Prometheus and promtool (first run: see README "Two commands")…\n');
  await buildWithProgress(out, o.tty ?? (o.out === undefined && process.stdout.isTTY));
  const stack = await startDemoStack({ product: app.product, catalog: app.catalog, historyDays: o.days });
  const stateDir = await mkdtemp(join(tmpdir(), 'headcount-demo-state-'));
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stack.stop().then(() => rm(stateDir, { recursive: true, force: true })));
  const onSigint = () => void stop().then(() => process.exit(130));
  process.once('SIGINT', onSigint);
  try {
    out(`Collector ${stack.collector.url}  Prometheus ${stack.prometheus.url}  (demo variant: history by time shift)\n`);
    out(`Simulating ${o.installs} installs of "${app.product}" over ${o.days} days (seed ${o.seed}) through the SDK…\n`);
    const started = Date.now();
    const result = await simulate({
      app,
      plan: planFleet(o.installs, o.days, o.seed, app.catalog),
      endpoint: stack.collector.url,
      token: stack.token,
      seed: o.seed,
      stateDir,
      concurrency: 32,
      beforeDay: (_day, daysAgo) => stack.atDaysAgo(daysAgo),
      afterDay: (stats) => stack.waitForDay(app.product, stats),
      progress: (line) => out(`  ${line}\n`),
    });
    if (result.failed > 0) throw new Error(`${result.failed} heartbeats were not delivered`);
    out(`\n${result.heartbeats} heartbeats and ${result.featureRecords} feature records delivered in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    const backfill = Date.now();
    const asOf = await stack.recordRules();
    await stack.scrapeCollector();
    out(`Recording rules backfilled over the history with promtool in ${((Date.now() - backfill) / 1000).toFixed(1)} s; Prometheus evaluates them every ${RULE_INTERVAL} from now on.\n\n`);
    out(await installBaseReport(stack.prometheus.url, { service: app.product, k: o.k, catalog: app.catalog, time: asOf, healthTime: Date.now() / 1000 }));
    const prefix = envPrefixFor(app.product);
    const lagMin = HISTORY_LAG_MS / 60_000;
    out(`\nPrometheus API: ${stack.prometheus.url}/api/v1/query   (try: count(count by (instance) (last_over_time(headcount_heartbeat[25h]))))\n`);
    out(`Grafana: add a Prometheus data source with URL ${stack.prometheus.url} and import dashboards/*.json\n`);
    out('  (or on a machine with Docker run the full stack from docker-compose.yml: see README.md).\n');
    out(`\n${o.keep ? 'Point your own app at this stack' : 'With --keep the stack stays up; then point your own app at it'} (paste before your start command):\n`);
    out(`  ${prefix}TELEMETRY_ENDPOINT=${stack.collector.url} ${prefix}TELEMETRY_TOKEN=${stack.token}${app.product === 'acme' ? ' npm run example' : ''}\n`);
    out(`The demo collector stamps what it receives ${lagMin} minutes in the past (one rule interval, so the\n`);
    out('  backfilled rules cover the whole simulated history): times here run that much behind the clock.\n');
    out(`A new install's first heartbeat leaves 5-60 s after start; it is in Prometheus at once, and in the\n`);
    out(`  report and the dashboards after the next recording-rule evaluation (every ${RULE_INTERVAL}, so within ${RULE_INTERVAL}).\n`);
    out(`Same report again${o.keep ? '' : ' (with --keep)'}: npm run report -- --prometheus ${stack.prometheus.url} --service ${app.product} --k ${o.k}\n`);
    if (o.keep) {
      out('\nRunning until Ctrl-C.\n');
      await new Promise(() => undefined);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (!o.keep) await stop();
  }
}

if (import.meta.main) {
  try {
    await runDemo(parseDemoArgs(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n${DEMO_USAGE}\n`);
    process.exitCode = 1;
  }
}
