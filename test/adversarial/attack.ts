/**
 * Runs the hostile corpus against a running collector and scans everything that persists or is
 * logged for the planted tokens: every label name and value in Prometheus, every file under
 * Prometheus' data directory, the collector's queue file (read while Prometheus is down, and
 * again after the replay), the collector's log and every HTTP response body.
 * Used by test/adversarial/adversarial.test.ts and scripts/mutate-config.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorLists } from '../../src/collector-env.ts';
import type { Collector, Prometheus } from '../../scripts/stack/processes.ts';
import { postOtlp } from '../helpers/otlp-requests.ts';
import { control, PATTERNS, type CatalogNames, type HostileCase } from './corpus.ts';
import { logsProto, metricsProto, type LogsRequest, type MetricsRequest, type ResourceLogs, type ResourceMetrics } from './otlp-wire.ts';

export interface Leak {
  readonly where: string;
  readonly match: string;
  /** The case whose token was found (when the match contains a whole plain token). */
  readonly case?: HostileCase;
}

export interface AttackResult {
  readonly leaks: Leak[];
  readonly requests: number;
  readonly refused: number;
  /** Control heartbeats (valid, fresh install ids) that were answered 200 and must be stored. */
  readonly controls: string[];
  /** Accepted control heartbeats found in Prometheus. */
  readonly controlsStored: number;
}

const TOKEN_RE = /zqxjv[0-9a-z]{4}k/gi;
const MAX_BODY = 40_000;

/** All files under `dir`, recursively (missing dir: none). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

export function scanText(where: string, text: string, byToken: ReadonlyMap<string, HostileCase>): Leak[] {
  const leaks: Leak[] = [];
  for (const pattern of PATTERNS) {
    const global = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
    for (const m of text.matchAll(global)) {
      const around = text.slice(Math.max(0, m.index - 20), m.index + 40);
      const tok = around.match(TOKEN_RE)?.[0]?.toLowerCase();
      const c = tok === undefined ? undefined : byToken.get(tok);
      leaks.push({ where, match: around.replace(/[^\x20-\x7e\u0400-\u04ff]/g, '.'), ...(c ? { case: c } : {}) });
    }
  }
  return leaks;
}

/** Scans every file under `dir` as bytes (latin1 for the ASCII patterns, UTF-8 for look-alikes). */
export async function scanDir(label: string, dir: string, byToken: ReadonlyMap<string, HostileCase>): Promise<Leak[]> {
  const leaks: Leak[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes === undefined) continue;
    const where = `${label}:${file.slice(dir.length)}`;
    leaks.push(...scanText(where, bytes.toString('latin1'), byToken).filter((l) => !/[\u0400-\u04ff]/.test(l.match)));
    leaks.push(...scanText(where, bytes.toString('utf8'), byToken).filter((l) => /[\u0400-\u04ff]/.test(l.match)));
  }
  return leaks;
}

