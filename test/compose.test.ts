/**
 * docker-compose.yml, checked without a Docker engine: Docker Compose v2 itself
 * (scripts/fetch-compose.sh: Debian sid's docker-compose, unpacked into .cache/) runs
 * `config`, which validates the file against the Compose specification and resolves it. The
 * resolved model is then compared with what the test suite runs:
 * - the mounted configs ARE collector-config/otelcol.yaml and prometheus.yml, the files the
 *   collector/Prometheus tests start the real binaries with;
 * - Prometheus' flags equal scripts/stack/processes.ts prometheusFlags() (imported, not copied), paths and
 *   listen address aside, and its image is the release the tests build;
 * - Prometheus scrapes the collector's own metrics (prometheus.scrape-otelcol.yml mounted where
 *   prometheus.yml's scrape_config_files looks; job name = the health queries'; not published);
 * - images pinned; only 4318 and 3000 published; Prometheus on the internal network only;
 *   healthchecks; named volumes for queue and data; the token from a secret file;
 * - Grafana's image is the release whose schema the dashboard tests validate against, and its
 *   provisioning points at the generated dashboards and the fixed datasource uid.
 * A compose binary that cannot be fetched is a failure (a skip only with HEADCOUNT_ALLOW_SKIP=1, outside CI).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVISIONED_DATASOURCE_UID } from '../dashboards/src/common.ts';
import { collectorConfig, prometheusConfig, repoRoot, skipAllowed } from '../scripts/stack/binaries.ts';
import { prometheusFlags } from '../scripts/stack/processes.ts';
import { HEALTH } from '../src/queries.ts';

const run = promisify(execFile);
const root = resolve(repoRoot);
const at = (...parts: string[]) => join(root, ...parts);

interface Mount {
  readonly type: string;
  readonly source: string;
  readonly target: string;
  readonly read_only?: boolean;
}
interface Service {
  readonly image?: string;
  readonly build?: { context: string; dockerfile: string };
  readonly command?: string[] | null;
  readonly environment?: Record<string, string | null>;
  readonly volumes?: Mount[];
  readonly ports?: { target: number; published: string; host_ip?: string }[];
  readonly networks?: Record<string, unknown>;
  readonly healthcheck?: { test?: string[] };
  readonly secrets?: { source: string; target?: string }[];
}
interface Model {
  readonly services: Record<string, Service>;
  readonly volumes?: Record<string, unknown>;
  readonly networks: Record<string, { internal?: boolean }>;
  readonly secrets: Record<string, { file?: string }>;
}

// --- the compose binary -----------------------------------------------------------------------

async function composeBinary(): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
  try {
    const { stdout } = await run('bash', [at('scripts/fetch-compose.sh')], { cwd: root, timeout: 5 * 60_000 });
    const path = stdout.trim().split('\n').pop() ?? '';
    if (!path.startsWith('/')) throw new Error('scripts/fetch-compose.sh printed no path');
    return { ok: true, path };
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const reason = `docker-compose unavailable: ${typeof stderr === 'string' && stderr !== '' ? stderr.trim().split('\n').slice(-2).join(' | ') : String(error)}`;
    if (!skipAllowed()) throw new Error(`${reason} (a failure, not a skip)`, { cause: error });
    return { ok: false, reason };
  }
}

const compose = await composeBinary();
if (!compose.ok) console.warn(`test/compose.test.ts skipped: ${compose.reason}`);

/** `docker-compose config` as JSON, with .env.example as the env file plus `env`. */
async function config(file: string, env: Record<string, string> = {}): Promise<Model> {
  if (!compose.ok) throw new Error(compose.reason);
  const { stdout } = await run(compose.path, ['--env-file', at('.env.example'), '-f', file, 'config', '--format', 'json'], {
    cwd: root,
    // Only what the test sets: the developer's own shell must not change the result.
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
  });
  return JSON.parse(stdout) as Model;
}

// --- helpers ----------------------------------------------------------------------------------

const flagMap = (flags: readonly string[]): Map<string, string> =>
  new Map(
    flags.map((f) => {
      const eq = f.indexOf('=');
      return eq < 0 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)];
    }),
  );

