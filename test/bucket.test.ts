import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf } from '../src/bucket.ts';
import { CatalogError, defineCatalog } from '../src/catalog.ts';

describe('bucketOf', () => {
  it('maps edges to half-open buckets', () => {
    const cases: Array<[number, string]> = [
      [0, '0'], [0.5, '0'], [1, '1-9'], [9.99, '1-9'], [10, '10-99'], [99, '10-99'], [100, '100-999'],
      [999, '100-999'], [1000, '1k-9.9k'], [9999, '1k-9.9k'], [10_000, '10k-99k'], [99_999, '10k-99k'],
      [100_000, '100k-999k'], [999_999, '100k-999k'], [1_000_000, '1M+'], [1e12, '1M+'],
    ];
    for (const [value, label] of cases) expect(bucketOf(value), String(value)).toBe(label);
  });

  it('refuses anything that is not a finite number >= 0', () => {
    for (const bad of [-1, -0.1, NaN, Infinity, -Infinity, '5' as unknown as number, null as unknown as number]) {
      expect(bucketOf(bad)).toBeUndefined();
    }
  });

  it('is monotonic and always a declared label', () => {
    const labels = BUCKETS.map((b) => b.label as string);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e15, noNaN: true }), fc.double({ min: 0, max: 1e15, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const i = labels.indexOf(bucketOf(lo)!);
        const j = labels.indexOf(bucketOf(hi)!);
        return i >= 0 && j >= i;
      }),
    );
  });
});

describe('defineCatalog', () => {
  const purpose = 'Why the maintainers need this number.';
  it('accepts a valid catalog and freezes it', () => {
    const c = defineCatalog({ quantities: { servers: { purpose } }, flags: { sso: { purpose } }, features: { export_csv: { purpose } } });
    expect([...c.quantities.keys()]).toEqual(['servers']);
    expect(Object.isFrozen(c)).toBe(true);
  });
  it.each([
    [{ quantities: { Servers: { purpose } } }, /catalog.quantities: name "Servers" must match/],
    [{ quantities: { 'db.size': { purpose } } }, /"db.size"/],
    [{ flags: { '1st': { purpose } } }, /catalog.flags: name "1st"/],
    [{ features: { ['x'.repeat(64)]: { purpose } } }, /catalog.features: name/],
    [{ quantities: { servers: { purpose: '' } } }, /catalog.quantities.servers: needs a purpose/],
    [{ quantities: { servers: {} } }, /catalog.quantities.servers: needs a purpose/],
    [{ quantities: { servers: { purpose } }, flags: { servers: { purpose } } }, /catalog.flags.servers: already declared in catalog.quantities/],
    [{ quantities: [] }, /catalog.quantities: expected an object/],
  ])('rejects %j', (spec, message) => {
    expect(() => defineCatalog(spec as never)).toThrow(CatalogError);
    expect(() => defineCatalog(spec as never)).toThrow(message);
  });
});
