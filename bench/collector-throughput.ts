/**
 * Heartbeats per second through the full pipeline (OTLP/HTTP + auth -> privacy gates -> disk
 * queue -> batches -> Prometheus OTLP), with the collector pinned to ONE core (taskset,
 * GOMAXPROCS=1) and a bounded loopback load: N installs, one gzip'd protobuf heartbeat request
 * each, as the SDK sends them, C requests in flight (at most the admission limit). Also prints
 * collector RSS idle and under load.
 *
 *   node bench/collector-throughput.ts [heartbeats=30000] [concurrency=12] [--profile]
 *
 * HEADCOUNT_QUEUE_FSYNC and GOGC are passed on to the collector when set (variants to compare).
 * --profile: the collector also runs bench/otelcol.pprof.yaml; a CPU profile of the load phase
 * is written to .cache/bench/collector.pprof and its top functions and per-stage shares
 * (receiver, each processor, disk queue, exporter, Go runtime) are printed (needs `go`).
 *
 * Uses the cached binaries (scripts/build-collector.sh, scripts/fetch-prometheus.sh). Exits
 * non-zero when not every heartbeat is stored within 120 s of the last request (or a request
 * was not answered 200).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { repoRoot, requireBinaries } from '../scripts/stack/binaries.ts';
import { freePort } from '../scripts/stack/ports.ts';
import { startCollector, startPrometheus, stopAll } from '../scripts/stack/processes.ts';
import { heartbeatProto, newInstallId, postRaw, sdkResource } from '../test/helpers/otlp-requests.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const profile = process.argv.includes('--profile');
const total = Number(args[0] ?? 30_000);
const concurrency = Number(args[1] ?? 12);
const TOKEN = 'bench-token';

async function rssKiB(pid: number | undefined): Promise<{ rss: number; hwm: number }> {
  if (pid === undefined) return { rss: Number.NaN, hwm: Number.NaN };
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/** CPU seconds (user + system) the process has used so far. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * Pipeline stages in order, as function-name patterns of the CPU profile. A stage's own cost is
 * the time spent with its pattern on the stack but no later stage's (the pipeline is synchronous:
 * each processor calls the next one).
 */
const STAGES: readonly [string, string][] = [
  ['HTTP server, auth, admission, gunzip, OTLP decode (receiver)', 'otlpreceiver|confighttp|net/http|bearer|admission'],
  ['memory_limiter', 'memorylimiter'],
  ['redaction', 'redactionprocessor'],
  ['transform (all transform processors)', 'transformprocessor'],
  ['filter/schema', 'filterprocessor'],
  ['isolate + sequence + groupcommit', 'isolateprocessor|sequenceprocessor|groupcommitprocessor'],
  ['disk queue write (persistent queue, bbolt)', 'persistentQueue.*Offer|QueueBatch.*Send'],
];
const OTHER: readonly [string, string][] = [
  ['disk queue read + delivery bookkeeping', 'persistentQueue.*(Read|onDone)'],
  ['batching + export to Prometheus (gzip, HTTP)', 'queuebatch.*(flush|Consume)|otlphttpexporter|retrySender|timeoutSender'],
  ['Go runtime: GC, scheduler', '^runtime\\.(gcBgMarkWorker|bgsweep|bgscavenge|mcall|morestack|schedule)'],
];

const run = promisify(execFile);
async function printProfile(file: string): Promise<void> {
  const total = async (focus: string, ignore: string): Promise<number> => {
    const args = ['tool', 'pprof', '-top', '-cum', '-nodecount=1', `-focus=${focus}`];
    if (ignore !== '') args.push(`-ignore=${ignore}`);
    const { stdout } = await run('go', [...args, bins.collector, file], { maxBuffer: 16 * 1024 * 1024 });
    // The one row shown is the stack root of the focused samples: its cum is their total.
    const lines = stdout.split('\n');
    const row = lines[lines.findIndex((l) => l.includes('flat%')) + 1] ?? '';
    const m = /^\s*\S+\s+\S+\s+\S+\s+([\d.]+)(ms|s)\b/.exec(row);
    return m === null ? 0 : Number(m[1]) * (m[2] === 's' ? 1 : 0.001);
  };
  const all = await total('.', '');
  const rows: string[] = [];
  for (let i = 0; i < STAGES.length; i++) {
    const [name, focus] = STAGES[i] as [string, string];
    const later = [...STAGES.slice(i + 1), ...OTHER].map(([, f]) => f).join('|');
    rows.push(`  ${name}: ${(((await total(focus, later)) / all) * 100).toFixed(1)}%`);
  }
  for (const [name, focus] of OTHER) rows.push(`  ${name}: ${(((await total(focus, '')) / all) * 100).toFixed(1)}%`);
  const { stdout: top } = await run('go', ['tool', 'pprof', '-top', '-nodecount=25', bins.collector, file], { maxBuffer: 16 * 1024 * 1024 });
  process.stdout.write(`CPU profile ${file} (${all.toFixed(2)} s of samples), share of collector CPU by stage:\n${rows.join('\n')}\n${top}\n`);
}

