/** The shipped configuration files are valid for the binaries they ship with. */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { withCollectorEnv } from '../helpers/collector-env.ts';
import { parseCollectorEnv } from '../../src/collector-env.ts';
import { installPseudonym } from '../../src/erase.ts';
import { collectorBinaries, collectorConfig, prometheusConfig, repoRoot } from '../../scripts/stack/binaries.ts';
import { startCollector, startPrometheus, stopAll, unsafeAnyNameOverlay, type Collector, type Prometheus } from '../../scripts/stack/processes.ts';
import { freePort } from '../../scripts/stack/ports.ts';

const run = promisify(execFile);
const bins = await collectorBinaries();

describe('collector-config files', () => {
  it('pins every builder component to the release of the builder the build script installs', async () => {
    const manifest = await readFile(`${repoRoot}collector-config/builder.yaml`, 'utf8');
    const script = await readFile(`${repoRoot}scripts/build-collector.sh`, 'utf8');
    const builder = /BUILDER_VERSION="(v[\d.]+)"/.exec(script)?.[1];
    expect(builder).toMatch(/^v0\.\d+\.\d+$/);
    const versions = [...manifest.matchAll(/^\s*- gomod: \S+ (v[\d.]+)\s*$/gm)].map((m) => m[1]);
    expect(versions.length).toBeGreaterThanOrEqual(13);
    for (const v of versions) expect(v === builder || /^v1\.\d+\.\d+$/.test(v ?? '')).toBe(true);
  });

  it('ships Prometheus with 90 days retention, OTLP receiver, admin API and the experimental PromQL functions', async () => {
    const prom = await readFile(`${repoRoot}collector-config/prometheus.yml`, 'utf8');
    for (const flag of ['--storage.tsdb.retention.time=90d', '--web.enable-otlp-receiver', '--web.enable-admin-api', '--enable-feature=created-timestamp-zero-ingestion,promql-experimental-functions']) {
      expect(prom).toContain(flag);
    }
  });
});

describe('resource attributes become data point attributes (no target_info)', () => {
  type Statements = { context: string; statements: string[] }[];
  type Otelcol = {
    processors: Record<string, { metric_statements?: Statements }>;
    service: { pipelines: Record<string, { processors?: string[] }> };
  };

  it('transform/labels copies every allow-listed resource key but job/instance, after the gates, in both metrics pipelines', async () => {
    const config = parseYaml(await readFile(collectorConfig, 'utf8')) as Otelcol;
    const resourceStatements = config.processors['transform/sanitize']?.metric_statements?.find((s) => s.context === 'resource')?.statements ?? [];
    // The first resource statement rebuilds the attributes from the allowed keys.
    const allowed = [...(resourceStatements[0] ?? '').matchAll(/"([a-z.]+)": resource\.attributes\["\1"\]/g)].map((m) => m[1] ?? '');
    expect(allowed).toContain('service.version');
    const identifying = ['service.name', 'service.instance.id'];
    const moved = allowed.filter((k) => !identifying.includes(k));

    const labels = config.processors['transform/labels']?.metric_statements ?? [];
    // Data points first (copy), then the resource (cut): context groups run in the order listed.
    expect(labels.map((s) => s.context)).toEqual(['datapoint', 'resource']);
    expect(labels[0]?.statements).toEqual(moved.map((k) => `set(datapoint.attributes["${k}"], resource.attributes["${k}"]) where resource.attributes["${k}"] != nil`));
    expect(labels[1]?.statements).toEqual([`keep_keys(resource.attributes, ${JSON.stringify(identifying).replaceAll(',', ', ')})`]);

    // Heartbeats: after every gate (filter/schema would drop data points carrying these keys).
    const heartbeats = config.service.pipelines['metrics/heartbeats']?.processors ?? [];
    expect(heartbeats.indexOf('transform/labels')).toBe(heartbeats.indexOf('filter/schema') + 1);
    // Feature counters too (their resource is product, version and channel: no instance).
    expect(config.service.pipelines['metrics/features']?.processors).toContain('transform/labels');

    // prometheus.yml still promotes the same keys (a no-op for this collector's data, kept for
    // data queued or sent by a collector running an older otelcol.yaml).
    const prom = parseYaml(await readFile(prometheusConfig, 'utf8')) as { otlp: { promote_resource_attributes: string[] } };
    expect(prom.otlp.promote_resource_attributes).toEqual(moved);
  });
});

