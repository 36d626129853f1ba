/**
 * A real multi-process Cortex cluster on 127.0.0.1 (Cortex 1.21.1 from scripts/build-cortex.sh,
 * config collector-config/cortex/cortex.yaml): distributor, three ingesters (replication 3),
 * query-frontend, querier, store-gateway, compactor and ruler, each its own OS process with
 * free HTTP, gRPC and memberlist ports, a node name of its own, a working directory under one
 * temp dir and a filesystem bucket shared by all. The ring is gossiped (memberlist) on loopback.
 *
 * Writes go to the distributor (`otlpUrl`, with the tenant header); every read goes through the
 * query-frontend (`promUrl`, the Prometheus API under /prometheus). The recording rules are read
 * by the ruler from `<rulesDir>/<tenant>/*.yml` (`loadRules`).
 *
 * Every process started here is killed when the test process exits, even if `stop()` is never
 * called; `stop()` ends them all and removes the temp dir.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { repoRoot, skipAllowed } from './binaries.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);
export const cortexConfig = `${repoRoot}collector-config/cortex/cortex.yaml`;
export const cortexOverlay = `${repoRoot}collector-config/otelcol.cortex.yaml`;
/** Where Cortex serves the Prometheus HTTP API (its -http.prometheus-http-prefix default). */
export const PROM_PREFIX = '/prometheus';
/** Cortex's OTLP endpoint on the distributor (Mimir's is /otlp/v1/metrics). */
export const OTLP_PATH = '/api/v1/otlp/v1/metrics';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let built: Promise<string> | undefined;
/** Builds (or finds in the cache) the Cortex binary; in CI a failure is a failure. */
export function cortexBinary(): Promise<string> {
  built ??= (async () => {
    try {
      const { stdout } = await run('bash', [`${repoRoot}scripts/build-cortex.sh`], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 40 * 60_000 });
      const last = stdout.trim().split('\n').pop();
      if (last === undefined || !last.startsWith('/')) throw new Error('scripts/build-cortex.sh printed no binary path');
      return last;
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      throw new Error(`Cortex binary unavailable: ${typeof stderr === 'string' && stderr !== '' ? stderr.trim().split('\n').slice(-3).join(' | ') : String(error)}`, { cause: error });
    }
  })();
  return built;
}

/** `{ ok, binary }` or, only when a developer allows skips outside CI, `{ ok: false, reason }`. */
export async function cortexAvailable(): Promise<{ ok: true; binary: string } | { ok: false; reason: string }> {
  try {
    return { ok: true, binary: await cortexBinary() };
  } catch (error) {
    if (!skipAllowed()) throw error;
    return { ok: false, reason: (error as Error).message };
  }
}

export type Role = 'distributor' | 'ingester' | 'query-frontend' | 'querier' | 'store-gateway' | 'compactor' | 'ruler';

export interface CortexProcess {
  readonly name: string;
  readonly role: Role;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly gossipPort: number;
  readonly dataDir: string;
  child?: ChildProcess;
  readonly output: string[];
}

export interface CortexOptions {
  /** Tenant the rules are loaded for and the helpers query as (default `headcount`). */
  readonly tenant?: string;
  /** Out-of-order window (history written with a time shift needs days; default 1d). */
  readonly oooWindow?: string;
  /** How often the bucket is looked at (default 5s here; the shipped default is 1m). */
  readonly syncInterval?: string;
  /** Extra flags for every process. */
  readonly extraFlags?: readonly string[];
}

export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: [number, string];
}

