/**
 * Writes the Grafana dashboards (dashboards/src/*.ts) as JSON.
 *
 *   npm run dashboards                      -> dashboards/*.json for examples/acme-app's catalog
 *   node scripts/generate-dashboards.ts --app ./my-app/telemetry.ts --out ./grafana/dashboards
 *   node scripts/generate-dashboards.ts --check   exits 1 when the committed JSON is stale
 *
 * The app module exports `catalog` (or a default export with `.catalog`), like
 * examples/acme-app/telemetry.ts.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Catalog } from '../src/catalog.ts';
import { buildDashboards, toJson } from '../dashboards/src/index.ts';

export const DEFAULT_APP = 'examples/acme-app/telemetry.ts';
export const DEFAULT_OUT = 'dashboards';

export async function loadCatalog(app: string): Promise<Catalog> {
  const mod = (await import(pathToFileURL(resolve(app)).href)) as { catalog?: Catalog; default?: { catalog?: Catalog } };
  const catalog = mod.catalog ?? mod.default?.catalog;
  if (catalog === undefined) throw new Error(`${app} exports no catalog (expected \`export const catalog\` or a default export with .catalog)`);
  return catalog;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { app: { type: 'string', default: DEFAULT_APP }, out: { type: 'string', default: DEFAULT_OUT }, check: { type: 'boolean', default: false } },
  });
  const files = buildDashboards(await loadCatalog(values.app));
  const stale: string[] = [];
  if (!values.check) await mkdir(values.out, { recursive: true });
  for (const { file, dashboard } of files) {
    const path = resolve(values.out, file);
    const json = toJson(dashboard);
    if (values.check) {
      const current = await readFile(path, 'utf8').catch(() => '');
      if (current !== json) stale.push(path);
    } else {
      await writeFile(path, json);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length > 0) {
    console.error(`stale dashboards (run npm run dashboards):\n  ${stale.join('\n  ')}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
