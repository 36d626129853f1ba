/**
 * Runs the real Prometheus and the real Headcount collector on 127.0.0.1 with random free ports
 * and temporary directories. Every process started here is tracked and killed when the test
 * process exits, even if a test forgets `stop()` or fails half-way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCollectorEnv, renderCollectorLists, type CollectorLists } from '../../src/collector-env.ts';
import { installPseudonym } from '../../src/erase.ts';
import { collectorConfig, prometheusConfig, repoRoot } from './binaries.ts';
import { freePort } from './ports.ts';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The feature flags the shipped Prometheus runs with. */
export const SHIPPED_FEATURES: readonly string[] = ['created-timestamp-zero-ingestion', 'promql-experimental-functions'];

/** The flags the shipped Prometheus runs with (collector-config/prometheus.yml lists them). */
export function prometheusFlags(dataDir: string, port: number, configFile = prometheusConfig, features = SHIPPED_FEATURES): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    '--storage.tsdb.retention.time=90d',
    '--web.enable-otlp-receiver',
    '--web.enable-admin-api',
    `--enable-feature=${features.join(',')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ];
}

interface Proc {
  readonly child: ChildProcess;
  readonly output: string[];
}

function launch(binary: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  running.add(child);
  child.on('exit', () => running.delete(child));
  return { child, output };
}

async function terminate(proc: Proc | undefined, graceMs = 10_000): Promise<void> {
  if (proc === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200, the process dies, or `timeoutMs` passes. */
async function waitHealthy(url: string, proc: Proc, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${name} exited with ${proc.child.exitCode} before becoming healthy:\n${proc.output.join('').slice(-3000)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} not healthy at ${url} after ${timeoutMs} ms:\n${proc.output.join('').slice(-3000)}`);
}

export interface PromSeries {
  readonly [label: string]: string;
}

export interface Prometheus {
  readonly url: string;
  readonly dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Instant query; returns the result vector. */
  query(promql: string, time?: number): Promise<{ metric: PromSeries; value: [number, string] }[]>;
  /** Range-vector query returning raw samples, e.g. `x[10m]`. */
  samples(selector: string): Promise<{ metric: PromSeries; values: [number, string][] }[]>;
  /** Every series in the TSDB (all metric names), via /api/v1/series. */
  allSeries(): Promise<PromSeries[]>;
  /** Waits until `promql` returns at least `count` results (bounded). */
  waitFor(promql: string, count?: number, timeoutMs?: number): Promise<{ metric: PromSeries; value: [number, string] }[]>;
  logs(): string;
}

export interface PrometheusOptions {
  /** Config file instead of collector-config/prometheus.yml (the demo stack writes its own). */
  readonly configFile?: string;
  /** Flags added to the shipped set. */
  readonly extraFlags?: readonly string[];
  /** `--enable-feature` list instead of SHIPPED_FEATURES (e.g. without created-timestamp zeros, as Cortex). */
  readonly features?: readonly string[];
  /** Data directory (default: a new temp dir). */
  readonly dataDir?: string;
}

export async function startPrometheus(binary: string, options: PrometheusOptions = {}): Promise<Prometheus> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'headcount-prom-')));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc: Proc | undefined;
  const output: string[] = [];

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };

  const prom: Prometheus = {
    url,
    dataDir,
    async start() {
      proc = launch(binary, [...prometheusFlags(dataDir, port, options.configFile, options.features), ...(options.extraFlags ?? [])], { PATH: process.env['PATH'] ?? '' });
      const current = proc;
      current.child.on('exit', () => output.push(...current.output));
      await waitHealthy(`${url}/-/ready`, current, 'Prometheus');
    },
    async stop() {
      await terminate(proc);
    },
    async query(promql, time) {
      const params: Record<string, string> = { query: promql };
      if (time !== undefined) params['time'] = String(time);
      const data = await api<{ result: { metric: PromSeries; value: [number, string] }[] }>('/api/v1/query', params);
      return data.result;
    },
    async samples(selector) {
      const data = await api<{ result: { metric: PromSeries; values: [number, string][] }[] }>('/api/v1/query', { query: selector });
      return data.result;
    },
    async allSeries() {
      return await api<PromSeries[]>('/api/v1/series', { 'match[]': '{__name__=~".+"}' });
    },
    async waitFor(promql, count = 1, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: { metric: PromSeries; value: [number, string] }[] = [];
      while (Date.now() < deadline) {
        last = await prom.query(promql);
        if (last.length >= count) return last;
        await sleep(200);
      }
      throw new Error(`timed out waiting for ${count} result(s) of ${promql}; got ${JSON.stringify(last)}`);
    },
    logs: () => output.join('') + (proc !== undefined && proc.child.exitCode === null ? proc.output.join('') : ''),
  };
  await prom.start();
  return prom;
}

