/**
 * The demo (`npm run demo`): builds or reuses the Collector and Prometheus binaries, starts them
 * on 127.0.0.1, sends heartbeats and feature events from a small fleet of sample installs through
 * the real SDK, then prints the install base using the queries of `src/queries.ts`.
 *
 *   npm run demo                 # then stops the stack
 *   npm run demo -- --keep       # keeps it running until Ctrl-C (point Grafana at the URL shown)
 *   npm run demo -- --installs 80 --seed 7
 *
 * Data is stamped on receipt (the shipped Collector config), so the demo shows today only.
 */
import { parseArgs } from 'node:util';
import { createHeadcount, MemoryStateStore, type Report } from '../src/index.ts';
import { collectorAllowListEnv } from '../src/otlp/allowlist.ts';
import { FEATURES, OVERVIEW, VERSIONS, flagQueries, quantityQueries, renderQuery, type Query } from '../src/queries.ts';
import options, { catalog } from '../examples/acme-app/telemetry.ts';
import { requireBinaries } from './stack/binaries.ts';
import { fastCollectorEnv, startCollector, startPrometheus, stopAll, type Prometheus } from './stack/processes.ts';

const TOKEN = 'demo-token-0123456789';

/** Deterministic PRNG (mulberry32), so `--seed` reproduces a fleet. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, weighted: ReadonlyArray<readonly [T, number]>): T => {
  let r = random() * weighted.reduce((n, [, w]) => n + w, 0);
  for (const [value, w] of weighted) if ((r -= w) < 0) return value;
  return weighted[weighted.length - 1]![0];
};

/** A long-tailed number: most installs are small, a few are large. */
const longTail = (random: () => number, scale: number) => Math.floor(scale * Math.exp(random() * 6) - scale);

/** One sample install, driven through `createHeadcount` exactly as a product would. */
async function runInstall(endpoint: string, random: () => number): Promise<boolean> {
  const version = pick(random, [['1.4.0', 60], ['1.3.2', 25], ['1.2.9', 10], ['1.5.0-rc.1', 5]] as const);
  const report: Report = {
    quantities: { servers: longTail(random, 3), users: longTail(random, 1), checks_per_day: longTail(random, 200) },
    flags: { sso_enabled: random() < 0.3, external_db: random() < 0.5 },
  };
  const h = createHeadcount({
    ...options,
    version,
    collect: () => report,
    env: { ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: endpoint, ACME_TELEMETRY_FORCE: '1' },
    store: new MemoryStateStore(),
    log: () => undefined,
  });
  if (random() < 0.6) for (let i = longTail(random, 2) + 1; i > 0; i--) h.feature('export_csv');
  if (random() < 0.3) h.feature('dashboard_shared');
  const outcome = await h.sendNow();
  await h.shutdown({ timeoutMs: 5_000 }); // sends today's feature counts
  return outcome.sent;
}

const bar = (value: number, max: number, width = 28) => '█'.repeat(max > 0 ? Math.round((value / max) * width) : 0);

async function printQuery(prom: Prometheus, q: Query, k: number): Promise<void> {
  const rows = await prom.query(renderQuery(q, { service: 'acme', k }));
  if (q.groupBy === undefined || q.kind === 'stat') {
    const value = rows[0] === undefined ? '-' : Number(rows[0].value[1]);
    const shown = typeof value === 'number' && q.unit === 'percentunit' ? `${(value * 100).toFixed(1)} %` : typeof value === 'number' ? String(Math.round(value * 100) / 100) : value;
    process.stdout.write(`  ${q.title.padEnd(44)} ${shown}\n`);
    return;
  }
  process.stdout.write(`\n  ${q.title}\n`);
  const values = rows.map((r) => ({ label: r.metric[q.groupBy!] ?? '(none)', value: Number(r.value[1]) })).sort((a, b) => b.value - a.value);
  const max = Math.max(0, ...values.map((v) => v.value));
  const fmt = (v: number) => (q.unit === 'percentunit' ? `${(v * 100).toFixed(1)} %` : String(Math.round(v * 100) / 100));
  if (values.length === 0) process.stdout.write(`    (no group with ${k} or more installs)\n`);
  for (const v of values) process.stdout.write(`    ${v.label.padEnd(14)} ${fmt(v.value).padStart(8)}  ${bar(v.value, max)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { installs: { type: 'string', default: '60' }, seed: { type: 'string', default: '42' }, keep: { type: 'boolean', default: false }, k: { type: 'string', default: '5' } },
  });
  const installs = Number(values.installs);
  const k = Number(values.k);
  if (!Number.isInteger(installs) || installs < 1 || installs > 5_000) throw new Error('--installs: a whole number from 1 to 5000');
  if (!Number.isInteger(k) || k < 1) throw new Error('--k: a whole number from 1');

  process.stdout.write('Building or reusing the Collector and Prometheus binaries (first run: a few minutes)…\n');
  const bins = await requireBinaries();
  const prom = await startPrometheus(bins.prometheus);
  const col = await startCollector(bins.collector, {
    prometheusUrl: prom.url,
    tokens: [TOKEN],
    env: { ...fastCollectorEnv, ...collectorAllowListEnv(['acme'], catalog) },
  });
  const stop = () => stopAll(col, prom);
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    process.stdout.write(`Collector ${col.url}  Prometheus ${prom.url}\nSending from ${installs} sample installs through the SDK…\n`);
    const random = prng(Number(values.seed));
    let sent = 0;
    for (let i = 0; i < installs; i += 10) {
      const batch = Array.from({ length: Math.min(10, installs - i) }, () => runInstall(col.url, random));
      sent += (await Promise.all(batch)).filter(Boolean).length;
    }
    await prom.waitFor('count(count by (instance) (headcount_heartbeat))', 1, 30_000);
    await prom.waitFor(`count(count by (instance) (headcount_heartbeat)) >= ${sent}`, 1, 30_000);
    await prom.waitFor('headcount_feature_install_days_total', 1, 30_000).catch(() => undefined);

    process.stdout.write(`\n${sent} heartbeats delivered. Install base of "acme" (groups under k=${k} installs hidden):\n\n`);
    const byId = (ids: string[], from: readonly Query[]) => from.filter((q) => ids.includes(q.id));
    for (const q of byId(['active_installs_24h', 'active_installs_7d'], OVERVIEW)) await printQuery(prom, q, k);
    for (const q of [...VERSIONS, ...quantityQueries(catalog), ...flagQueries(catalog), ...FEATURES]) {
      if (q.kind !== 'timeseries') await printQuery(prom, q, k);
    }
    process.stdout.write(`\nPrometheus API: ${prom.url}/api/v1/query  (try: count(count by (instance) (headcount_heartbeat)))\n`);
    process.stdout.write('Grafana: add a Prometheus data source with that URL and import dashboards/*.json,\n');
    process.stdout.write('or on a machine with Docker run the full stack: see "Run the backend" in README.md.\n');
    if (values.keep) {
      process.stdout.write('\nRunning until Ctrl-C.\n');
      await new Promise(() => undefined);
    }
  } finally {
    if (!values.keep) await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
