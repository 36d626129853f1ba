/**
 * The README's "Add it to a product" works verbatim for a newcomer: the package is packed
 * (`npm pack`, as published), installed offline into fresh `npm init -y` projects, and the
 * README's code blocks marked `<!-- scratch-app: <variant> <file> -->` are written there as they
 * stand: CommonJS (`require`, the `npm init -y` default), ES modules (`"type": "module"`) and the
 * ES-module pair as TypeScript under `tsc --noEmit --strict` with `skipLibCheck: false` (so every
 * published .d.ts the README's imports reach is checked, and must need no dev dependency).
 * Each app runs with a token (its notice line proves `start()` ran on the options) and the
 * README's CLI lines run against its telemetry.js, on the Node this suite runs on and, when the
 * host has another one on PATH (a CI machine's Node 20), on that one too.
 *
 * Offline: npm's cache holds the runtime dependency's tarball (put there by `npm ci`) but not its
 * registry metadata, so the dependency is packed from node_modules and installed next to the
 * package (`npm install --offline headcount.tgz ci-info.tgz`): no registry access. Needs `dist/`
 * (`npm run build`; `npm test` builds first).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/stack/binaries.ts';

const run = promisify(execFile);
const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');

/** `<!-- scratch-app: <key> -->` followed by a fenced block: key → the block's text. */
export function scratchBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- scratch-app: ([^>]+?) -->\n```\w*\n([\s\S]*?)\n```/g)) blocks.set(m[1]!, `${m[2]!}\n`);
  return blocks;
}

const blocks = scratchBlocks(readme);
const block = (key: string): string => {
  const text = blocks.get(key);
  if (text === undefined) throw new Error(`README.md has no block marked <!-- scratch-app: ${key} -->`);
  return text;
};

/** The README's CLI lines, comments stripped (a `> file` redirect stays). */
const commands = block('commands')
  .split('\n')
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter((line) => line !== '');

/** The Node binaries to run the apps on: this one, plus a different-version `node` on PATH outside node_modules. */
function nodes(): { label: string; bin: string }[] {
  const list = [{ label: `node ${process.version}`, bin: process.execPath }];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '' || dir.includes('node_modules')) continue;
    const bin = join(dir, 'node');
    if (!existsSync(bin)) continue;
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    if (version !== process.version) list.push({ label: `host node ${version}`, bin });
    break;
  }
  return list;
}

let work = '';
/** The package's tarball, then its runtime dependencies' tarballs. */
let tarballs: string[] = [];

async function scratchProject(name: string, type: 'commonjs' | 'module'): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await run('npm', ['init', '-y'], { cwd: dir });
  if (type === 'module') await run('npm', ['pkg', 'set', 'type=module'], { cwd: dir });
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], { cwd: dir, timeout: 120_000 });
  return dir;
}

/** Runs a line as a shell would, with `node` (and so `npx`'s bin) resolving to `nodeBin`. */
function shell(cwd: string, line: string, nodeBin: string, env: Record<string, string> = {}) {
  const path = [join(nodeBin, '..'), process.env['PATH'] ?? ''].join(delimiter);
  return run('sh', ['-c', line], { cwd, timeout: 60_000, env: { PATH: path, HOME: process.env['HOME'] ?? work, npm_config_offline: 'true', npm_config_update_notifier: 'false', ...env } });
}

beforeAll(async () => {
  expect(existsSync(join(repoRoot, 'dist/index.js')), 'run `npm run build` first').toBe(true);
  work = await mkdtemp(join(tmpdir(), 'headcount-scratch-'));
  const pack = async (dir: string) => {
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, dir], { cwd: repoRoot, timeout: 120_000 });
    return join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  };
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  tarballs = [await pack('.')];
  for (const dep of Object.keys(pkg.dependencies ?? {})) tarballs.push(await pack(join(repoRoot, 'node_modules', dep)));
}, 180_000);

afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

describe.each([
  { variant: 'cjs', type: 'commonjs' as const },
  { variant: 'esm', type: 'module' as const },
])('README snippet, $variant, in a fresh npm init -y project', ({ variant, type }) => {
  let dir = '';
  beforeAll(async () => {
    dir = await scratchProject(variant, type);
    await writeFile(join(dir, 'telemetry.js'), block(`${variant} telemetry.js`));
    await writeFile(join(dir, 'app.js'), block(`${variant} app.js`));
  }, 180_000);

  it.each(nodes())('app.js runs and starts telemetry on $label', async ({ bin }) => {
    const state = join(dir, `state-${variant}`);
    const env = { ACME_TELEMETRY_TOKEN: 'scratch-token-123', ACME_TELEMETRY_ENDPOINT: 'http://127.0.0.1:9', ACME_TELEMETRY_FORCE: '1', ACME_TELEMETRY_STATE_DIR: state };
    const { stderr } = await shell(dir, 'node app.js', bin, env);
    expect(stderr).toMatch(/^\[headcount\] telemetry is ON \(.*\): one anonymous heartbeat a day to http:\/\/127\.0\.0\.1:9/m);
    // Off without the token: silent.
    const off = await shell(dir, 'node app.js', bin, { ACME_TELEMETRY_STATE_DIR: state });
    expect(off.stderr).toBe('');
  });

  it.each(nodes())("every README CLI line runs against telemetry.js on $label", async ({ bin }) => {
    const env = { ACME_TELEMETRY_STATE_DIR: join(dir, `cli-state-${bin.length}`) };
    for (const line of commands) {
      const { stdout } = await shell(dir, line, bin, env);
      if (line.startsWith('npx headcount status')) expect(stdout).toMatch(/^telemetry: off \(ACME_TELEMETRY_TOKEN is not set/m);
      if (line.startsWith('npx headcount preview')) expect(stdout).toMatch(/"key": "quantity\.servers",\s*"value": \{\s*"stringValue": "10-99"/);
    }
    expect(await readFile(join(dir, 'TELEMETRY.md'), 'utf8')).toContain('How many servers an install monitors');
  });
});

describe('README snippet as TypeScript (strict, skipLibCheck: false)', () => {
  it('the ES-module pair type-checks against the published types', async () => {
    const dir = await scratchProject('ts', 'module');
    await writeFile(join(dir, 'telemetry.ts'), block('esm telemetry.js'));
    await writeFile(join(dir, 'app.ts'), block('esm app.js'));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          // @types/node of this repository (a real project installs its own).
          typeRoots: [join(repoRoot, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['telemetry.ts', 'app.ts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 120_000 }).catch((error: Error & { stdout?: string }) => ({ stdout: error.stdout ?? error.message }));
    expect(result.stdout).toBe('');
  }, 180_000);
});
