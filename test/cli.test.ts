import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { appendLedger } from '../src/local.ts';
import { createHeadcount, type HeadcountOptions } from '../src/index.ts';
import { renderPrivacyDoc } from '../src/privacy-doc.ts';
import { parseCollectorEnv } from '../src/collector-env.ts';
import example, { catalog } from '../examples/acme-app/telemetry.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { onOptions } from './helpers/sender.ts';

let server: CaptureServer;
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(() => server.close());

async function cli(args: string[], options: HeadcountOptions) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, options, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('headcount CLI (mounted with runCli)', () => {
  it('status shows on/off with the reason and never prints the token', async () => {
    const opts = onOptions(server.url);
    const on = await cli(['status'], opts);
    expect(on.code).toBe(0);
    expect(on.out).toMatch(/telemetry: ON \(ACME_TELEMETRY_TOKEN is set\)/);
    expect(on.out).not.toContain('test-token');
    const off = await cli(['status'], { ...opts, env: {} });
    expect(off.out).toMatch(/telemetry: off \(ACME_TELEMETRY_TOKEN is not set/);
  });

  it("status of a running product: next send from the stored last send, redactions from the ledger", async () => {
    const opts = onOptions(server.url);
    const product = createHeadcount(opts);
    await product.sendNow();
    const lastSentAt = (await product.status()).lastSentAt!;
    await appendLedger(opts.stateDir!, { time: new Date().toISOString(), signal: 'metrics', bytes: 1, sha256: 'a'.repeat(64), status: 200, redacted: 3 });
    const out = (await cli(['status'], opts)).out;
    expect(out).toContain(`next send: ${new Date(lastSentAt + 24 * 3600_000).toISOString()} or up to an hour later`);
    expect(out).toMatch(/redacted: {2}3 attribute\(s\) in the 2 recorded send\(s\)/);
    await product.shutdown();
  });

  it('preview prints what would be sent, without sending', async () => {
    const r = await cli(['preview'], onOptions(server.url));
    expect(r.code).toBe(0);
    expect(r.out).toContain('/v1/metrics');
    expect(r.out).toContain('quantity.servers');
    expect(r.out).toContain('"10-99"');
    expect(server.requests).toHaveLength(0);
    const json = await cli(['preview', '--json'], onOptions(server.url));
    const parsed = JSON.parse(json.out) as Array<{ signal: string; body: string; sha256: string }>;
    expect(parsed[0]!.signal).toBe('metrics');
  });

  it('disable persists, turns telemetry off and deletes the id; enable overrides CI', async () => {
    const opts = onOptions(server.url);
    const h = createHeadcount(opts);
    await h.sendNow();
    const id = (await h.status()).installId;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const disabled = (await cli(['disable'], opts)).out;
    // It names the state dir it wrote and the id it deleted (needed to ask for erasure).
    expect(disabled).toContain(opts.stateDir!);
    expect(disabled).toContain(id!);
    expect(existsSync(join(opts.stateDir!, 'state.json'))).toBe(false);
    const after = createHeadcount(opts);
    expect(after.settings.enabled).toBe(false);
    expect(after.settings.reason).toMatch(/headcount disable/);
    expect((await after.status()).installId).toBeUndefined();
    await cli(['enable'], opts);
    const inCi = createHeadcount({ ...opts, ci: { isCI: true, name: 'GitLab CI' } });
    expect(inCi.settings.enabled).toBe(true);
  });

  it('reset-id gives the next send a new id; last lists the ledger', async () => {
    const opts = onOptions(server.url);
    const h = createHeadcount(opts);
    await h.sendNow();
    const id = (await h.status()).installId;
    expect((await cli(['reset-id'], opts)).code).toBe(0);
    await h.sendNow();
    expect((await h.status()).installId).not.toBe(id);
    const last = await cli(['last'], opts);
    expect(last.out.split('\n').filter((l) => /metrics .* HTTP 200/.test(l))).toHaveLength(2);
  });

  it('rejects an unknown command with usage', async () => {
    const r = await cli(['frobnicate'], onOptions(server.url));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "frobnicate"/);
  });

  it('the headcount bin runs with --app', () => {
    const node = process.execPath;
    const out = execFileSync(node, ['src/cli.ts', 'status', '--app', 'examples/acme-app/telemetry.ts'], {
      env: { PATH: process.env['PATH'], HOME: join(onOptions(server.url).stateDir!, 'home') },
      encoding: 'utf8',
    });
    expect(out).toMatch(/telemetry: off/);
  });
});

describe('generated privacy doc', () => {
  it('the committed examples/acme-app/TELEMETRY.md is up to date (run `npm run privacy-doc`)', () => {
    const committed = readFileSync('examples/acme-app/TELEMETRY.md', 'utf8');
    expect(committed).toBe(renderPrivacyDoc({ product: example.product, catalog }));
  });

  it('the committed examples/acme-app/collector.env (collector allow-list) is up to date', async () => {
    const r = await cli(['collector-env'], example);
    expect(readFileSync('examples/acme-app/collector.env', 'utf8')).toBe(r.out);
    expect(r.out).toContain(`HEADCOUNT_HEARTBEAT_KEYS='["quantity.servers","quantity.users","quantity.checks_per_day","flag.sso_enabled","flag.external_db"]'`);
    expect(parseCollectorEnv(r.out).lists.products).toEqual(['acme']);
  });

  it('lists every catalog entry with its purpose', () => {
    const doc = renderPrivacyDoc({ product: 'acme', catalog });
    for (const [name, e] of [...catalog.quantities, ...catalog.flags, ...catalog.features]) {
      expect(doc).toContain(name);
      expect(doc).toContain(e.purpose);
    }
  });
});