export interface CortexCluster {
  readonly tenant: string;
  /** Distributor base URL (writes). */
  readonly distributorUrl: string;
  /** The distributor's OTLP metrics endpoint. */
  readonly otlpUrl: string;
  /** Query-frontend base URL of the Prometheus API (`<url>/api/v1/query`). */
  readonly promUrl: string;
  /** Ruler base URL (its Prometheus API: /prometheus/api/v1/rules). */
  readonly rulerUrl: string;
  readonly bucketDir: string;
  readonly rulesDir: string;
  readonly processes: ReadonlyMap<string, CortexProcess>;
  /** Instant query through the query-frontend as `tenant`. */
  query(promql: string, time?: number, tenant?: string): Promise<Sample[]>;
  /** Waits until `promql` returns at least `count` results (bounded). */
  waitFor(promql: string, count?: number, timeoutMs?: number, time?: number): Promise<Sample[]>;
  /** Writes a rules file for `tenant` (namespace `name`) and waits until the ruler has loaded its groups. */
  loadRules(text: string, options?: { tenant?: string; name?: string }): Promise<void>;
  /** Sends a signal to one process (SIGKILL: a crash) and waits for it to exit. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped process again. */
  restart(name: string): Promise<void>;
  /** OS pid of a running process. */
  pid(name: string): number | undefined;
  /** Everything the processes printed (tail per process). */
  logs(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The nine processes of the topology. */
export const TOPOLOGY: readonly { name: string; role: Role }[] = [
  { name: 'ingester-1', role: 'ingester' },
  { name: 'ingester-2', role: 'ingester' },
  { name: 'ingester-3', role: 'ingester' },
  { name: 'distributor', role: 'distributor' },
  { name: 'store-gateway', role: 'store-gateway' },
  { name: 'compactor', role: 'compactor' },
  { name: 'query-frontend', role: 'query-frontend' },
  { name: 'querier', role: 'querier' },
  { name: 'ruler', role: 'ruler' },
];

/** The first capture of `pattern` in a process's /metrics text, as a number; undefined when absent or unreachable. */
export async function metricValue(url: string, pattern: RegExp): Promise<number | undefined> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).text();
    const m = pattern.exec(text);
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Starts the cluster. Its 27 ports are picked free before the processes start; when another
 * program takes one in between ("address already in use"), the whole cluster is started again
 * on new ports (up to three times).
 */
export async function startCortex(binary: string, options: CortexOptions = {}): Promise<CortexCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(binary: string, options: CortexOptions): Promise<CortexCluster> {
  const tenant = options.tenant ?? 'headcount';
  const root = await mkdtemp(join(tmpdir(), 'headcount-cortex-'));
  const bucketDir = join(root, 'bucket');
  const rulesDir = join(root, 'rules');
  await mkdir(bucketDir, { recursive: true });
  await mkdir(rulesDir, { recursive: true });
  const procs = new Map<string, CortexProcess>();
  for (const { name, role } of TOPOLOGY) {
    procs.set(name, { name, role, httpPort: await freePort(), grpcPort: await freePort(), gossipPort: await freePort(), dataDir: join(root, name), output: [] });
  }
  const p = (name: string) => procs.get(name)!;
  const join_ = [...procs.values()].filter((x) => x.role === 'ingester' || x.role === 'distributor').map((x) => `127.0.0.1:${x.gossipPort}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    CORTEX_BUCKET_DIR: bucketDir,
    CORTEX_RULES_DIR: rulesDir,
    CORTEX_ADVERTISE_ADDR: '127.0.0.1',
    CORTEX_LISTEN_ADDR: '127.0.0.1',
    CORTEX_FRONTEND_ADDR: `127.0.0.1:${p('query-frontend').grpcPort}`,
    CORTEX_STORE_GATEWAY: `127.0.0.1:${p('store-gateway').grpcPort}`,
    CORTEX_OOO_WINDOW: options.oooWindow ?? '1d',
    CORTEX_SYNC_INTERVAL: options.syncInterval ?? '5s',
    CORTEX_RULER_POLL: '2s',
    CORTEX_LOG_LEVEL: 'warn',
    // Go's soft memory limit per process, when the caller sets it (the million-install bench:
    // the ruler's heap otherwise grows to twice its live size on a machine shared with 3 ingesters).
    ...(process.env['GOMEMLIMIT'] === undefined ? {} : { GOMEMLIMIT: process.env['GOMEMLIMIT'] }),
  };

  const launch = async (proc: CortexProcess): Promise<void> => {
    await mkdir(proc.dataDir, { recursive: true });
    const args = [
      `-config.file=${cortexConfig}`,
      '-config.expand-env=true',
      `-target=${proc.role}`,
      `-server.http-listen-port=${proc.httpPort}`,
      `-server.grpc-listen-port=${proc.grpcPort}`,
      `-memberlist.bind-port=${proc.gossipPort}`,
      `-memberlist.advertise-port=${proc.gossipPort}`,
      `-memberlist.nodename=${proc.name}`,
      ...join_.filter((a) => a !== `127.0.0.1:${proc.gossipPort}`).map((a) => `-memberlist.join=${a}`),
      ...(proc.role === 'ingester' ? [`-ingester.lifecycler.ID=${proc.name}`, `-ingester.tokens-file-path=${join(proc.dataDir, 'tokens')}`] : []),
      ...(options.extraFlags ?? []),
    ];
    const child = spawn(binary, args, { env: { ...env, CORTEX_DATA_DIR: proc.dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.child = child;
    const keep = (chunk: string) => {
      proc.output.push(chunk);
      if (proc.output.length > 400) proc.output.splice(0, 200);
    };
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    running.add(child);
    child.on('exit', () => running.delete(child));
  };

  const waitReady = async (proc: CortexProcess, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.child?.exitCode !== null && proc.child?.exitCode !== undefined) {
        throw new Error(`cortex ${proc.name} exited with ${proc.child.exitCode}:\n${proc.output.join('').slice(-3000)}`);
      }
      try {
        const res = await fetch(`http://127.0.0.1:${proc.httpPort}/ready`, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`cortex ${proc.name} not ready after ${timeoutMs} ms:\n${proc.output.join('').slice(-3000)}`);
  };

  /** Waits until `proc` sees `n` ACTIVE ingesters in the ring. */
  const waitRing = async (proc: CortexProcess, n: number, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const pattern = /^cortex_ring_members\{[^}]*name="ingester"[^}]*state="ACTIVE"[^}]*\} (\S+)$/m;
    for (;;) {
      const v = await metricValue(`http://127.0.0.1:${proc.httpPort}/metrics`, pattern);
      if (v === n) return;
      if (Date.now() > deadline) throw new Error(`cortex ${proc.name} sees ${v ?? 0} ACTIVE ingesters, expected ${n}:\n${proc.output.join('').slice(-2000)}`);
      await sleep(250);
    }
  };

  const promUrl = `http://127.0.0.1:${p('query-frontend').httpPort}${PROM_PREFIX}`;
  const query = async (promql: string, time?: number, t = tenant): Promise<Sample[]> => {
    const body = new URLSearchParams({ query: promql });
    if (time !== undefined) body.set('time', String(time));
    const post = () => fetch(`${promUrl}/api/v1/query`, { method: 'POST', body, headers: { 'X-Scope-OrgID': t }, signal: AbortSignal.timeout(120_000) });
    // A kept-alive connection the query-frontend closed at the same moment fails before any
    // byte is read: that one is sent again on a new connection.
    const res = await post().catch((error: unknown) => {
      if ((error as { cause?: { code?: string } }).cause?.code === 'UND_ERR_SOCKET') return post();
      throw error;
    });
    const text = await res.text();
    let json: { status?: string; data?: { resultType: string; result: unknown }; error?: string };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new Error(`Cortex query answered ${res.status}: ${text.slice(0, 300)}`);
    }
    if (json.status !== 'success' || json.data === undefined) throw new Error(`Cortex query: ${json.error ?? res.status} (${promql.slice(0, 120)})`);
    if (json.data.resultType === 'scalar') return [{ metric: {}, value: json.data.result as [number, string] }];
    return json.data.result as Sample[];
  };

  const cluster: CortexCluster = {
    tenant,
    distributorUrl: `http://127.0.0.1:${p('distributor').httpPort}`,
    otlpUrl: `http://127.0.0.1:${p('distributor').httpPort}${OTLP_PATH}`,
    promUrl,
    rulerUrl: `http://127.0.0.1:${p('ruler').httpPort}`,
    bucketDir,
    rulesDir,
    processes: procs,
    query,
    async waitFor(promql, count = 1, timeoutMs = 60_000, time) {
      const deadline = Date.now() + timeoutMs;
      let last: Sample[] = [];
      let error: Error | undefined;
      while (Date.now() < deadline) {
        try {
          last = await query(promql, time);
          if (last.length >= count) return last;
        } catch (e) {
          error = e as Error;
        }
        await sleep(500);
      }
      throw new Error(`timed out waiting for ${count} result(s) of ${promql} on Cortex; got ${JSON.stringify(last).slice(0, 500)} ${error instanceof Error ? error.message : ''}`);
    },
    async loadRules(text, o = {}) {
      const t = o.tenant ?? tenant;
      await mkdir(join(rulesDir, t), { recursive: true });
      await writeFile(join(rulesDir, t, `${o.name ?? 'headcount'}.yml`), text);
      const groups = [...text.matchAll(/^\s*-\s*name:\s*(\S+)/gm)].map((m) => m[1]);
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const res = await fetch(`${cluster.rulerUrl}${PROM_PREFIX}/api/v1/rules`, { headers: { 'X-Scope-OrgID': t }, signal: AbortSignal.timeout(5_000) });
          const json = (await res.json()) as { data?: { groups?: { name: string }[] } };
          const loaded = new Set((json.data?.groups ?? []).map((g) => g.name));
          if (groups.every((g) => loaded.has(g!))) return;
        } catch {
          // ruler not answering yet
        }
        if (Date.now() > deadline) throw new Error(`Cortex ruler did not load groups ${groups.join(', ')} for ${t}:\n${p('ruler').output.join('').slice(-2000)}`);
        await sleep(500);
      }
    },
    async kill(name, signal = 'SIGKILL') {
      const proc = p(name);
      const child = proc.child;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async restart(name) {
      const proc = p(name);
      await launch(proc);
      await waitReady(proc);
    },
    pid: (name) => {
      const child = p(name).child;
      return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    logs: () => [...procs.values()].map((x) => `--- ${x.name}\n${x.output.join('').slice(-1500)}`).join('\n'),
    async stop() {
      // Readers first, ingesters last (they flush nothing on the way out: no data loss matters here).
      await Promise.all([...procs.keys()].map((name) => cluster.kill(name, 'SIGTERM')));
      await rm(root, { recursive: true, force: true });
    },
  };

  try {
    const ingesters = [...procs.values()].filter((x) => x.role === 'ingester');
    for (const proc of ingesters) await launch(proc);
    await Promise.all(ingesters.map((x) => waitReady(x)));
    for (const proc of procs.values()) if (proc.role !== 'ingester') await launch(proc);
    await Promise.all([...procs.values()].map((x) => waitReady(x)));
    // Writers and readers must see all three ingesters before anything is written or read.
    await Promise.all(['distributor', 'querier', 'ruler'].map((name) => waitRing(p(name), 3)));
    // The querier pulls work from the query-frontend once connected: a query answers then.
    await cluster.waitFor('vector(1)', 1, 60_000);
  } catch (error) {
    const logs = cluster.logs();
    await cluster.stop();
    throw new Error(`${(error as Error).message}\n${logs.slice(-4000)}`, { cause: error });
  }
  return cluster;
}

