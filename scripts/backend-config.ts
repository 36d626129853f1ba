/**
 * Everything docker-compose.yml needs for YOUR product's catalog, in one command:
 *
 *   npm run backend-config -- --app ../my-product/telemetry.js
 *
 * writes ./collector.env (the collector's allow-list, `headcount collector-env`),
 * collector-config/rules/headcount.rules.yml (the recording rules the dashboards read) and
 * dashboards/*.json. The module's default export is the product's options (as for
 * `headcount --app`). Fails loudly: a missing or wrong module exits non-zero and writes nothing
 * (every file is generated in memory before the first is written); each file is written next to
 * its target and renamed into place, so it is whole (new or old), never half-written.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDashboards, toJson } from '../dashboards/src/index.ts';
import { envFileText, writeAtomic } from '../src/cli.ts';
import { collectorAllowListEnv } from '../src/otlp/allowlist.ts';
import { resolveOptions, type HeadcountOptions } from '../src/headcount.ts';
import { rulesFile } from '../src/queries.ts';
import { repoRoot } from './stack/binaries.ts';

export const USAGE = 'usage: npm run backend-config -- --app <module whose default export is the product options>';

/** The files for one product, relative to the repository root. */
export async function backendFiles(app: string): Promise<{ path: string; text: string }[]> {
  let options: HeadcountOptions | undefined;
  try {
    options = ((await import(pathToFileURL(resolve(app)).href)) as { default?: HeadcountOptions }).default;
  } catch (error) {
    throw new Error(`cannot load --app ${app}: ${(error as Error).message}`, { cause: error });
  }
  if (options === undefined) throw new Error(`--app ${app} has no default export (the product's HeadcountOptions)`);
  const o = resolveOptions(options);
  return [
    { path: 'collector.env', text: envFileText(collectorAllowListEnv([o.product], o.catalog)) },
    { path: 'collector-config/rules/headcount.rules.yml', text: rulesFile(o.catalog) },
    ...buildDashboards(o.catalog).map(({ file, dashboard }) => ({ path: `dashboards/${file}`, text: toJson(dashboard) })),
  ];
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { app: { type: 'string' } } });
  try {
    if (values.app === undefined) throw new Error(`--app is required\n${USAGE}`);
    const files = await backendFiles(values.app);
    for (const f of files) {
      const path = resolve(repoRoot, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeAtomic(path, f.text);
      process.stdout.write(`wrote ${relative(process.cwd(), path)}\n`);
    }
  } catch (error) {
    process.stderr.write(`backend-config: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
