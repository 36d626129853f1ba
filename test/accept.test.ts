import { describe, expect, it } from 'vitest';
import { catalogFingerprint, createHeadcount, defineCatalog } from '../src/index.ts';
import { catalog } from '../examples/acme-app/telemetry.ts';
import { onOptions } from './helpers/sender.ts';

describe('consent pinned to a catalog (ACME_TELEMETRY_ACCEPT)', () => {
  const endpoint = 'http://127.0.0.1:9';
  const withAccept = (value: string) => onOptions(endpoint, { env: { ...onOptions(endpoint).env, ACME_TELEMETRY_ACCEPT: value } });

  it('stays on while the fingerprint matches', () => {
    const h = createHeadcount(withAccept(catalogFingerprint(catalog)));
    expect(h.settings.enabled).toBe(true);
    expect(h.settings.reason).toMatch(/catalog [0-9a-f]{12} accepted/);
  });

  it('turns off, naming the new fingerprint, when a release reports more', () => {
    const old = catalogFingerprint(catalog);
    const grown = defineCatalog({
      quantities: { ...Object.fromEntries(catalog.quantities), tenants: { purpose: 'How many tenants exist, a new field.' } },
      flags: Object.fromEntries(catalog.flags),
      features: Object.fromEntries(catalog.features),
    });
    const h = createHeadcount({ ...withAccept(old), catalog: grown });
    expect(h.settings.enabled).toBe(false);
    expect(h.settings.reason).toContain(catalogFingerprint(grown));
    expect(catalogFingerprint(grown)).not.toBe(old);
  });

  it('depends on names only, not on order or purpose wording', () => {
    const a = defineCatalog({ flags: { a: { purpose: 'First purpose text.' }, b: { purpose: 'Second purpose.' } } });
    const b = defineCatalog({ flags: { b: { purpose: 'Reworded purpose.' }, a: { purpose: 'Also reworded.' } } });
    expect(catalogFingerprint(a)).toBe(catalogFingerprint(b));
  });

  it('logs one notice line at start, before anything is sent', () => {
    const lines: string[] = [];
    const h = createHeadcount(onOptions(endpoint, { log: (l) => lines.push(l), schedule: { firstDelayMs: [60_000, 60_000] } }));
    h.start();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^telemetry is ON .* ACME_TELEMETRY_DISABLED=1$/);
    void h.shutdown({ timeoutMs: 10 });
  });
});
