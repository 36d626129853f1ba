/** The shipped configuration files are valid for the binaries they ship with. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaries, collectorConfig, repoRoot } from '../../scripts/stack/binaries.ts';

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

  it('ships Prometheus with 90 days retention, OTLP receiver and admin API', async () => {
    const prom = await readFile(`${repoRoot}collector-config/prometheus.yml`, 'utf8');
    for (const flag of ['--storage.tsdb.retention.time=90d', '--web.enable-otlp-receiver', '--web.enable-admin-api', '--enable-feature=created-timestamp-zero-ingestion']) {
      expect(prom).toContain(flag);
    }
  });
});

describe.skipIf(!bins.ok)('otelcol validate', () => {
  it('accepts the shipped otelcol.yaml with its defaults and with test settings', async () => {
    if (!bins.ok) return;
    const dir = await mkdtemp(join(tmpdir(), 'headcount-validate-'));
    try {
      await writeFile(join(dir, 'tokens'), 'a-token\n');
      const env = { PATH: process.env['PATH'] ?? '', HEADCOUNT_TOKEN_FILE: join(dir, 'tokens'), HEADCOUNT_STORAGE_DIR: join(dir, 'q') };
      const { stderr } = await run(bins.collector, ['validate', `--config=${collectorConfig}`], { env });
      expect(stderr).not.toMatch(/error/i);
      await run(bins.collector, ['validate', `--config=${collectorConfig}`], {
        env: { ...env, HEADCOUNT_FEATURE_NAMES: 'export|import', HEADCOUNT_BATCH_TIMEOUT: '200ms' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a broken config (validate really checks)', async () => {
    if (!bins.ok) return;
    const dir = await mkdtemp(join(tmpdir(), 'headcount-validate-'));
    try {
      const broken = (await readFile(collectorConfig, 'utf8')).replace('memory_limiter:\n    check_interval', 'memory_limiter:\n    no_such_key: 1\n    check_interval');
      await writeFile(join(dir, 'broken.yaml'), broken);
      await writeFile(join(dir, 'tokens'), 'a-token\n');
      const env = { PATH: process.env['PATH'] ?? '', HEADCOUNT_TOKEN_FILE: join(dir, 'tokens'), HEADCOUNT_STORAGE_DIR: join(dir, 'q') };
      await expect(run(bins.collector, ['validate', `--config=${join(dir, 'broken.yaml')}`], { env })).rejects.toThrow(/no_such_key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
