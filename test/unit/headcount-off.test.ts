/**
 * The handle while telemetry is off (headcount.ts): status() answered without the active part,
 * consent pinned to a catalog (ACME_TELEMETRY_ACCEPT, trimmed, blank = not set), and the opt-out
 * path of start(): the install id forgotten once, the default file store touched only if its
 * state.json exists.
 */
import { existsSync, lstatSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogFingerprint } from '../../src/catalog.ts';
import { variableNames } from '../../src/config.ts';
import { createHeadcount } from '../../src/headcount.ts';
import { MemoryStateStore } from '../../src/store.ts';
import options from '../../examples/acme-app/telemetry.ts';
import { onOptions, tempDir, TOKEN } from '../helpers/sender.ts';

const endpoint = 'http://127.0.0.1:9';
const onEnv = { ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: endpoint };
/** All callbacks queued by start() have run once this resolves. */
const afterQueuedWork = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('status() while off', () => {
  it('with the default store: off, not debug, no notes, the file store, no id', async () => {
    const stateDir = tempDir();
    const h = createHeadcount(onOptions(endpoint, { stateDir, env: { ...onEnv, ACME_TELEMETRY_DISABLED: '0', ACME_TELEMETRY_DEBUG: '1', ACME_OFFLINE: '1' } }));
    expect(await h.status()).toEqual({
      enabled: false,
      reason: 'ACME_OFFLINE is set',
      product: 'acme',
      version: '1.4.0',
      endpoint: undefined,
      debug: false,
      stateDir,
      store: 'file',
      storeNote: undefined,
      installId: undefined,
      idCreatedAt: undefined,
      lastSentAt: undefined,
      nextSendAt: undefined,
      nextSendNote: undefined,
      notes: [],
      redactions: { total: 0, entries: [] },
      lastResult: undefined,
      variables: variableNames('ACME_'),
    });
  });

  it("with a product's own store: store is custom", async () => {
    const h = createHeadcount(onOptions(endpoint, { env: {}, store: new MemoryStateStore() }));
    const s = await h.status();
    expect(s.enabled).toBe(false);
    expect(s.store).toBe('custom');
  });
});

describe('ACME_TELEMETRY_ACCEPT', () => {
  const fingerprint = catalogFingerprint(options.catalog);

  it('is trimmed: the fingerprint with spaces around it is accepted', () => {
    const h = createHeadcount(onOptions(endpoint, { env: { ...onEnv, ACME_TELEMETRY_ACCEPT: `  ${fingerprint}\n` } }));
    expect(h.settings.enabled).toBe(true);
    expect(h.settings.reason).toBe(`ACME_TELEMETRY_TOKEN is set, catalog ${fingerprint} accepted`);
  });

  it('blank is as if unset: on, with no catalog in the reason', () => {
    for (const value of ['', '   ']) {
      const h = createHeadcount(onOptions(endpoint, { env: { ...onEnv, ACME_TELEMETRY_ACCEPT: value } }));
      expect(h.settings.enabled).toBe(true);
      expect(h.settings.reason).toBe('ACME_TELEMETRY_TOKEN is set');
    }
  });

  it('another fingerprint: off, with no endpoint, token or debug, not an opt-out', () => {
    const h = createHeadcount(
      onOptions(endpoint, { env: { ...onEnv, ACME_TELEMETRY_DEBUG: '1', ACME_TELEMETRY_ACCEPT: '000000000000' } }),
    );
    expect(h.settings).toEqual({
      enabled: false,
      reason: `ACME_TELEMETRY_ACCEPT does not match this release's catalog (${fingerprint}): review \`headcount preview\`, then accept it`,
      endpoint: undefined,
      token: undefined,
      debug: false,
      optedOut: false,
      warnings: [],
    });
  });
});

describe('start() after an opt-out', () => {
  it("a product's own store is asked to clear once, however often start() is called", async () => {
    let clears = 0;
    const store = new MemoryStateStore();
    store.clear = () => (clears++, Promise.resolve());
    const h = createHeadcount(onOptions(endpoint, { env: { ...onEnv, ACME_TELEMETRY_DISABLED: '1' }, store }));
    expect(h.settings.optedOut).toBe(true);
    h.start();
    h.start();
    await afterQueuedWork();
    h.start();
    await afterQueuedWork();
    expect(clears).toBe(1);
  });

  it('the default store: state.json is deleted', () => {
    const stateDir = tempDir();
    writeFileSync(join(stateDir, 'state.json'), '{}');
    createHeadcount(onOptions(endpoint, { stateDir, env: { ...onEnv, DO_NOT_TRACK: '1' } })).start();
    expect(existsSync(join(stateDir, 'state.json'))).toBe(false);
  });

  it('the default store: a state.json that is not a file (a dangling link) is left alone', () => {
    const stateDir = tempDir();
    const link = join(stateDir, 'state.json');
    symlinkSync(join(stateDir, 'nowhere'), link);
    createHeadcount(onOptions(endpoint, { stateDir, env: { ...onEnv, DO_NOT_TRACK: '1' } })).start();
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});