describe.skipIf(!bins.ok)('otelcol validate', () => {
  it('accepts the shipped otelcol.yaml with its defaults and with test settings', async () => {
    if (!bins.ok) return;
    await withCollectorEnv(async (_dir, env) => {
      const { stderr } = await run(bins.collector, ['validate', `--config=${collectorConfig}`], { env });
      expect(stderr).not.toMatch(/error/i);
      await run(bins.collector, ['validate', `--config=${collectorConfig}`], {
        env: { ...env, HEADCOUNT_FEATURE_NAMES: '["export","import"]', HEADCOUNT_BATCH_TIMEOUT: '200ms' },
      });
    });
  });

  it('accepts otelcol.yaml + the Mimir overlay, which changes only the exporter endpoint and tenant header', async () => {
    if (!bins.ok) return;
    const mimir = `${repoRoot}collector-config/otelcol.mimir.yaml`;
    const mimirEnv = { HEADCOUNT_MIMIR_URL: 'https://mimir.example:8080', HEADCOUNT_MIMIR_TENANT: 'acme-telemetry' };
    await withCollectorEnv(async (dir, env) => {
      const { stderr } = await run(bins.collector, ['validate', `--config=${collectorConfig}`, `--config=${mimir}`], { env });
      expect(stderr).not.toMatch(/error/i);
      // The merged configuration as the collector resolves it, against otelcol.yaml alone.
      const resolved = async (...files: string[]) => {
        const { stdout } = await run(bins.collector, ['print-config', '--mode=unredacted', ...files.map((f) => `--config=${f}`)], { env });
        return parseYaml(stdout) as { exporters: Record<string, Record<string, unknown>> };
      };
      const base = await resolved(collectorConfig);
      const merged = await resolved(collectorConfig, mimir);
      const exporter = merged.exporters['otlp_http/prometheus'];
      expect(exporter?.['metrics_endpoint']).toBe('https://mimir.example:8080/otlp/v1/metrics');
      expect(exporter?.['headers']).toEqual([{ name: 'X-Scope-OrgID', value: 'acme-telemetry' }]);
      expect(base.exporters['otlp_http/prometheus']?.['metrics_endpoint']).toBe('http://127.0.0.1:9090/api/v1/otlp/v1/metrics');
      for (const c of [base, merged]) {
        delete c.exporters['otlp_http/prometheus']?.['metrics_endpoint'];
        delete c.exporters['otlp_http/prometheus']?.['headers'];
      }
      expect(merged).toEqual(base);
      // Why the resolved config is compared and not only validated: since v0.160 `validate`
      // ignores unknown keys in configs that embed confighttp (open-telemetry/opentelemetry-collector
      // #15907), so a misspelt `header:` passes validation and is silently dropped. Control:
      const typo = join(dir, 'typo.yaml');
      await writeFile(typo, (await readFile(mimir, 'utf8')).replace(/^ {4}headers:/m, '    header:'));
      expect((await resolved(collectorConfig, typo)).exporters['otlp_http/prometheus']?.['headers']).toBeUndefined();
    }, mimirEnv);
  });

  it('rejects a broken config (validate really checks)', async () => {
    if (!bins.ok) return;
    await withCollectorEnv(async (dir, env) => {
      const broken = (await readFile(collectorConfig, 'utf8')).replace('memory_limiter:\n    check_interval', 'memory_limiter:\n    no_such_key: 1\n    check_interval');
      await writeFile(join(dir, 'broken.yaml'), broken);
      await expect(run(bins.collector, ['validate', `--config=${join(dir, 'broken.yaml')}`], { env })).rejects.toThrow(/no_such_key/);
    });
  });
});

