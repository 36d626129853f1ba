/**
 * The catalog is the reviewed list of everything a product may report. It is the single
 * source of truth: it drives the sender's attribute allow-list, the generated privacy doc
 * and the collector's allow-list. Nothing outside it can leave an install.
 */

import { crypto } from './builtins.ts';

/** Names become OTLP attribute keys and Prometheus label names: lowercase, digits, `_`. */
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export interface Entry {
  /** One sentence for the privacy notice: why the maintainers need this. */
  readonly purpose: string;
}

export interface QuantityEntry extends Entry {
  /** Optional unit for the privacy notice, e.g. "servers" or "GiB". */
  readonly unit?: string;
}

export interface CatalogSpec {
  /** Numbers; they leave only as buckets (see `BUCKETS`). */
  readonly quantities?: Readonly<Record<string, QuantityEntry>>;
  /** Booleans; they leave as 0/1. */
  readonly flags?: Readonly<Record<string, Entry>>;
  /** Features whose use is counted per day; the count leaves as a bucket. */
  readonly features?: Readonly<Record<string, Entry>>;
}

export interface Catalog {
  readonly quantities: ReadonlyMap<string, QuantityEntry>;
  readonly flags: ReadonlyMap<string, Entry>;
  readonly features: ReadonlyMap<string, Entry>;
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

const MAX_ENTRIES = 64;

/**
 * Checks and freezes a catalog. Throws `CatalogError` naming the offending entry: a catalog
 * is written by the product's developers, so a mistake should fail their first run.
 */
export function defineCatalog(spec: CatalogSpec): Catalog {
  if (spec === null || typeof spec !== 'object') throw new CatalogError('catalog: expected an object');
  const seen = new Map<string, string>();
  const section = <T extends Entry>(kind: 'quantities' | 'flags' | 'features'): ReadonlyMap<string, T> => {
    const raw = (spec as Record<string, unknown>)[kind];
    const out = new Map<string, T>();
    if (raw === undefined) return out;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new CatalogError(`catalog.${kind}: expected an object of name → { purpose }`);
    }
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length > MAX_ENTRIES) throw new CatalogError(`catalog.${kind}: at most ${MAX_ENTRIES} entries`);
    for (const [name, entry] of entries) {
      if (!NAME_PATTERN.test(name)) {
        throw new CatalogError(
          `catalog.${kind}: name ${JSON.stringify(name.slice(0, 80))} must match ${NAME_PATTERN.source} (lowercase letters, digits, _; starts with a letter)`,
        );
      }
      const other = seen.get(name);
      // A feature may share a name with a quantity or a flag (they leave under different keys);
      // quantities and flags may not. Features are checked last, so `other` is never 'features'.
      if (other !== undefined && kind !== 'features') {
        throw new CatalogError(`catalog.${kind}.${name}: already declared in catalog.${other}`);
      }
      seen.set(name, kind);
      const purpose = (entry as { purpose?: unknown } | null)?.purpose;
      if (typeof purpose !== 'string' || purpose.trim().length < 8) {
        throw new CatalogError(`catalog.${kind}.${name}: needs a purpose sentence (why the maintainers need it)`);
      }
      const unit = (entry as { unit?: unknown }).unit;
      if (unit !== undefined && typeof unit !== 'string') {
        throw new CatalogError(`catalog.${kind}.${name}: unit must be a string`);
      }
      out.set(name, Object.freeze({ ...(entry as T) }));
    }
    return out;
  };
  return Object.freeze({
    quantities: section<QuantityEntry>('quantities'),
    flags: section<Entry>('flags'),
    features: section<Entry>('features'),
  });
}

/**
 * A short fingerprint of what the catalog can send (its names, by kind). An operator who sets
 * `<PREFIX>_TELEMETRY_ACCEPT` to it consents to exactly this list: when an upgrade adds a field,
 * telemetry stays off until they review it and accept the new fingerprint.
 */
export function catalogFingerprint(catalog: Catalog): string {
  const canonical = JSON.stringify([[...catalog.quantities.keys()].sort(), [...catalog.flags.keys()].sort(), [...catalog.features.keys()].sort()]);
  return crypto().createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}