/** The example catalog's committed allow-lists (examples/acme-app/collector.env), validated. */
export function exampleCatalogLists(): CollectorLists {
  return parseCollectorEnv(readFileSync(`${repoRoot}examples/acme-app/collector.env`, 'utf8')).lists;
}

/** The overlay that replaces the catalog gate with the name shape: demos and tests only. */
export const unsafeAnyNameOverlay = `${repoRoot}collector-config/otelcol.unsafe-any-name.yaml`;

/**
 * The lists a harness collector gets unless a test passes its own: the example catalog's, plus
 * the products and names the collector suites and benchmarks send. Real membership lists (the
 * shipped config refuses to start without them), not a pattern.
 */
export function harnessLists(): CollectorLists {
  const example = exampleCatalogLists();
  const products = ['privacy_json', 'privacy_proto', 'privacy_malformed', 'privacy_marker', 'privacy_features', 'privacy_labels', 'privacy_auth', 'privacy_rotate', 'privacy_big', 'privacy_log', 'privacy_versions', 'privacy_pseudonym', 'feat_many', 'feat_restart', 'erase_me', 'durable_prom', 'durable_col', 'bench'];
  const keys = ['quantity.projects', 'quantity.users', 'flag.sso', 'flag.ldap'];
  const features = ['export', 'import', 'sso'];
  const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
  return { products: union(example.products, products), heartbeatKeys: union(example.heartbeatKeys, keys), features: union(example.features, features) };
}

export interface CollectorOptions {
  readonly prometheusUrl: string;
  /**
   * The catalog allow-lists (default: `harnessLists()`); 'unsafe-any-name' runs the shipped
   * config with otelcol.unsafe-any-name.yaml instead; 'none' sets no list (the shipped config
   * then refuses to start). Variables in `env` win over these.
   */
  readonly allowLists?: CollectorLists | 'unsafe-any-name' | 'none';
  /** The pseudonym key file's content (default: 32 random bytes as hex and a newline). */
  readonly pseudonymKey?: string;
  /** Tokens written to the token file, one per line. */
  readonly tokens?: readonly string[];
  /** Extra environment (e.g. HEADCOUNT_FEATURE_NAMES). */
  readonly env?: Readonly<Record<string, string>>;
  /** Run the binary through a wrapper, e.g. ['taskset', '-c', '0'] to pin it to one core. */
  readonly wrapper?: readonly string[];
  /** Config overlays merged over otelcol.yaml, in order (e.g. otelcol.demo.yaml). */
  readonly overlays?: readonly string[];
  /** Base config instead of collector-config/otelcol.yaml (e.g. a mutated copy). */
  readonly config?: string;
}

