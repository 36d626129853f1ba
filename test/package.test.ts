/**
 * The published package: `dist/` (built by `npm run build` before the tests) imports nothing
 * but Node built-ins and the declared runtime dependencies, its types need no dev dependency,
 * `npm pack` ships exactly the package, and the version constant is in step.
 * (test/scratch-app.test.ts installs the packed package and runs the README against it.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  engines: { node: string };
  exports: Record<string, { types: string; default: string }>;
  bin: Record<string, string>;
};
const runtimeDependency = (s: string) => Object.keys(pkg.dependencies).some((d) => s === d || s.startsWith(`${d}/`));
const builtin = (s: string) => s.startsWith('node:') || builtinModules.includes(s);

describe('package', () => {
  it('VERSION matches package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it('dist imports only built-ins and runtime dependencies', () => {
    expect(existsSync('dist/index.js'), 'run `npm run build` first').toBe(true);
    const specifiers = new Set<string>();
    for (const file of readdirSync('dist').filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(`dist/${file}`, 'utf8');
      for (const m of code.matchAll(/(?:from|import)\s*\(?\s*["']([^"'./][^"']*)["']/g)) specifiers.add(m[1]!);
    }
    const allowed = (s: string) => s.startsWith('node:') || runtimeDependency(s);
    expect([...specifiers].filter((s) => !allowed(s))).toEqual([]);
    // The OTel API is bundled too (no ESM resolution of its ~50 files at startup); it finds the
    // host's context manager through the API's global registry (test/isolation.test.ts).
    expect(specifiers.has('@opentelemetry/api')).toBe(false);
  });

  it('the built entry works: off by default, with the reason', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { createHeadcount, defineCatalog } from './dist/index.js';
      const h = createHeadcount({ product: 'acme', version: '1.0.0', catalog: defineCatalog({}) });
      h.start();
      console.log(h.settings.enabled, h.settings.reason);`], { env: { PATH: process.env['PATH'] }, encoding: 'utf8' });
    expect(out.trim()).toBe('false ACME_TELEMETRY_TOKEN is not set (telemetry is opt-in)');
  });

  it('on a Node older than engines (no process.getBuiltinModule): one line, off, no throw', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      delete process.getBuiltinModule;
      const { createHeadcount, defineCatalog } = await import('./dist/index.js');
      const h = createHeadcount({ product: 'acme', version: '1.0.0', endpoint: 'http://127.0.0.1:9', catalog: defineCatalog({ features: { export_csv: { purpose: 'Whether CSV export is used.' } } }) });
      h.start();
      h.feature('export_csv');
      await h.shutdown();
      console.log(h.settings.enabled, (await h.sendNow()).sent);`], { env: { PATH: process.env['PATH'], ACME_TELEMETRY_TOKEN: 'token-123456' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe('false false');
  });

  it('the older-Node line is a single line on stderr', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      delete process.getBuiltinModule;
      const { createHeadcount, defineCatalog } = await import('./dist/index.js');
      createHeadcount({ product: 'acme', version: '1.0.0', catalog: defineCatalog({}) }).start();`], { env: { PATH: process.env['PATH'] }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^\[headcount\] Node v[\d.]+ is older than this package supports \(\^20\.19\.0 \|\| >=22\.12\.0\); telemetry is off\n$/);
  });

  it('the published types reach only built-ins, runtime dependencies and each other (no dev dependency)', () => {
    const entries = Object.values(pkg.exports).map((e) => normalize(e.types));
    const seen = new Set<string>();
    const bare = new Set<string>();
    const queue = [...entries];
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      expect(existsSync(file), `${file} (referenced by the published types)`).toBe(true);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*)["']([^"']+)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) queue.push(join(dirname(file), spec.replace(/\.[jt]s$/, '.d.ts')));
        else bare.add(spec);
      }
    }
    expect(seen.size).toBeGreaterThan(entries.length);
    expect([...bare].filter((s) => !builtin(s) && !runtimeDependency(s))).toEqual([]);
  });

  it('npm pack ships dist, LICENSE, README and package.json only', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' })) as { files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    for (const f of [...Object.values(pkg.exports).flatMap((e) => [e.types, e.default]), ...Object.values(pkg.bin)]) expect(files).toContain(normalize(f));
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain('*.tgz');
  });

  it('engines names the Node lines CI runs the package on (the suite on 22, the README apps also on the host Node 20)', () => {
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major > 22 || (major === 22 && minor >= 12)).toBe(true);
  });
});
