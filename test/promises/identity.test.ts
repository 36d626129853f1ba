/**
 * README "Install id" and the state dir: a random id (nothing derived from the machine), stored
 * atomically (temp file + rename), where `<PREFIX>_TELEMETRY_STATE_DIR` or the user's state dir
 * says.
 */
import { existsSync, linkSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHeadcount, type Headcount } from '../../src/index.ts';
import { newInstallId } from '../../src/store.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions, tempDir, without } from '../helpers/sender.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: CaptureServer;
const handles: Headcount[] = [];
const track = (h: Headcount) => (handles.push(h), h);
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});

const stateOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { installId: string; idCreatedAt: number; lastSentAt?: number };

describe('the install id', () => {
  it('is random: installs on the same machine (same host name, same product) get different ids', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const opts = onOptions(server.url);
      expect((await track(createHeadcount(opts)).sendNow()).sent).toBe(true);
      const { installId } = stateOf(opts.stateDir!);
      expect(installId).toMatch(UUID_V4);
      ids.add(installId);
    }
    expect(ids.size).toBe(3);
    const direct = Array.from({ length: 50 }, () => newInstallId());
    expect(new Set(direct).size).toBe(50);
    for (const id of direct) expect(id).toMatch(UUID_V4);
    // Nothing of the host name is in it (a name-derived id would repeat across installs anyway).
    expect([...ids].join()).not.toContain(hostname().toLowerCase().slice(0, 8));
  });

  it('a reset id is new and random too (rotation)', async () => {
    let now = Date.UTC(2026, 0, 1);
    const opts = onOptions(server.url, { now: () => now, rotateIdAfterDays: 1 });
    const h = track(createHeadcount(opts));
    await h.sendNow();
    const first = stateOf(opts.stateDir!).installId;
    now += 2 * 86_400_000;
    await h.sendNow();
    const second = stateOf(opts.stateDir!).installId;
    expect(second).toMatch(UUID_V4);
    expect(second).not.toBe(first);
  });
});

describe('the state file', () => {
  it('is replaced atomically (temp file + rename), never rewritten in place', async () => {
    let now = Date.UTC(2026, 0, 1);
    const opts = onOptions(server.url, { now: () => now });
    const h = track(createHeadcount(opts));
    await h.sendNow();
    const file = join(opts.stateDir!, 'state.json');
    // A second name for the first file's inode: an in-place write would change what it shows.
    const before = join(opts.stateDir!, 'state.before');
    linkSync(file, before);
    const firstText = readFileSync(file, 'utf8');
    now += 2 * 86_400_000;
    expect((await h.sendNow()).sent).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toBe(firstText);
    expect(readFileSync(before, 'utf8')).toBe(firstText);
    expect(statSync(file).ino).not.toBe(statSync(before).ino);
    // Owner-only, and no temp file left behind.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(opts.stateDir!).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('where state lives', () => {
  it('<PREFIX>_TELEMETRY_STATE_DIR sets the state dir (id, ledger) when the product does not', async () => {
    const dir = join(tempDir(), 'from-env');
    const base = onOptions(server.url);
    const h = track(createHeadcount({ ...without(base, 'stateDir'), env: { ...base.env, ACME_TELEMETRY_STATE_DIR: dir } }));
    expect((await h.status()).stateDir).toBe(dir);
    expect((await h.sendNow()).sent).toBe(true);
    expect(stateOf(dir).installId).toMatch(UUID_V4);
    expect(existsSync(join(dir, 'ledger.jsonl'))).toBe(true);
  });

  it('the product option wins over the variable; without either, the user state dir ($XDG_STATE_HOME/<product>/telemetry)', async () => {
    const optionDir = tempDir();
    const envDir = join(tempDir(), 'from-env');
    const base = onOptions(server.url);
    const withBoth = track(createHeadcount({ ...base, stateDir: optionDir, env: { ...base.env, ACME_TELEMETRY_STATE_DIR: envDir } }));
    expect((await withBoth.status()).stateDir).toBe(optionDir);
    const xdg = tempDir();
    const neither = track(createHeadcount({ ...without(base, 'stateDir'), env: { ...base.env, XDG_STATE_HOME: xdg } }));
    expect((await neither.status()).stateDir).toBe(join(xdg, 'acme', 'telemetry'));
  });
});
