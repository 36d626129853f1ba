/**
 * The active part's handling of the install state, in process: which store status() names, the
 * notes and warnings for a corrupt file, an invalid state from a product's store, a store that
 * cannot be written, stored times in the future (at the skew limit and past it), and a claim
 * that keeps losing its compare-and-set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS } from '../../src/active.ts';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { newInstallId, type InstallState, type StateStore } from '../../src/store.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions } from '../helpers/sender.ts';

const NOW = Date.UTC(2025, 5, 10, 12, 0, 0);

let server: CaptureServer;
const handles: Headcount[] = [];
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});

function headcount(extra: Parameters<typeof onOptions>[1] = {}) {
  const lines: string[] = [];
  const opts = onOptions(server.url, { log: (l) => lines.push(l), now: () => NOW, ...extra });
  const h = createHeadcount(opts);
  handles.push(h);
  return { h, lines, stateDir: opts.stateDir! };
}

describe('which store status() names', () => {
  it('a product store is "custom"; without one it is "file"', async () => {
    expect((await headcount({ store: new MemoryStateStore() }).h.status()).store).toBe('custom');
    expect((await headcount().h.status()).store).toBe('file');
  });

  it('a corrupt state file: a note in status() and the log, and a new id on the next send', async () => {
    const { h, lines, stateDir } = headcount();
    writeFileSync(join(stateDir, 'state.json'), 'not json at all');
    const status = await h.status();
    expect(status.storeNote).toBe('the state file was corrupt; it was replaced with a new install id');
    expect(status.installId).toBeUndefined();
    expect(lines).toContain('the state file was corrupt; it was replaced with a new install id');
  });

  it("a product store that returns something not an install state: never shown, the run goes on in memory", async () => {
    const store: StateStore = {
      read: () => Promise.resolve({ installId: 'alice@example.com', idCreatedAt: 'yesterday' } as unknown as InstallState),
      compareAndSet: () => Promise.resolve(true),
      clear: () => Promise.resolve(),
    };
    const { h, lines } = headcount({ store });
    const status = await h.status();
    const note = "the product's state store returned an invalid state; using an in-memory install id for this run";
    expect(status.store).toBe('memory');
    expect(status.storeNote).toBe(note);
    expect(status.installId).toBeUndefined();
    expect(lines).toContain(note);
    expect(JSON.stringify(status)).not.toContain('alice');
  });

  it('a store that cannot be written: the send goes on with an in-memory id, with a warning naming the errno only', async () => {
    const store: StateStore = {
      read: () => Promise.resolve(undefined),
      compareAndSet: () => Promise.reject(Object.assign(new Error('/secret/path is read-only'), { code: 'EACCES' })),
      clear: () => Promise.resolve(),
    };
    const { h, lines } = headcount({ store });
    expect((await h.sendNow()).sent).toBe(true);
    const note = 'state could not be written (EACCES); using an in-memory install id for this run';
    expect(lines).toContain(note);
    const status = await h.status();
    expect(status.store).toBe('memory');
    expect(status.storeNote).toBe(note);
    expect(status.installId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.join('\n')).not.toContain('secret');
  });

  it('a claim that loses its compare-and-set every time gives up after 5 tries, sending nothing', async () => {
    let tries = 0;
    const store: StateStore = {
      read: () => Promise.resolve(undefined),
      compareAndSet: () => {
        tries++;
        return Promise.resolve(false);
      },
      clear: () => Promise.resolve(),
    };
    const { h } = headcount({ store });
    expect(await h.sendNow()).toEqual({ sent: false, reason: 'a heartbeat was already sent in this interval' });
    expect(tries).toBe(5);
    expect(server.requests).toHaveLength(0);
  });
});

describe('stored times ahead of this clock', () => {
  const ID_NOTE = 'the install id was created in the future (a clock was wrong); a new id is used from the next send';
  it(`an id created up to ${MAX_CLOCK_SKEW_MS} ms ahead is kept; one ms more and a new id is used, with a note`, async () => {
    const atLimit: InstallState = { installId: newInstallId(), idCreatedAt: NOW + MAX_CLOCK_SKEW_MS };
    const a = headcount({ store: new MemoryStateStore(atLimit) });
    expect((await a.h.status()).notes).toEqual([]);
    expect((await a.h.sendNow()).sent).toBe(true);
    expect((await a.h.status()).installId).toBe(atLimit.installId);
    expect(a.lines).not.toContain(ID_NOTE);

    const past: InstallState = { installId: newInstallId(), idCreatedAt: NOW + MAX_CLOCK_SKEW_MS + 1 };
    const b = headcount({ store: new MemoryStateStore(past) });
    expect((await b.h.status()).notes).toEqual([ID_NOTE]);
    expect(b.lines.filter((l) => l === ID_NOTE)).toHaveLength(1);
    expect((await b.h.sendNow()).sent).toBe(true);
    expect((await b.h.status()).installId).not.toBe(past.installId);
  });

  const state = (lastSentAt: number): InstallState => ({ installId: newInstallId(), idCreatedAt: NOW - DAY_MS, lastSentAt });
  const NOTE = 'the stored last-send time is in the future (a clock was wrong); it is ignored';

  it(`a last send up to ${MAX_CLOCK_SKEW_MS} ms ahead is trusted: no note, no warning`, async () => {
    const { h, lines } = headcount({ store: new MemoryStateStore(state(NOW + MAX_CLOCK_SKEW_MS)) });
    const status = await h.status();
    expect(status.notes).toEqual([]);
    expect(lines).not.toContain(NOTE);
    // Trusted: the next send is a day after it.
    expect(status.nextSendAt).toBe(NOW + MAX_CLOCK_SKEW_MS + DAY_MS);
  });

  it('one ms more and it is ignored, with a note in status() and one warning', async () => {
    const { h, lines } = headcount({ store: new MemoryStateStore(state(NOW + MAX_CLOCK_SKEW_MS + 1)) });
    const status = await h.status();
    expect(status.notes).toEqual([NOTE]);
    expect(lines.filter((l) => l === NOTE)).toHaveLength(1);
    expect(status.nextSendAt).toBeUndefined();
  });
});

describe('the interval and the id rotation, at their edges', () => {
  it('a scheduled heartbeat goes out when exactly one interval has passed since the last send', async () => {
    const state: InstallState = { installId: newInstallId(), idCreatedAt: NOW - DAY_MS, lastSentAt: NOW - DAY_MS };
    const { h } = headcount({ store: new MemoryStateStore(state), schedule: { firstDelayMs: [0, 0], jitterMs: 0 } });
    h.start();
    await server.waitFor(1);
    expect(server.requests[0]!.path).toBe('/v1/metrics');
  });

  it(`an id exactly rotateIdAfterDays old is replaced; one ms younger it is kept`, async () => {
    const old: InstallState = { installId: newInstallId(), idCreatedAt: NOW - 30 * DAY_MS };
    const a = headcount({ store: new MemoryStateStore(old) });
    expect((await a.h.sendNow()).sent).toBe(true);
    const rotated = await a.h.status();
    expect(rotated.installId).not.toBe(old.installId);
    expect(rotated.idCreatedAt).toBe(NOW);

    const young: InstallState = { installId: newInstallId(), idCreatedAt: NOW - 30 * DAY_MS + 1 };
    const b = headcount({ store: new MemoryStateStore(young) });
    expect((await b.h.sendNow()).sent).toBe(true);
    const kept = await b.h.status();
    expect(kept.installId).toBe(young.installId);
    expect(kept.idCreatedAt).toBe(young.idCreatedAt);
  });
});