async function dirContains(dir: string, needles: readonly string[]): Promise<boolean> {
  const blobs = await Promise.all((await filesUnder(dir)).map((f) => readFile(f).then((b) => b.toString('latin1')).catch(() => '')));
  const all = blobs.join('\n');
  return needles.every((n) => all.includes(n));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

type Signal = 'metrics' | 'logs';

function encode(signal: Signal, format: 'json' | 'protobuf', resources: (ResourceMetrics | ResourceLogs)[]): string | Uint8Array {
  if (signal === 'metrics') {
    const req: MetricsRequest = { resourceMetrics: resources as ResourceMetrics[] };
    return format === 'json' ? JSON.stringify(req) : metricsProto(req);
  }
  const req: LogsRequest = { resourceLogs: resources as ResourceLogs[] };
  return format === 'json' ? JSON.stringify(req) : logsProto(req);
}

export interface AttackOptions {
  readonly token: string;
  readonly lists: CollectorLists;
  /** Time bound for each wait (queue written, Prometheus caught up). */
  readonly timeoutMs?: number;
}

/**
 * Stops Prometheus, sends every case (batched; a refused batch is re-sent case by case, so one
 * case's refusal never hides another), scans the queue, restarts Prometheus, waits for the
 * controls and scans everything.
 */
export async function attack(p: Prometheus, c: Collector, cases: readonly HostileCase[], options: AttackOptions): Promise<AttackResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const names: CatalogNames = {
    product: options.lists.products[0] ?? 'acme',
    quantity: options.lists.heartbeatKeys.find((k) => k.startsWith('quantity.'))?.slice('quantity.'.length) ?? 'users',
    flag: options.lists.heartbeatKeys.find((k) => k.startsWith('flag.'))?.slice('flag.'.length) ?? 'sso',
    feature: options.lists.features[0] ?? 'export',
  };
  const byToken = new Map(cases.map((k) => [k.token, k]));
  const leaks: Leak[] = [];
  const controls: string[] = [];
  let requests = 0;
  let refused = 0;

  const post = async (signal: Signal, format: 'json' | 'protobuf', gzip: boolean, resources: (ResourceMetrics | ResourceLogs)[]) => {
    requests++;
    const res = await postOtlp(c.url, `/v1/${signal}`, encode(signal, format, resources), { token: options.token, gzip });
    leaks.push(...scanText(`response ${res.status}`, res.body, byToken));
    return res.status;
  };

  await p.stop();
  // Group by transport, batch by size; each batch carries a valid control record.
  const groups = new Map<string, HostileCase[]>();
  for (const k of cases) {
    const key = `${k.signal}|${k.format}|${k.gzip}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  }
  for (const group of groups.values()) {
    const first = group[0];
    if (first === undefined) continue;
    let batch: { k: HostileCase; r: ResourceMetrics | ResourceLogs }[] = [];
    let size = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const ctl = control(names);
      const ctlResource = first.signal === 'metrics' ? ctl.metrics : ctl.logs;
      const status = await post(first.signal, first.format, first.gzip, [...batch.map((b) => b.r), ctlResource]);
      if (status === 200) {
        if (first.signal === 'metrics') controls.push(ctl.installId);
      } else {
        refused++;
        // One case must never shield another: re-send each on its own.
        for (const b of batch) if ((await post(first.signal, first.format, first.gzip, [b.r])) !== 200) refused++;
      }
      batch = [];
      size = 0;
    };
    for (const k of group) {
      const r = k.build(names);
      const bytes = JSON.stringify(r).length;
      if (size + bytes > MAX_BODY) await flush();
      batch.push({ k, r });
      size += bytes;
    }
    await flush();
  }

  // Markers sent last: when both are in the queue file, everything sent before them is too.
  const marker = control(names);
  const logMarkerVersion = `7.7.${Math.floor(Math.random() * 9000) + 1000}`;
  const logMarker = control(names);
  (logMarker.logs.resource.attributes.find((a) => a.key === 'service.version') as { value: { stringValue: string } }).value.stringValue = logMarkerVersion;
  if ((await post('logs', 'protobuf', false, [logMarker.logs])) !== 200) throw new Error('the log marker was refused');
  if ((await post('metrics', 'protobuf', false, [marker.metrics])) !== 200) throw new Error('the heartbeat marker was refused');
  controls.push(marker.installId);
  const markerPseudonym = c.pseudonym(marker.installId);
  await until('both markers in the queue file', () => dirContains(c.storageDir, [markerPseudonym, logMarkerVersion]), timeoutMs);
  leaks.push(...(await scanDir('queue (Prometheus down)', c.storageDir, byToken)));

  await p.start();
  await p.waitFor(`headcount_heartbeat{instance="${markerPseudonym}"}`, 1, timeoutMs);
  await p.waitFor(`headcount_feature_install_days_total{service_version="${logMarkerVersion}"}`, 1, timeoutMs);
  const stored = new Set((await p.query(`last_over_time(headcount_heartbeat{job="${names.product}"}[1h])`)).map((r) => r.metric['instance']));
  const controlsStored = controls.filter((id) => stored.has(c.pseudonym(id))).length;

  const series = await p.allSeries();
  leaks.push(...scanText('Prometheus labels', series.map((s) => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ')).join('\n'), byToken));
  leaks.push(...(await scanDir('Prometheus data dir', p.dataDir, byToken)));
  leaks.push(...(await scanDir('queue (after replay)', c.storageDir, byToken)));
  leaks.push(...scanText('collector log', c.logs(), byToken));
  return { leaks, requests, refused, controls, controlsStored };
}
