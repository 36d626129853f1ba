/**
 * The published package: `dist/` (built by `npm run build` before the tests) imports nothing
 * but Node built-ins and the declared runtime dependencies, and the version constant is in step.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; dependencies: Record<string, string> };

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
    const allowed = (s: string) => s.startsWith('node:') || Object.keys(pkg.dependencies).some((d) => s === d || s.startsWith(`${d}/`));
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
});
