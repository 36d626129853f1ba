/**
 * The Docker recipe's one generate command (`npm run backend-config -- --app <module>`) and
 * `headcount collector-env --out`: the env file means the same to docker compose (test/compose.test.ts
 * loads examples/acme-app/collector.env through the real compose) and to a POSIX shell; a missing
 * app module fails loudly and writes nothing; the generated rules and dashboards are the ones
 * `npm run dashboards` commits for the same catalog.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendFiles } from '../scripts/backend-config.ts';
import { repoRoot } from '../scripts/stack/binaries.ts';
import { envFileText } from '../src/cli.ts';

const run = promisify(execFile);
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'headcount-backend-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('collector.env', () => {
  it('a POSIX shell sourcing it gets the JSON lists literally', async () => {
    const file = join(dir, 'collector.env');
    await writeFile(file, readFileSync(join(repoRoot, 'examples/acme-app/collector.env')));
    const { stdout, stderr } = await run('sh', ['-c', `set -e; . "${file}"; printf '%s\\n' "$HEADCOUNT_PRODUCTS" "$HEADCOUNT_HEARTBEAT_KEYS" "$HEADCOUNT_FEATURE_NAMES"`]);
    expect(stderr).toBe('');
    expect(stdout).toBe('["acme"]\n["quantity.servers","quantity.users","quantity.checks_per_day","flag.sso_enabled","flag.external_db"]\n["export_csv","dashboard_shared"]\n');
  });

  it('refuses a value a single-quoted line cannot carry as-is', () => {
    expect(() => envFileText({ HEADCOUNT_PRODUCTS: "it's" })).toThrow(/HEADCOUNT_PRODUCTS/);
    expect(envFileText({ HEADCOUNT_PRODUCTS: '["a|b"]' })).toContain(`HEADCOUNT_PRODUCTS='["a|b"]'\n`);
  });
});

describe('npm run backend-config / headcount collector-env --out', () => {
  it('a missing app module: non-zero exit, a message naming it, no file written', async () => {
    const before = new Map(['collector-config/rules/headcount.rules.yml', 'dashboards/headcount-overview.json'].map((f) => [f, statSync(join(repoRoot, f)).mtimeMs]));
    const missing = join(dir, 'no-such-telemetry.js');
    const failed = await run(process.execPath, [join(repoRoot, 'scripts/backend-config.ts'), '--app', missing], { cwd: dir }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in failed ? failed.code : 0).not.toBe(0);
    expect(failed.stderr).toContain(`cannot load --app ${missing}`);
    expect(existsSync(join(repoRoot, 'collector.env'))).toBe(false);
    for (const [f, mtime] of before) expect(statSync(join(repoRoot, f)).mtimeMs, f).toBe(mtime);

    await run('mkdir', ['-p', join(dir, 'missing')]);
    const out = join(dir, 'missing', 'collector.env');
    const cli = await run(process.execPath, [join(repoRoot, 'src/cli.ts'), 'collector-env', '--app', missing, '--out', out], { cwd: dir }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in cli ? cli.code : 0).not.toBe(0);
    expect(cli.stderr).toContain('cannot load --app');
    expect(await readdir(join(dir, 'missing'))).toEqual([]);
  });

  it('collector-env --out writes the file whole, with nothing left beside it', async () => {
    const out = join(dir, 'out', 'collector.env');
    await run('mkdir', ['-p', join(dir, 'out')]);
    await run(process.execPath, [join(repoRoot, 'src/cli.ts'), 'collector-env', '--app', join(repoRoot, 'examples/acme-app/telemetry.ts'), '--out', out]);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(repoRoot, 'examples/acme-app/collector.env'), 'utf8'));
    expect(await readdir(join(dir, 'out'))).toEqual(['collector.env']);
  });

  it("generates the example's committed rules and dashboards for the example's catalog", async () => {
    const files = await backendFiles(join(repoRoot, 'examples/acme-app/telemetry.ts'));
    expect(files.map((f) => f.path)).toContain('collector.env');
    for (const f of files.filter((x) => x.path !== 'collector.env')) expect(f.text, f.path).toBe(readFileSync(join(repoRoot, f.path), 'utf8'));
    expect(files.find((f) => f.path === 'collector.env')?.text).toBe(readFileSync(join(repoRoot, 'examples/acme-app/collector.env'), 'utf8'));
  });
});
