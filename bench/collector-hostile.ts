/**
 * Collector memory under hostile load: C concurrent clients holding a valid token send, as fast
 * as they get answers, the most expensive bodies the receiver accepts:
 *   deep    one attribute value nested ~8,000 levels deep (protobuf, ~56 KB)
 *   wide    a resource with as many attributes as fit the body limit (protobuf)
 *   gzip    a gzip'd JSON body that inflates to just under the body limit
 * Prints the collector's RSS idle (baseline) and its peak under load (sampled every 50 ms, and
 * VmHWM), the answers by status, and compares the peak with the compose memory limit.
 *
 *   node bench/collector-hostile.ts [clients=200] [seconds=30] [kind=mixed|deep|wide|gzip]
 *
 * The collector runs with the shipped otelcol.yaml and the environment of docker-compose.yml
 * (GOMEMLIMIT, memory limiter). Exits non-zero when the peak RSS reaches the compose limit or an
 * answer is neither 200, 400, 429 nor 503.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { requireBinaries } from '../scripts/stack/binaries.ts';
import { startCollector, startPrometheus, stopAll } from '../scripts/stack/processes.ts';
import { heartbeatProto, newInstallId, sdkResource } from '../test/helpers/otlp-requests.ts';

const clients = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 30);
const kind = process.argv[4] ?? 'mixed';
const TOKEN = 'hostile-bench-token';
/** docker-compose.yml: collector mem_limit (600m) and its GOMEMLIMIT. */
const COMPOSE_LIMIT_MIB = 600;
const BODY_LIMIT = 65_536;

// --- minimal protobuf writer (field tags of opentelemetry-proto) ---
const varint = (n: number): Buffer => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
};
const field = (num: number, payload: Buffer): Buffer => Buffer.concat([varint((num << 3) | 2), varint(payload.length), payload]);
const str = (num: number, s: string): Buffer => field(num, Buffer.from(s));

/** AnyValue nested `depth` levels: array_value(5) { values(1): AnyValue ... } around a string. */
function deepValue(depth: number): Buffer {
  let inner = str(1, 'x'); // AnyValue.string_value
  for (let i = 0; i < depth; i++) inner = field(5, field(1, inner));
  return inner;
}
/** ExportMetricsServiceRequest with one extra ResourceMetrics whose resource carries `attributes`. */
function withResourceAttributes(base: Uint8Array, attributes: Buffer[]): Buffer {
  const resource = field(1, Buffer.concat(attributes)); // ResourceMetrics.resource
  return Buffer.concat([Buffer.from(base), field(1, resource)]); // ExportMetricsServiceRequest.resource_metrics
}
const kv = (key: string, value: Buffer): Buffer => field(1, Buffer.concat([str(1, key), field(2, value)])); // Resource.attributes

function deepBody(): Buffer {
  const base = heartbeatProto(sdkResource(newInstallId()), [{}]);
  let depth = 9_000;
  let body = withResourceAttributes(base, [kv('service.name', deepValue(depth))]);
  while (body.length > BODY_LIMIT - 64) body = withResourceAttributes(base, [kv('service.name', deepValue((depth -= 200)))]);
  return body;
}
function wideBody(): Buffer {
  const base = heartbeatProto(sdkResource(newInstallId()), [{}]);
  const attrs: Buffer[] = [];
  let size = base.length + 8;
  for (let i = 0; ; i++) {
    const a = kv(`k${i}`, str(1, `v${i}`));
    if (size + a.length > BODY_LIMIT - 64) break;
    attrs.push(a);
    size += a.length;
  }
  return withResourceAttributes(base, attrs);
}
function gzipBody(): Buffer {
  const pad = 'a'.repeat(BODY_LIMIT - 2_000);
  const json = JSON.stringify({
    resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: pad } }] }, scopeMetrics: [] }],
  });
  return gzipSync(json);
}

async function status(pid: number | undefined): Promise<{ rss: number; hwm: number }> {
  if (pid === undefined) return { rss: Number.NaN, hwm: Number.NaN };
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) / 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

const bins = await requireBinaries();
const prom = await startPrometheus(bins.prometheus);
// The compose environment: GOMEMLIMIT and the memory limiter as docker-compose.yml sets them;
// the shipped flush interval and body limit.
const col = await startCollector(bins.collector, {
  prometheusUrl: prom.url,
  tokens: [TOKEN],
  env: { GOMEMLIMIT: '450MiB', HEADCOUNT_MEMORY_LIMIT_MIB: '400', HEADCOUNT_BATCH_TIMEOUT: '5s' },
});

try {
  const bodies = {
    deep: { body: deepBody(), type: 'application/x-protobuf', gzip: false },
    wide: { body: wideBody(), type: 'application/x-protobuf', gzip: false },
    gzip: { body: gzipBody(), type: 'application/json', gzip: true },
  } as const;
  const kinds = kind === 'mixed' ? (['deep', 'wide', 'gzip'] as const) : [kind as keyof typeof bodies];
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = await status(col.pid());

  const url = new URL('/v1/metrics', col.url);
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const counts = new Map<string, number>();
  const post = (b: { body: Buffer; type: string; gzip: boolean }) =>
    new Promise<string>((resolve) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          timeout: 60_000,
          headers: {
            'content-type': b.type,
            'content-length': String(b.body.length),
            authorization: `Bearer ${TOKEN}`,
            ...(b.gzip ? { 'content-encoding': 'gzip' } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode ?? 0)));
          res.on('error', () => resolve('reset'));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      req.end(b.body);
    });

  let peak = 0;
  const sampler = setInterval(() => {
    void status(col.pid()).then((s) => {
      if (s.rss > peak) peak = s.rss;
    });
  }, 50);
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const b = bodies[kinds[i % kinds.length] as keyof typeof bodies];
      while (Date.now() < deadline) {
        const s = await post(b);
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
    }),
  );
  clearInterval(sampler);
  agent.destroy();
  const after = await status(col.pid());
  const alive = col.pid() !== undefined;
  const peakMiB = Math.max(peak, after.hwm);

  const answers = [...counts.entries()].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
  process.stdout.write(
    [
      `hostile load: ${clients} clients x ${seconds} s, bodies ${kinds.map((k) => `${k} ${bodies[k].body.length} B`).join(', ')} (body limit ${BODY_LIMIT} B)`,
      `answers: ${answers}`,
      `collector RSS idle (baseline): ${idle.rss.toFixed(1)} MiB; peak under attack: ${peakMiB.toFixed(1)} MiB (${(peakMiB / idle.rss).toFixed(1)}x idle); compose mem_limit ${COMPOSE_LIMIT_MIB} MiB -> ${((peakMiB / COMPOSE_LIMIT_MIB) * 100).toFixed(0)}% of it`,
      `collector ${alive ? 'still running' : 'DIED'}`,
    ].join('\n') + '\n',
  );
  const bad = [...counts.keys()].filter((k) => !['200', '400', '429', '503'].includes(k));
  if (!alive || peakMiB >= COMPOSE_LIMIT_MIB || bad.length > 0) {
    process.stderr.write(`FAILED: ${!alive ? 'collector died; ' : ''}${peakMiB >= COMPOSE_LIMIT_MIB ? 'peak RSS reached the compose limit; ' : ''}${bad.length > 0 ? `unexpected answers ${bad.join(', ')}` : ''}\n`);
    process.exitCode = 1;
  }
} finally {
  await stopAll(col, prom);
}