const mountAt = (service: Service, target: string): Mount | undefined => service.volumes?.find((v) => v.target === target);
/** A config-file glob (`scrape.d/*.yml`) as a RegExp over container paths. */
const globToRegExp = (glob: string) => new RegExp(`^${glob.replace(/[.+?^$()|[\]\\{}]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);

const composeText = readFileSync(at('docker-compose.yml'), 'utf8');
const envExample = readFileSync(at('.env.example'), 'utf8');
const dockerfile = readFileSync(at('collector-config/Dockerfile'), 'utf8');

describe.skipIf(!compose.ok)('docker-compose.yml (checked by docker-compose config)', () => {
  let model: Model;
  let svc: (name: string) => Service;
  beforeAll(async () => {
    model = await config(at('docker-compose.yml'));
    svc = (name) => {
      const s = model.services[name];
      if (s === undefined) throw new Error(`no service ${name}`);
      return s;
    };
  });

  it('parses and validates against the Compose spec; an invalid file is refused (control)', async () => {
    expect(Object.keys(model.services).sort()).toEqual(['collector', 'grafana', 'prometheus']);
    const dir = await mkdtemp(join(tmpdir(), 'headcount-compose-'));
    try {
      const bad = join(dir, 'docker-compose.yml');
      await writeFile(bad, composeText.replace('restart: unless-stopped', 'restartt: unless-stopped'));
      await expect(config(bad)).rejects.toThrow(/restartt/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every image is pinned to a version (no latest, no bare name)', () => {
    for (const [name, s] of Object.entries(model.services)) {
      expect(s.image, name).toMatch(/^[^:]+:(?!latest$)v?\d[\w.+-]*$/);
    }
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] ?? '');
    expect(froms.length).toBe(2);
    for (const from of froms) expect(from, from).toMatch(/:(?!latest$)[\w.${}-]+$/);
    expect(dockerfile).toMatch(/^ARG GO_VERSION=\d+\.\d+\.\d+$/m);
  });

  it('the collector is the builder.yaml distribution: same builder release as the tests, image tag = dist.version', async () => {
    const c = svc('collector');
    expect(c.build?.context).toBe(at('collector-config'));
    const manifest = parseYaml(await readFile(at('collector-config/builder.yaml'), 'utf8')) as { dist: { version: string } };
    expect(c.image).toBe(`headcount/otelcol-headcount:${manifest.dist.version}`);
    const scriptVersion = /^BUILDER_VERSION="(v[\d.]+)"/m.exec(await readFile(at('scripts/build-collector.sh'), 'utf8'))?.[1];
    expect(scriptVersion).toBeDefined();
    expect(dockerfile).toContain(`ARG BUILDER_VERSION=${scriptVersion}`);
    expect(dockerfile).toMatch(/^COPY builder\.yaml /m);
  });

  it('the collector runs the very otelcol.yaml the tests run, a token file from a secret, the queue on a named volume', () => {
    const c = svc('collector');
    const configArg = (c.command ?? []).find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? '';
    expect(mountAt(c, configArg)).toMatchObject({ type: 'bind', source: resolve(collectorConfig), read_only: true });
    const env = c.environment ?? {};
    expect(env['HEADCOUNT_LISTEN']).toBe('0.0.0.0:4318');
    expect(env['HEADCOUNT_PROMETHEUS_URL']).toBe('http://prometheus:9090');
    // Token: a file-based secret, mounted where HEADCOUNT_TOKEN_FILE points.
    const secret = c.secrets?.[0];
    expect(secret?.source).toBe('headcount_tokens');
    const target = secret?.target ?? secret?.source ?? '';
    expect(env['HEADCOUNT_TOKEN_FILE']).toBe(target.startsWith('/') ? target : `/run/secrets/${target}`);
    expect(model.secrets['headcount_tokens']?.file).toBe(at('secrets/headcount-tokens'));
    const queue = mountAt(c, env['HEADCOUNT_STORAGE_DIR'] ?? '');
    expect(queue?.type).toBe('volume');
    expect(Object.keys(model.volumes ?? {})).toContain(queue?.source);
    expect(dockerfile).toMatch(/--chown=65532:65532 \S+ \/var\/lib\/headcount\/queue/);
  });

  it('catalog allow-lists come from the generated env file when configured (example: acme)', async () => {
    const withList = await config(at('docker-compose.yml'), { HEADCOUNT_COLLECTOR_ENV_FILE: at('examples/acme-app/collector.env') });
    const env = withList.services['collector']?.environment ?? {};
    expect(env['HEADCOUNT_PRODUCTS']).toBe('["acme"]');
    expect(env['HEADCOUNT_HEARTBEAT_KEYS']).toBe('["quantity.servers","quantity.users","quantity.checks_per_day","flag.sso_enabled","flag.external_db"]');
    // Without the file nothing is set (and the collector refuses to start).
    expect(svc('collector').environment?.['HEADCOUNT_PRODUCTS']).toBeUndefined();
  });

  it('Prometheus: the release the tests build, the flags the test harness passes, the same prometheus.yml', async () => {
    const p = svc('prometheus');
    const script = await readFile(at('scripts/fetch-prometheus.sh'), 'utf8');
    const version = /^PROMETHEUS_VERSION="([\d.]+)"/m.exec(script)?.[1];
    expect(version).toBeDefined();
    expect(p.image).toBe(`prom/prometheus:v${version}`);

    const ours = flagMap(p.command ?? []);
    const harness = flagMap(prometheusFlags('<data dir>', 0));
    expect([...ours.keys()].sort()).toEqual([...harness.keys()].sort());
    const differs = new Set(['--config.file', '--storage.tsdb.path', '--web.listen-address']);
    for (const [flag, value] of harness) if (!differs.has(flag)) expect(ours.get(flag), flag).toBe(value);
    // The differing ones: the same file, mounted; data on a named volume; port 9090 in the container.
    expect(harness.get('--config.file')).toBe(prometheusConfig);
    expect(mountAt(p, ours.get('--config.file') ?? '')).toMatchObject({ type: 'bind', source: resolve(prometheusConfig), read_only: true });
    expect(mountAt(p, ours.get('--storage.tsdb.path') ?? '')?.type).toBe('volume');
    expect(ours.get('--web.listen-address')).toBe('0.0.0.0:9090');
  });

  it("Prometheus scrapes the collector's own metrics on the internal network (prometheus.scrape-otelcol.yml via scrape.d/)", async () => {
    const p = svc('prometheus');
    const c = svc('collector');
    // The scrape file is mounted where prometheus.yml's scrape_config_files glob looks (relative
    // to the config file's directory in the container).
    const promYml = parseYaml(await readFile(prometheusConfig, 'utf8')) as { scrape_config_files?: string[]; scrape_configs?: unknown[] };
    expect(promYml.scrape_configs).toBeUndefined();
    const configDir = posix.dirname(flagMap(p.command ?? []).get('--config.file') ?? '');
    const globs = (promYml.scrape_config_files ?? []).map((g) => globToRegExp(posix.join(configDir, g)));
    const scrapeFile = at('collector-config/prometheus.scrape-otelcol.yml');
    const mount = p.volumes?.find((v) => v.source === scrapeFile);
    expect(mount).toMatchObject({ type: 'bind', read_only: true });
    expect(globs.some((g) => g.test(mount?.target ?? ''))).toBe(true);
    // One job, named as the health queries expect, aimed at the collector's metrics address.
    const scrape = parseYaml(await readFile(scrapeFile, 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    expect(scrape.scrape_configs).toHaveLength(1);
    const job = scrape.scrape_configs[0]!;
    expect(HEALTH.find((q) => q.id === 'collector_scraped')?.expr).toContain(`up{job="${job.job_name}"}`);
    const env = c.environment ?? {};
    expect(env['HEADCOUNT_METRICS_HOST']).toBe('0.0.0.0');
    expect(job.static_configs.flatMap((sc) => sc.targets)).toEqual([`collector:${env['HEADCOUNT_METRICS_PORT']}`]);
    // Reachable over a network both are on; never published (see the next test).
    expect(Object.keys(c.networks ?? {}).filter((n) => Object.keys(p.networks ?? {}).includes(n)).length).toBeGreaterThan(0);
    expect((c.ports ?? []).map((x) => x.target)).not.toContain(Number(env['HEADCOUNT_METRICS_PORT']));
  });

  it('Prometheus loads the generated recording rules (collector-config/rules via rule_files)', async () => {
    const p = svc('prometheus');
    const promYml = parseYaml(await readFile(prometheusConfig, 'utf8')) as { rule_files?: string[] };
    const configDir = posix.dirname(flagMap(p.command ?? []).get('--config.file') ?? '');
    const rulesDir = at('collector-config/rules');
    const mount = p.volumes?.find((v) => v.source === rulesDir);
    expect(mount).toMatchObject({ type: 'bind', read_only: true });
    const globs = (promYml.rule_files ?? []).map((g) => globToRegExp(posix.join(configDir, g)));
    const files = (await readdir(rulesDir)).filter((f) => f.endsWith('.yml'));
    expect(files).toEqual(['headcount.rules.yml']);
    for (const f of files) expect(globs.some((g) => g.test(posix.join(mount?.target ?? '', f))), f).toBe(true);
  });

  it('published: only the collector 4318 and Grafana 3000, on 127.0.0.1 by default; Prometheus only on the internal network', () => {
    const published = Object.entries(model.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name}:${p.target}@${p.host_ip ?? '0.0.0.0'}`));
    expect(published.sort()).toEqual(['collector:4318@127.0.0.1', 'grafana:3000@127.0.0.1']);
    const p = svc('prometheus');
    const nets = Object.keys(p.networks ?? {});
    expect(nets.length).toBeGreaterThan(0);
    for (const n of nets) expect(model.networks[n]?.internal, n).toBe(true);
    expect(composeText).toMatch(/TLS reverse proxy/);
  });

  it('every service has a healthcheck and restarts; data lives on named volumes', () => {
    for (const [name, s] of Object.entries(model.services)) expect(s.healthcheck?.test?.length, name).toBeGreaterThan(1);
    expect(svc('collector').healthcheck?.test?.[1]).toBe('/healthcheck');
    expect(dockerfile).toMatch(/COPY --from=build \/build\/healthcheck \/healthcheck/);
    expect(mountAt(svc('grafana'), '/var/lib/grafana')?.type).toBe('volume');
  });

  it('Grafana: the schema release the dashboard tests use, provisioning and the generated dashboards mounted', async () => {
    const g = svc('grafana');
    const schemaVersion = (JSON.parse(await readFile(at('node_modules/@grafana/schema/package.json'), 'utf8')) as { version: string }).version;
    expect(g.image).toBe(`grafana/grafana:${schemaVersion}`);
    expect(mountAt(g, '/etc/grafana/provisioning')).toMatchObject({ type: 'bind', source: at('dashboards/provisioning'), read_only: true });

    const provider = parseYaml(await readFile(at('dashboards/provisioning/dashboards/headcount.yaml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    const path = provider.providers[0]?.options.path ?? '';
    expect(provider.providers[0]?.type).toBe('file');
    expect(mountAt(g, path)).toMatchObject({ type: 'bind', source: at('dashboards'), read_only: true });
    const home = g.environment?.['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] ?? '';
    expect(home.startsWith(`${path}/`)).toBe(true);
    expect(existsSync(at('dashboards', home.slice(path.length + 1)))).toBe(true);

    const ds = parseYaml(await readFile(at('dashboards/provisioning/datasources/prometheus.yaml'), 'utf8')) as {
      datasources: { uid: string; type: string; url: string; isDefault: boolean }[];
    };
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]).toMatchObject({ uid: PROVISIONED_DATASOURCE_UID, type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });

    const env = g.environment ?? {};
    expect(env['GF_AUTH_ANONYMOUS_ENABLED']).toBe('false');
    expect(env['GF_AUTH_ANONYMOUS_ORG_ROLE']).toBe('Viewer');
    expect(env['GF_SECURITY_ADMIN_PASSWORD__FILE']).toBe('/run/secrets/grafana_admin_password');
    const anon = await config(at('docker-compose.yml'), { GRAFANA_ANONYMOUS_ENABLED: 'true' });
    expect(anon.services['grafana']?.environment?.['GF_AUTH_ANONYMOUS_ENABLED']).toBe('true');
  });

  it('.env.example documents every variable docker-compose.yml reads, and nothing else', () => {
    const used = new Set([...composeText.matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    const documented = new Set([...envExample.matchAll(/^(\w+)=/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...used].sort());
  });
});

describe('collector-config/Dockerfile health probe', () => {
  const source = /COPY <<'GO' \S+\n([\s\S]*?)\nGO\n/.exec(dockerfile)?.[1];
  let dir = '';
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the embedded Go program compiles (go vet + build)', async (ctx) => {
    expect(source).toBeDefined();
    try {
      await run('go', ['version']);
    } catch {
      if (!skipAllowed()) throw new Error('Go missing (a failure, not a skip; HEADCOUNT_ALLOW_SKIP=1 skips outside CI)');
      ctx.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'headcount-probe-'));
    await writeFile(join(dir, 'main.go'), `${source ?? ''}\n`);
    const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GO111MODULE: 'off' };
    await run('go', ['vet', 'main.go'], { cwd: dir, env });
    await run('go', ['build', '-o', join(dir, 'healthcheck'), 'main.go'], { cwd: dir, env, timeout: 120_000 });
    expect(existsSync(join(dir, 'healthcheck'))).toBe(true);
  }, 180_000);
});