const bins = await requireBinaries();
const prom = await startPrometheus(bins.prometheus);
const pprofPort = profile ? await freePort() : 0;
const col = await startCollector(bins.collector, {
  prometheusUrl: prom.url,
  tokens: [TOKEN],
  env: {
    GOMAXPROCS: '1',
    HEADCOUNT_BATCH_TIMEOUT: '1s',
    ...(profile ? { HEADCOUNT_PPROF_LISTEN: `127.0.0.1:${pprofPort}` } : {}),
    // Variants to compare (e.g. HEADCOUNT_QUEUE_FSYNC=true npm run bench:collector).
    ...Object.fromEntries(['HEADCOUNT_QUEUE_FSYNC', 'GOGC'].flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]]]))),
  },
  wrapper: ['taskset', '-c', '0'],
  ...(profile ? { overlays: [join(repoRoot, 'bench/otelcol.pprof.yaml')] } : {}),
});

try {
  const bodies = Array.from({ length: total }, () =>
    gzipSync(
      heartbeatProto(sdkResource(newInstallId(), { 'service.name': 'bench' }), [
        { 'quantity.projects': '10-99', 'quantity.users': '1k-9.9k', 'flag.sso': '1', 'flag.ldap': '0' },
      ]),
    ),
  );
  const avgBytes = bodies.reduce((n, b) => n + b.byteLength, 0) / bodies.length;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idle = await rssKiB(col.pid());

  const url = new URL('/v1/metrics', col.url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (body: Buffer) => postRaw(url, body, { agent, token: TOKEN, encoding: 'gzip' });

  let next = 0;
  let failed = 0;
  let refused = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    void rssKiB(col.pid()).then((r) => {
      peakRss = Math.max(peakRss, r.rss);
    });
  }, 100);
  const cpuBefore = await cpuSeconds(col.pid());
  const started = performance.now();
  // The profile covers (most of) the load phase: its expected length at ~500 heartbeats/s, 5-30 s.
  const profiled = profile
    ? fetch(`http://127.0.0.1:${pprofPort}/debug/pprof/profile?seconds=${Math.min(30, Math.max(5, Math.round(total / 500)))}`).then(async (res) => Buffer.from(await res.arrayBuffer()))
    : undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        if (body === undefined) break;
        let status = await post(body);
        // As the SDK: a 503 (admission limit, memory limiter) is retried.
        while (status === 503 || status === 429) {
          refused++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          status = await post(body);
        }
        if (status !== 200) failed++;
      }
    }),
  );
  const accepted = performance.now() - started;
  // Stored = visible in Prometheus (bounded wait).
  const waitMs = 120_000;
  const deadline = Date.now() + waitMs;
  let stored = 0;
  while (Date.now() < deadline) {
    const res = await prom.query('count(headcount_heartbeat{job="bench"})');
    stored = Number(res[0]?.value[1] ?? 0);
    if (stored >= total - failed) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const endToEnd = performance.now() - started;
  const cpuUsed = (await cpuSeconds(col.pid())) - cpuBefore;
  clearInterval(sampler);
  agent.destroy();
  const after = await rssKiB(col.pid());

  const lines = [
    `heartbeats: ${total} (one request each, gzip protobuf, avg ${avgBytes.toFixed(0)} B), concurrency ${concurrency}, collector on 1 core (taskset -c 0, GOMAXPROCS=1)`,
    `accepted by collector: ${(total / (accepted / 1000)).toFixed(0)} heartbeats/s (${accepted.toFixed(0)} ms, ${failed} failed, ${refused} answered 503/429 and retried)`,
    `stored in Prometheus:  ${(stored / (endToEnd / 1000)).toFixed(0)} heartbeats/s end to end (${stored} series in ${endToEnd.toFixed(0)} ms)`,
    `collector CPU: ${cpuUsed.toFixed(2)} s = ${((cpuUsed / (endToEnd / 1000)) * 100).toFixed(0)}% of its core -> ${(stored / cpuUsed).toFixed(0)} heartbeats per collector CPU-second`,
    `collector RSS idle: ${mib(idle.rss)}; under load: peak ${mib(Math.max(peakRss, after.rss))} (VmHWM ${mib(after.hwm)})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (profiled !== undefined) {
    const dir = join(repoRoot, '.cache/bench');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'collector.pprof');
    await writeFile(file, await profiled);
    await printProfile(file);
  }
  // A run where heartbeats went missing is not a throughput figure: say so and fail.
  if (failed > 0 || stored < total) {
    process.stderr.write(
      `FAILED: ${stored} of ${total} heartbeats stored in Prometheus${failed > 0 ? ` (${failed} requests not answered 200)` : ''}${stored < total - failed ? ` after waiting ${waitMs / 1000} s` : ''}; the rates above are not valid\n`,
    );
    process.exitCode = 1;
  }
} finally {
  await stopAll(col, prom);
}