export interface Collector {
  /** Base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:43123 */
  readonly url: string;
  /** host:port of the collector's own metrics (GET /metrics), a free port per collector. */
  readonly metricsTarget: string;
  readonly tokenFile: string;
  readonly storageDir: string;
  /** The pseudonym key file (HEADCOUNT_PSEUDONYM_KEY_FILE) and its content. */
  readonly pseudonymKeyFile: string;
  readonly pseudonymKey: string;
  /** The `instance` label this collector stores for an install id. */
  pseudonym(installId: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILL (no shutdown at all: a crash or an OOM kill), resolved once the process is gone. */
  kill(): Promise<void>;
  /** Everything the collector wrote to stdout/stderr, across restarts. */
  logs(): string;
  /** OS process id while running (for RSS measurements). */
  pid(): number | undefined;
  setTokens(tokens: readonly string[]): Promise<void>;
  /** Changes environment variables for the next `start()`. */
  setEnv(vars: Readonly<Record<string, string>>): void;
}

/** Short intervals so tests run in seconds; everything else is the shipped otelcol.yaml. */
export const fastCollectorEnv = {
  HEADCOUNT_BATCH_TIMEOUT: '200ms',
  HEADCOUNT_RETRY_INITIAL: '200ms',
  HEADCOUNT_RETRY_MAX: '500ms',
} as const;

export async function startCollector(binary: string, options: CollectorOptions): Promise<Collector> {
  const dir = await mkdtemp(join(tmpdir(), 'headcount-otelcol-'));
  const tokenFile = join(dir, 'tokens');
  const storageDir = join(dir, 'queue');
  const port = await freePort();
  const healthPort = await freePort();
  // otelcol.yaml serves its own metrics (default 127.0.0.1:8888): a free port per collector so
  // collectors of parallel test files never collide.
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  let proc: Proc | undefined;
  await writeFile(tokenFile, `${(options.tokens ?? ['test-token']).join('\n')}\n`, { mode: 0o600 });
  const pseudonymKeyFile = join(dir, 'pseudonym-key');
  const pseudonymKey = options.pseudonymKey ?? `${randomBytes(32).toString('hex')}\n`;
  await writeFile(pseudonymKeyFile, pseudonymKey, { mode: 0o600 });
  const lists = options.allowLists ?? harnessLists();
  const overlays = [...(lists === 'unsafe-any-name' ? [unsafeAnyNameOverlay] : []), ...(options.overlays ?? [])];

  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    HEADCOUNT_LISTEN: `127.0.0.1:${port}`,
    HEADCOUNT_HEALTH_LISTEN: `127.0.0.1:${healthPort}`,
    HEADCOUNT_METRICS_HOST: '127.0.0.1',
    HEADCOUNT_METRICS_PORT: String(metricsPort),
    HEADCOUNT_TOKEN_FILE: tokenFile,
    HEADCOUNT_PROMETHEUS_URL: options.prometheusUrl,
    HEADCOUNT_STORAGE_DIR: storageDir,
    // As in docker-compose.yml and the Dockerfile: the Go runtime collects harder near this.
    GOMEMLIMIT: '450MiB',
    GOGC: '400',
    HEADCOUNT_PSEUDONYM_KEY_FILE: pseudonymKeyFile,
    ...(typeof lists === 'string' ? {} : renderCollectorLists(lists)),
    ...fastCollectorEnv,
    ...options.env,
  };

  const collector: Collector = {
    url,
    metricsTarget: `127.0.0.1:${metricsPort}`,
    tokenFile,
    storageDir,
    pseudonymKeyFile,
    pseudonymKey,
    pseudonym: (installId) => installPseudonym(installId, pseudonymKey),
    async start() {
      const [wrapBin, ...wrapArgs] = options.wrapper ?? [];
      const args = [options.config ?? collectorConfig, ...overlays].map((c) => `--config=${c}`);
      proc = wrapBin === undefined ? launch(binary, args, env) : launch(wrapBin, [...wrapArgs, binary, ...args], env);
      const current = proc;
      current.child.on('exit', () => output.push(...current.output));
      await waitHealthy(`http://127.0.0.1:${healthPort}/`, current, 'collector');
    },
    async stop() {
      await terminate(proc);
    },
    async kill() {
      const current = proc;
      if (current === undefined || current.child.exitCode !== null || current.child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.child.once('exit', () => resolve()));
      current.child.kill('SIGKILL');
      await exited;
    },
    logs: () => output.join('') + (proc !== undefined && proc.child.exitCode === null ? proc.output.join('') : ''),
    pid: () => (proc !== undefined && proc.child.exitCode === null ? proc.child.pid : undefined),
    async setTokens(tokens) {
      await writeFile(tokenFile, `${tokens.join('\n')}\n`, { mode: 0o600 });
    },
    setEnv(vars) {
      Object.assign(env, vars);
    },
  };
  await collector.start();
  return collector;
}

/** Stops everything given (in order) and removes their directories; never throws. */
export async function stopAll(...items: ({ stop(): Promise<void>; dataDir?: string; storageDir?: string } | undefined)[]): Promise<void> {
  for (const item of items) {
    if (item === undefined) continue;
    try {
      await item.stop();
    } catch {
      // keep stopping the others
    }
    const dir = item.dataDir ?? (item.storageDir !== undefined ? join(item.storageDir, '..') : undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