/** VmRSS (KiB) of a pid, or NaN. */
export async function rssKiB(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * A collector overlay that exports every metrics pipeline to BOTH the exporter of otelcol.yaml
 * (Prometheus) and a copy of it configured by otelcol.cortex.yaml (endpoint, tenant header),
 * so that one collector writes the very same samples, timestamps included, into both engines.
 * Test and benchmark use only (comparing the engines); written to `path`.
 */
export async function writeFanOutOverlay(path: string): Promise<void> {
  type Cfg = { exporters: Record<string, Record<string, unknown>>; service: { pipelines: Record<string, { exporters?: string[] }> } };
  const base = parse(await readFile(`${repoRoot}collector-config/otelcol.yaml`, 'utf8')) as Cfg;
  const overlay = parse(await readFile(cortexOverlay, 'utf8')) as Cfg;
  const exporter = { ...base.exporters['otlp_http/prometheus'], ...overlay.exporters['otlp_http/prometheus'] };
  const pipelines: Record<string, { exporters: string[] }> = {};
  for (const [name, pipeline] of Object.entries(base.service.pipelines)) {
    if (pipeline.exporters?.includes('otlp_http/prometheus') === true) pipelines[name] = { exporters: [...pipeline.exporters, 'otlp_http/cortex'] };
  }
  await writeFile(path, `# Generated by scripts/stack/cortex.ts (tests and benchmarks only)\n${stringify({ exporters: { 'otlp_http/cortex': exporter }, service: { pipelines } })}`);
}

export const agentConfig = `${repoRoot}collector-config/cortex/prometheus-agent.yml`;

export interface HealthAgent {
  stop(): Promise<void>;
  logs(): string;
}

/**
 * The shipped collector-config/cortex/prometheus-agent.yml (+ the shipped scrape job of the
 * collector, ../prometheus.scrape-otelcol.yml, in scrape.d/), run by the Prometheus binary in
 * agent mode: scrapes `collectorTarget` and remote-writes into the cluster for its tenant. Only
 * the target, the distributor URL, the tenant and the interval differ from the shipped files.
 */
export async function startHealthAgent(prometheusBinary: string, cluster: CortexCluster, collectorTarget: string, scrapeInterval = '2s'): Promise<HealthAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'headcount-agent-'));
  await mkdir(join(dir, 'scrape.d'));
  const config = (await readFile(agentConfig, 'utf8'))
    .replace('http://distributor:9009', cluster.distributorUrl)
    .replace('X-Scope-OrgID: headcount', `X-Scope-OrgID: ${cluster.tenant}`)
    .replace('scrape_interval: 1m', `scrape_interval: ${scrapeInterval}`);
  if (!config.includes(cluster.distributorUrl) || !config.includes(cluster.tenant)) throw new Error(`${agentConfig}: distributor URL or tenant line not found`);
  await writeFile(join(dir, 'agent.yml'), config);
  const scrape = (await readFile(`${repoRoot}collector-config/cortex/scrape-otelcol.yml`, 'utf8')).replace('collector-cortex:8888', collectorTarget).replace('scrape_interval: 1m', `scrape_interval: ${scrapeInterval}`);
  await writeFile(join(dir, 'scrape.d', 'otelcol.yml'), scrape);
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(prometheusBinary, ['--agent', `--config.file=${join(dir, 'agent.yml')}`, `--storage.agent.path=${join(dir, 'wal')}`, `--web.listen-address=127.0.0.1:${port}`], {
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  child.stdout?.setEncoding('utf8').on('data', (c: string) => output.push(c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => output.push(c));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Prometheus agent exited with ${child.exitCode}:\n${output.join('').slice(-2000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`Prometheus agent not ready:\n${output.join('').slice(-2000)}`);
    await sleep(200);
  }
  return {
    logs: () => output.join(''),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
