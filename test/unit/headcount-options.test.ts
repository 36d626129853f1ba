/**
 * createHeadcount()'s checks and logging (headcount.ts): the TypeErrors for programming errors,
 * the default log sink on stderr, the configuration warnings logged at creation, and the one line
 * logged when the active part cannot start.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, resolveOptions } from '../../src/headcount.ts';
import { SERVICE_NAME_PATTERN } from '../../src/patterns.ts';
import type { HeadcountOptions } from '../../src/index.ts';
import options from '../../examples/acme-app/telemetry.ts';
import { onOptions, without } from '../helpers/sender.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('resolveOptions: programming errors throw', () => {
  it('a product name outside the service-name grammar, or none', () => {
    const message = `headcount: product must match ${SERVICE_NAME_PATTERN.source}`;
    expect(() => resolveOptions({ ...options, product: 'Acme Monitor!' })).toThrow(new TypeError(message));
    expect(() => resolveOptions({ ...options, product: 42 } as unknown as HeadcountOptions)).toThrow(new TypeError(message));
  });

  it('a catalog not made by defineCatalog()', () => {
    const message = 'headcount: catalog must come from defineCatalog()';
    expect(() => resolveOptions({ ...options, catalog: undefined } as unknown as HeadcountOptions)).toThrow(new TypeError(message));
    expect(() => resolveOptions({ ...options, catalog: { quantities: {}, flags: {}, features: {} } } as unknown as HeadcountOptions)).toThrow(
      new TypeError(message),
    );
  });
});

describe('logging', () => {
  it('without a log option, lines go to stderr prefixed [headcount]', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    resolveOptions(without(onOptions('http://127.0.0.1:9'), 'log')).log('hello there');
    expect(written).toEqual(['[headcount] hello there\n']);
  });

  it('configuration warnings are logged when the handle is created', () => {
    const lines: string[] = [];
    const o = onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l) });
    createHeadcount({ ...o, env: { ...o.env, ACME_TELEMETRY_TOKEN: 'short' } });
    expect(lines).toContain('ACME_TELEMETRY_TOKEN: must be 8-512 printable characters without spaces');
  });

  it('an active part that cannot start: one fixed line, telemetry off for the run, nothing thrown', async () => {
    const lines: string[] = [];
    // Enough for the handle (features, quantities), not for the active part (no flags map).
    const catalog = { quantities: new Map(), features: new Map() } as unknown as HeadcountOptions['catalog'];
    const h = createHeadcount(onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l), catalog }));
    expect(h.settings.enabled).toBe(true);
    expect(await h.sendNow()).toEqual({ sent: false, reason: h.settings.reason });
    expect(lines).toContain('telemetry could not start; it stays off for this run');
    await h.shutdown();
  });
});
