/**
 * Heartbeats per second through the full pipeline (OTLP/HTTP + auth -> privacy gates -> batch ->
 * disk queue -> Prometheus OTLP), with the collector pinned to ONE core (taskset, GOMAXPROCS=1)
 * and a bounded loopback load: N installs, one gzip'd protobuf heartbeat request each, as the
 * SDK sends them, C requests in flight. Also prints collector RSS idle and under load.
 *
 *   node bench/collector-throughput.ts [heartbeats=30000] [concurrency=64]
 *
 * Uses the cached binaries (scripts/build-collector.sh, scripts/fetch-prometheus.sh). Exits
 * non-zero when not every heartbeat is stored within 120 s of the last request (or a request
 * was not answered 200).
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { requireBinaries } from '../scripts/stack/binaries.ts';
import { startCollector, startPrometheus, stopAll } from '../scripts/stack/processes.ts';
import { heartbeatProto, newInstallId, sdkResource } from '../test/helpers/otlp-requests.ts';

const total = Number(process.argv[2] ?? 30_000);
const concurrency = Number(process.argv[3] ?? 64);
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

const bins = await requireBinaries();
const prom = await startPrometheus(bins.prometheus);
const col = await startCollector(bins.collector, {
  prometheusUrl: prom.url,
  tokens: [TOKEN],
  env: { GOMAXPROCS: '1', HEADCOUNT_BATCH_TIMEOUT: '1s' },
  wrapper: ['taskset', '-c', '0'],
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
  const post = (body: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/x-protobuf',
            'content-encoding': 'gzip',
            'content-length': String(body.byteLength),
            authorization: `Bearer ${TOKEN}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  let next = 0;
  let failed = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    void rssKiB(col.pid()).then((r) => {
      peakRss = Math.max(peakRss, r.rss);
    });
  }, 100);
  const cpuBefore = await cpuSeconds(col.pid());
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        if (body === undefined) break;
        const status = await post(body);
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
    `accepted by collector: ${(total / (accepted / 1000)).toFixed(0)} heartbeats/s (${accepted.toFixed(0)} ms, ${failed} non-200)`,
    `stored in Prometheus:  ${(stored / (endToEnd / 1000)).toFixed(0)} heartbeats/s end to end (${stored} series in ${endToEnd.toFixed(0)} ms)`,
    `collector CPU: ${cpuUsed.toFixed(2)} s = ${((cpuUsed / (endToEnd / 1000)) * 100).toFixed(0)}% of its core -> ${(stored / cpuUsed).toFixed(0)} heartbeats per collector CPU-second`,
    `collector RSS idle: ${mib(idle.rss)}; under load: peak ${mib(Math.max(peakRss, after.rss))} (VmHWM ${mib(after.hwm)})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
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
