import { describe, expect, it } from 'vitest';
import { catalogFingerprint, createHeadcount, defineCatalog } from '../src/index.ts';
import { catalog } from '../examples/acme-app/telemetry.ts';
import { startCaptureServer } from './helpers/capture-server.ts';
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

  it('changes with any name, including feature names, and with the kind a name is declared as', () => {
    const purpose = { purpose: 'A purpose sentence.' };
    const base = defineCatalog({ quantities: { servers: purpose }, flags: { sso: purpose }, features: { export_csv: purpose } });
    const variants = [
      defineCatalog({ quantities: { servers: purpose }, flags: { sso: purpose }, features: { export_pdf: purpose } }),
      defineCatalog({ quantities: { servers: purpose }, flags: { sso: purpose }, features: { export_csv: purpose, import_csv: purpose } }),
      defineCatalog({ quantities: { servers: purpose }, flags: { sso: purpose } }),
      defineCatalog({ quantities: { users: purpose }, flags: { sso: purpose }, features: { export_csv: purpose } }),
      defineCatalog({ quantities: { servers: purpose }, flags: { ldap: purpose }, features: { export_csv: purpose } }),
      defineCatalog({ quantities: { servers: purpose, sso: purpose }, features: { export_csv: purpose } }),
    ];
    const prints = [base, ...variants].map(catalogFingerprint);
    for (const p of prints) expect(p).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('a new feature name turns telemetry off until accepted', () => {
    const grown = defineCatalog({
      quantities: Object.fromEntries(catalog.quantities),
      flags: Object.fromEntries(catalog.flags),
      features: { ...Object.fromEntries(catalog.features), import_csv: { purpose: 'Whether CSV import is used.' } },
    });
    expect(createHeadcount({ ...withAccept(catalogFingerprint(catalog)), catalog: grown }).settings.enabled).toBe(false);
    expect(createHeadcount({ ...withAccept(catalogFingerprint(grown)), catalog: grown }).settings.enabled).toBe(true);
  });

  it('logs one notice line at start, before anything is sent', async () => {
    const server = await startCaptureServer();
    try {
      const lines: Array<{ line: string; sentBefore: number }> = [];
      const h = createHeadcount(onOptions(server.url, { log: (line) => lines.push({ line, sentBefore: server.requests.length }) }));
      h.start();
      // The first heartbeat is due at once (firstDelayMs 0): wait until it has arrived.
      await server.waitFor(1, 10_000);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.line).toMatch(/^telemetry is ON .* ACME_TELEMETRY_DISABLED=1$/);
      expect(lines[0]!.sentBefore).toBe(0);
      await h.shutdown({ timeoutMs: 200 });
    } finally {
      await server.close();
    }
  });
});
