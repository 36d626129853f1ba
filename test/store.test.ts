import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHeadcount, FileStateStore, MemoryStateStore } from '../src/index.ts';
import { appendLedger, readLedger } from '../src/local.ts';
import { startCaptureServer, type CaptureServer } from './helpers/capture-server.ts';
import { onOptions, tempDir } from './helpers/sender.ts';

let server: CaptureServer;
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(() => server.close());

describe('FileStateStore', () => {
  it('compare-and-set: only one of two concurrent writers wins', async () => {
    const dir = tempDir();
    const a = new FileStateStore(dir);
    const b = new FileStateStore(dir);
    const s1 = { installId: '9f1c2b3a-1d2e-4f3a-8b9c-0d1e2f3a4b5c', idCreatedAt: 1, lastSentAt: 2 };
    const s2 = { installId: '1f1c2b3a-1d2e-4f3a-8b9c-0d1e2f3a4b5c', idCreatedAt: 1, lastSentAt: 3 };
    const results = await Promise.all([a.compareAndSet(undefined, s1), b.compareAndSet(undefined, s2)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.read()).toEqual(results[0] ? s1 : s2);
    expect(await a.compareAndSet(s1, { ...s1, lastSentAt: 9 })).toBe(results[0]);
  });
});

describe('recovery', () => {
  it('a corrupt state file is replaced by a new install id, with the reason in status', async () => {
    const opts = onOptions(server.url);
    writeFileSync(join(opts.stateDir!, 'state.json'), '{"installId": "not-a-uuid"');
    const h = createHeadcount(opts);
    expect((await h.sendNow()).sent).toBe(true);
    const status = await h.status();
    expect(status.storeNote).toMatch(/corrupt/);
    expect(status.installId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(readFileSync(join(opts.stateDir!, 'state.json'), 'utf8'))).toMatchObject({ installId: status.installId });
    await h.shutdown();
  });

  it('an unwritable state dir falls back to an in-memory id and still sends', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    // A directory below a regular file can never be created, even as root.
    const h = createHeadcount(onOptions(server.url, { stateDir: join(file, 'telemetry') }));
    expect((await h.sendNow()).sent).toBe(true);
    const status = await h.status();
    expect(status.store).toBe('memory');
    expect(status.storeNote).toMatch(/could not be (read|written)/);
    expect(status.installId).toMatch(/^[0-9a-f-]{36}$/);
    await h.shutdown();
  });

  it('the install id is deleted when telemetry is switched off', async () => {
    const opts = onOptions(server.url);
    const on = createHeadcount(opts);
    await on.sendNow();
    expect(existsSync(join(opts.stateDir!, 'state.json'))).toBe(true);
    await on.shutdown();
    const off = createHeadcount({ ...opts, env: { ...opts.env, ACME_TELEMETRY_DISABLED: '1' } });
    off.start();
    expect(existsSync(join(opts.stateDir!, 'state.json'))).toBe(false);
  });

  it('is kept when telemetry is merely not on here (no token, CI, NODE_ENV): one install stays one id', async () => {
    const opts = onOptions(server.url);
    const on = createHeadcount(opts);
    await on.sendNow();
    const id = (await on.status()).installId;
    await on.shutdown();
    for (const h of [
      createHeadcount({ ...opts, env: {} }),
      createHeadcount({ ...opts, ci: { isCI: true, name: 'GitHub Actions' } }),
      createHeadcount({ ...opts, env: { ...opts.env, NODE_ENV: 'development' } }),
      createHeadcount({ ...opts, env: { ...opts.env, ACME_OFFLINE: '1' } }),
    ]) {
      h.start();
      expect(h.settings.enabled).toBe(false);
      expect((await h.status()).installId).toBe(id);
    }
    expect(existsSync(join(opts.stateDir!, 'state.json'))).toBe(true);
  });

  it('a state lock held by a replica is a lost round, not a broken store', async () => {
    const opts = onOptions(server.url);
    mkdirSync(opts.stateDir!, { recursive: true });
    const lock = join(opts.stateDir!, 'state.json.lock');
    writeFileSync(lock, '');
    // A live replica: its lock stays fresh (a stale one, > 10 s old, would be broken).
    const alive = setInterval(() => utimesSync(lock, new Date(), new Date()), 500);
    const h = createHeadcount(opts);
    const outcome = await h.sendNow().finally(() => clearInterval(alive));
    expect(outcome.sent).toBe(false);
    expect((await h.status()).store).toBe('file');
    expect(server.requests).toHaveLength(0);
    await h.shutdown();
  }, 20_000);

  it("a product's own store is cleared on an explicit opt-out", async () => {
    const store = new MemoryStateStore();
    const on = createHeadcount(onOptions(server.url, { store }));
    await on.sendNow();
    expect(await store.read()).toBeDefined();
    const off = createHeadcount(onOptions(server.url, { store, env: { DO_NOT_TRACK: '1' } }));
    off.start();
    await new Promise((r) => setTimeout(r, 10));
    expect(await store.read()).toBeUndefined();
  });
});

describe('ledger', () => {
  it('is capped: old entries go, new ones stay', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 200; i++) {
      await appendLedger(dir, { time: new Date(i * 1000).toISOString(), signal: 'metrics', bytes: i, sha256: 'a'.repeat(64), status: 200 }, 4096);
    }
    const entries = await readLedger(dir);
    expect(entries.length).toBeGreaterThan(5);
    expect(entries.length).toBeLessThan(60);
    expect(entries.at(-1)!.bytes).toBe(199);
  });
});
