/**
 * Writes the Grafana dashboards (dashboards/src/*.ts) as JSON and the Prometheus recording rules
 * they read (src/queries.ts recordingRules()) as YAML, both for one catalog.
 *
 *   npm run dashboards                      -> dashboards/*.json + collector-config/rules/headcount.rules.yml
 *                                              + collector-config/rules-backfill/headcount.rules.yml
 *                                              + collector-config/rules-start/headcount.rules.yml
 *                                              for examples/acme-app's catalog
 *   node scripts/generate-dashboards.ts --app ./my-app/telemetry.ts --out ./grafana/dashboards --rules ./prometheus/rules/headcount.rules.yml \
 *     --backfill-rules ./prometheus/rules-backfill/headcount.rules.yml --start-rules ./prometheus/rules-start/headcount.rules.yml
 *   node scripts/generate-dashboards.ts --check   exits 1 when the committed files are stale
 *
 * The app module exports `catalog` (or a default export with `.catalog`), like
 * examples/acme-app/telemetry.ts.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Catalog } from '../src/catalog.ts';
import { backfillRulesFile, rulesFile, startRulesFile } from '../src/queries.ts';
import { buildDashboards, toJson } from '../dashboards/src/index.ts';

export const DEFAULT_APP = 'examples/acme-app/telemetry.ts';
export const DEFAULT_OUT = 'dashboards';
export const DEFAULT_RULES = 'collector-config/rules/headcount.rules.yml';
/** Outside rules/: Prometheus loads rules/*.yml, and this file writes the same series. */
export const DEFAULT_BACKFILL_RULES = 'collector-config/rules-backfill/headcount.rules.yml';
/** Outside rules/ too: loaded instead of the rules file for one evaluation. */
export const DEFAULT_START_RULES = 'collector-config/rules-start/headcount.rules.yml';

export async function loadCatalog(app: string): Promise<Catalog> {
  const mod = (await import(pathToFileURL(resolve(app)).href)) as { catalog?: Catalog; default?: { catalog?: Catalog } };
  const catalog = mod.catalog ?? mod.default?.catalog;
  if (catalog === undefined) throw new Error(`${app} exports no catalog (expected \`export const catalog\` or a default export with .catalog)`);
  return catalog;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      app: { type: 'string', default: DEFAULT_APP },
      out: { type: 'string', default: DEFAULT_OUT },
      rules: { type: 'string', default: DEFAULT_RULES },
      'backfill-rules': { type: 'string', default: DEFAULT_BACKFILL_RULES },
      'start-rules': { type: 'string', default: DEFAULT_START_RULES },
      check: { type: 'boolean', default: false },
    },
  });
  const catalog = await loadCatalog(values.app);
  const files = [
    ...buildDashboards(catalog).map(({ file, dashboard }) => ({ path: resolve(values.out, file), json: toJson(dashboard) })),
    { path: resolve(values.rules), json: rulesFile(catalog) },
    { path: resolve(values['backfill-rules']), json: backfillRulesFile(catalog) },
    { path: resolve(values['start-rules']), json: startRulesFile(catalog) },
  ];
  const stale: string[] = [];
  for (const { path, json } of files) {
    if (values.check) {
      const current = await readFile(path, 'utf8').catch(() => '');
      if (current !== json) stale.push(path);
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, json);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length > 0) {
    console.error(`stale dashboards or rules (run npm run dashboards):\n  ${stale.join('\n  ')}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
