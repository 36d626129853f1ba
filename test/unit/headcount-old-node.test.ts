/**
 * createHeadcount() on a Node without `process.getBuiltinModule` (older than `engines`): one line
 * through the log option (else stderr, prefixed), then a handle that is off and does nothing.
 * In-process counterpart of test/package.test.ts's child-process checks, which Stryker cannot see.
 * The function is removed only while the handle is created and put back right after.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, type Headcount } from '../../src/headcount.ts';
import { variableNames } from '../../src/config.ts';
import { MemoryStateStore } from '../../src/store.ts';
import type { HeadcountOptions } from '../../src/index.ts';
import options from '../../examples/acme-app/telemetry.ts';

const reason = `Node ${process.version} is older than this package supports (^20.19.0 || >=22.12.0); telemetry is off`;

function onOldNode(opts: HeadcountOptions): Headcount {
  const real = Object.getOwnPropertyDescriptor(process, 'getBuiltinModule')!;
  delete (process as { getBuiltinModule?: unknown }).getBuiltinModule;
  try {
    return createHeadcount(opts);
  } finally {
    Object.defineProperty(process, 'getBuiltinModule', real);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

const env = { ACME_TELEMETRY_TOKEN: 'token-123456', ACME_TELEMETRY_ENDPOINT: 'http://127.0.0.1:9', ACME_TELEMETRY_DEBUG: '1' };

describe('createHeadcount on a Node older than engines', () => {
  it('logs one line through the log option and returns a handle that is off', async () => {
    const lines: string[] = [];
    const h = onOldNode({ ...options, env, log: (l) => lines.push(l) });
    expect(lines).toEqual([reason]);
    expect(h.settings).toEqual({ enabled: false, reason, endpoint: undefined, token: undefined, debug: false, optedOut: false, warnings: [] });
    h.start();
    h.feature('export_csv');
    expect(await h.preview()).toEqual({ enabled: false, reason, requests: [] });
    expect(await h.sendNow()).toEqual({ sent: false, reason });
    await h.shutdown();
    expect(await h.status()).toEqual({
      enabled: false,
      reason,
      product: 'acme',
      version: undefined,
      endpoint: undefined,
      debug: false,
      stateDir: '',
      store: 'file',
      storeNote: undefined,
      installId: undefined,
      idCreatedAt: undefined,
      lastSentAt: undefined,
      nextSendAt: undefined,
      redactions: { total: 0, entries: [] },
      lastResult: undefined,
      nextSendNote: undefined,
      notes: [],
      variables: variableNames('ACME_'),
    });
    expect(lines).toEqual([reason]);
  });

  it("status names a product's own store as custom, and the variables under its envPrefix", async () => {
    const h = onOldNode({ ...options, env, log: () => undefined, store: new MemoryStateStore(), envPrefix: 'ACMEMON_' });
    const s = await h.status();
    expect(s.store).toBe('custom');
    expect(s.variables).toEqual(variableNames('ACMEMON_'));
  });

  it('without a log option the line goes to stderr, prefixed [headcount]', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    onOldNode({ ...options, env });
    expect(written).toEqual([`[headcount] ${reason}\n`]);
  });

  it('a log option that throws does not reach the host', () => {
    const h = onOldNode({
      ...options,
      env,
      log: () => {
        throw new Error('broken logger');
      },
    });
    expect(h.settings.enabled).toBe(false);
  });
});