describe.skipIf(!bins.ok)("the collector's own metrics (pipeline health)", () => {
  it('prometheus.yml + prometheus.scrape-otelcol.yml in scrape.d/ scrape what otelcol.yaml serves (job otelcol)', async () => {
    if (!bins.ok) return;
    const dir = await mkdtemp(join(tmpdir(), 'headcount-scrape-'));
    let prom: Prometheus | undefined;
    let col: Collector | undefined;
    try {
      // The shipped files, copied as a deployment would; only the target (the harness's free
      // port instead of collector:8888) and the interval (seconds, not a minute) differ.
      // (Nothing is sent through this collector: it exports nowhere.)
      col = await startCollector(bins.collector, { prometheusUrl: 'http://127.0.0.1:9' });
      await writeFile(join(dir, 'prometheus.yml'), await readFile(prometheusConfig, 'utf8'));
      await mkdir(join(dir, 'scrape.d'));
      const scrape = (await readFile(`${repoRoot}collector-config/prometheus.scrape-otelcol.yml`, 'utf8')).replace('collector:8888', col.metricsTarget).replace('scrape_interval: 1m', 'scrape_interval: 1s');
      await writeFile(join(dir, 'scrape.d', 'otelcol.yml'), scrape);
      prom = await startPrometheus(bins.prometheus, { configFile: join(dir, 'prometheus.yml') });
      await prom.waitFor('up{job="otelcol"} == 1', 1, 20_000);
      await prom.waitFor('otelcol_exporter_queue_size{job="otelcol"}', 1, 10_000);
    } finally {
      await stopAll(col, prom);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * Starts the collector binary and reports whether it became healthy or exited (with its output).
 * A collector that is healthy is stopped again at once.
 */
async function startOutcome(binary: string, env: Record<string, string>, configs: readonly string[] = [collectorConfig]): Promise<{ started: boolean; output: string }> {
  const health = await freePort();
  const child = spawn(binary, configs.map((c) => `--config=${c}`), {
    env: { ...env, HEADCOUNT_LISTEN: `127.0.0.1:${await freePort()}`, HEADCOUNT_HEALTH_LISTEN: `127.0.0.1:${health}`, HEADCOUNT_METRICS_PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(false)));
  const healthy = (async () => {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) return false;
      const ok = await fetch(`http://127.0.0.1:${health}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  })();
  const started = await Promise.race([exited, healthy]);
  if (child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  return { started, output };
}

describe.skipIf(!bins.ok)('fails closed: no catalog allow-list or pseudonym key, no collector', () => {
  const lists = ['HEADCOUNT_PRODUCTS', 'HEADCOUNT_HEARTBEAT_KEYS', 'HEADCOUNT_FEATURE_NAMES'] as const;

  it('starts with the example catalog\'s lists and key (control)', async () => {
    if (!bins.ok) return;
    await withCollectorEnv(async (_dir, env) => {
      expect((await startOutcome(bins.collector, env)).started).toBe(true);
    });
  }, 120_000);

  it.each(lists)('refuses to start without %s, naming it', async (variable) => {
    if (!bins.ok) return;
    await withCollectorEnv(async (_dir, env) => {
      const rest = Object.fromEntries(Object.entries(env).filter(([k]) => k !== variable));
      const outcome = await startOutcome(bins.collector, rest);
      expect(outcome.started).toBe(false);
      expect(outcome.output).toContain(`${variable}_IS_NOT_SET`);
    });
  }, 120_000);

  it.each([
    ['empty (a failed `collector-env` redirect)', ''],
    ['an old-style regex alternation', 'acme|other'],
    ['a regex', '.*'],
    ['a bare word', 'acme'],
  ])('refuses to start when a list is %s', async (_what, value) => {
    if (!bins.ok) return;
    await withCollectorEnv(async (_dir, env) => {
      for (const variable of lists) expect((await startOutcome(bins.collector, { ...env, [variable]: value })).started, variable).toBe(false);
    });
  }, 300_000);

  it('refuses to start without the pseudonym key file', async () => {
    if (!bins.ok) return;
    await withCollectorEnv(async (dir, env) => {
      const outcome = await startOutcome(bins.collector, { ...env, HEADCOUNT_PSEUDONYM_KEY_FILE: join(dir, 'missing-key') });
      expect(outcome.started).toBe(false);
      expect(outcome.output).toContain('missing-key');
    });
  }, 120_000);

  it('starts without lists only with the documented unsafe overlay', async () => {
    if (!bins.ok) return;
    await withCollectorEnv(async (_dir, env) => {
      const bare = Object.fromEntries(Object.entries(env).filter(([k]) => !(lists as readonly string[]).includes(k)));
      expect((await startOutcome(bins.collector, bare, [collectorConfig, unsafeAnyNameOverlay])).started).toBe(true);
      expect(await readFile(unsafeAnyNameOverlay, 'utf8')).toMatch(/^# UNSAFE - demos and tests only, never in production/);
    });
  }, 120_000);

  it('keeps its own log level at info whatever HEADCOUNT_LOG_LEVEL says (debug logs whole records)', async () => {
    const config = parseYaml(await readFile(collectorConfig, 'utf8')) as { service: { telemetry: { logs: { level: string } } } };
    expect(config.service.telemetry.logs.level).toBe('info');
  });
});

describe('collector.env validation and install-id pseudonyms (no binaries)', () => {
  const committed = readFileSync(`${repoRoot}examples/acme-app/collector.env`, 'utf8');

  it('accepts the committed example collector.env', () => {
    expect(parseCollectorEnv(committed).lists).toEqual({
      products: ['acme'],
      heartbeatKeys: ['quantity.servers', 'quantity.users', 'quantity.checks_per_day', 'flag.sso_enabled', 'flag.external_db'],
      features: ['export_csv', 'dashboard_shared'],
    });
  });

  it.each([
    ['an empty file (a failed redirect)', '', /HEADCOUNT_PRODUCTS is missing/],
    ['a missing variable', committed.replace(/^HEADCOUNT_FEATURE_NAMES=.*$/m, ''), /HEADCOUNT_FEATURE_NAMES is missing/],
    ['an old regex alternation', committed.replace(/^HEADCOUNT_PRODUCTS=.*$/m, 'HEADCOUNT_PRODUCTS=acme|other'), /HEADCOUNT_PRODUCTS must be a single-quoted JSON list/],
    ['a regex inside the list', committed.replace(/^HEADCOUNT_PRODUCTS=.*$/m, `HEADCOUNT_PRODUCTS='[".*"]'`), /HEADCOUNT_PRODUCTS: ".\*" is not a valid name/],
    ['a key without its prefix', committed.replace(/^HEADCOUNT_HEARTBEAT_KEYS=.*$/m, `HEADCOUNT_HEARTBEAT_KEYS='["servers"]'`), /HEADCOUNT_HEARTBEAT_KEYS: "servers" is not a valid name/],
    ['no product', committed.replace(/^HEADCOUNT_PRODUCTS=.*$/m, `HEADCOUNT_PRODUCTS='[]'`), /at least one product/],
    ['a variable set twice', `${committed}HEADCOUNT_PRODUCTS='["acme"]'\n`, /set twice/],
    ['an unknown line', `${committed}HEADCOUNT_PRODUCT='["acme"]'\n`, /line \d+: expected one of/],
    ['spaces the collector would read differently', committed.replace('["acme"]', '[ "acme" ]'), /canonical form/],
  ])('rejects %s, naming what is wrong', (_what, text, error) => {
    expect(() => parseCollectorEnv(text)).toThrow(error);
  });

  it('pseudonymises an install id with the key: 32 hex digits, stable per key, different across keys', () => {
    const key = `${'ab'.repeat(32)}\n`;
    const id = '0b7a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    const p = installPseudonym(id, key);
    expect(p).toMatch(/^[0-9a-f]{32}$/);
    expect(installPseudonym(id.toUpperCase(), key)).toBe(p);
    expect(installPseudonym(id, `${'cd'.repeat(32)}\n`)).not.toBe(p);
    expect(installPseudonym('0b7a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5c', key)).not.toBe(p);
    expect(() => installPseudonym(id, 'short')).toThrow(/pseudonym key/);
    expect(() => installPseudonym('not-an-id', key)).toThrow(/not an install id/);
  });
});
