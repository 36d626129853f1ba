/**
 * The demo-only history path (collector-config/otelcol.demo.yaml) stays demo-only and small:
 * - otelcol.yaml (production) has no HEADCOUNT_DEMO_* setting;
 * - the overlay, merged over otelcol.yaml the way the collector merges configs (maps merged,
 *   everything else replaced), changes nothing but the receipt timestamps of heartbeats and
 *   feature counters, which it shifts by HEADCOUNT_DEMO_TIME_SHIFT_NS;
 * - docker-compose's collector runs with exactly one --config, the production file;
 * - `otelcol validate` accepts the merged demo config.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { withCollectorEnv } from '../helpers/collector-env.ts';
import { collectorBinaries, collectorConfig, repoRoot } from '../../scripts/stack/binaries.ts';
import { demoOverlay } from '../../scripts/stack/demo-stack.ts';

const run = promisify(execFile);
const bins = await collectorBinaries();

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };
const isMap = (v: Yaml | undefined): v is { [key: string]: Yaml } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** confmap's merge: maps are merged key by key, lists and scalars are replaced. */
function merge(base: Yaml, over: Yaml): Yaml {
  if (!isMap(base) || !isMap(over)) return over;
  const out: { [key: string]: Yaml } = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k]!, v) : v;
  return out;
}

const baseText = await readFile(collectorConfig, 'utf8');
const demoText = await readFile(demoOverlay, 'utf8');
const base = parseYaml(baseText) as Yaml;
const demo = parseYaml(demoText) as Yaml;

/** The two statements the overlay exists for, and what they replace in otelcol.yaml. */
const SHIFTED = 'set(datapoint.time_unix_nano, UnixNano(Now()) - ${env:HEADCOUNT_DEMO_TIME_SHIFT_NS:-0})';
const RECEIPT = 'set(datapoint.time, Now())';

describe('otelcol.demo.yaml (demo-only history)', () => {
  it('otelcol.yaml contains no HEADCOUNT_DEMO_* setting; the overlay says it is demo-only', () => {
    expect(baseText).not.toMatch(/HEADCOUNT_DEMO_/);
    expect(demoText).toMatch(/^# DEMO ONLY - never use in production, never mounted by docker-compose\./);
    expect(demoText).toContain('HEADCOUNT_DEMO_TIME_SHIFT_NS');
  });

  it('changes only what it says: the receipt timestamps of the two timestamping processors', () => {
    // Only existing processors are touched; no new component, no service/pipeline change.
    expect(isMap(demo) && Object.keys(demo)).toEqual(['processors']);
    const demoProcessors = isMap(demo) && isMap(demo['processors']) ? demo['processors'] : {};
    expect(Object.keys(demoProcessors).sort()).toEqual(['transform/counters', 'transform/receipt_time']);

    const merged = merge(base, demo);
    // Every statement of the overlay equals otelcol.yaml's, except the shifted timestamp.
    const shifted = JSON.stringify(merged).split(JSON.stringify(SHIFTED)).length - 1;
    expect(shifted).toBe(2);
    const unshifted = JSON.parse(JSON.stringify(merged).replaceAll(JSON.stringify(SHIFTED), JSON.stringify(RECEIPT))) as Yaml;
    expect(unshifted).toEqual(base);
    // Control: the comparison notices any other change the overlay might make.
    const tampered = merge(base, merge(demo, { processors: { 'transform/receipt_time': { error_mode: 'ignore' } } }));
    expect(JSON.parse(JSON.stringify(tampered).replaceAll(JSON.stringify(SHIFTED), JSON.stringify(RECEIPT)))).not.toEqual(base);
  });

  it('docker-compose runs the collector with exactly one --config, the production otelcol.yaml', async () => {
    const compose = parseYaml(await readFile(`${repoRoot}docker-compose.yml`, 'utf8')) as {
      services: { collector: { command: string[]; volumes: string[]; environment: Record<string, string> } };
    };
    const collector = compose.services.collector;
    const configs = collector.command.filter((a) => a.startsWith('--config'));
    expect(configs).toHaveLength(1);
    const target = configs[0]!.slice('--config='.length);
    expect(collector.volumes).toContain(`./collector-config/otelcol.yaml:${target}:ro`);
    expect(collector.volumes.join('\n')).not.toMatch(/demo/);
    expect(Object.keys(collector.environment).filter((k) => k.startsWith('HEADCOUNT_DEMO_'))).toEqual([]);
  });
});

describe.skipIf(!bins.ok)('otelcol validate (demo)', () => {
  it('accepts otelcol.yaml + otelcol.demo.yaml, with and without a time shift', async () => {
    if (!bins.ok) return;
    await withCollectorEnv(async (_dir, env) => {
      const args = ['validate', `--config=${collectorConfig}`, `--config=${demoOverlay}`];
      const { stderr } = await run(bins.collector, args, { env });
      expect(stderr).not.toMatch(/error/i);
      await run(bins.collector, args, { env: { ...env, HEADCOUNT_DEMO_TIME_SHIFT_NS: String(3n * 86_400_000_000_000n) } });
    });
  });
});
