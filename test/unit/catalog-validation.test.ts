/**
 * `defineCatalog` refuses a malformed catalog with a `CatalogError` whose message names the entry
 * (src/catalog.ts): the product's developers fix their catalog from that message on first run.
 */
import { describe, expect, it } from 'vitest';
import { CatalogError, defineCatalog } from '../../src/catalog.ts';

const purpose = 'Why the maintainers need this.';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('defineCatalog refusals', () => {
  it('the error is a CatalogError named so (an `instanceof`-free caller and a stack trace read the name)', () => {
    const error = thrown(() => defineCatalog({ quantities: { Bad: { purpose } } }));
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as Error).name).toBe('CatalogError');
    expect(String(error)).toMatch(/^CatalogError: catalog\.quantities: name "Bad"/);
  });

  it.each([null, undefined, 'quantities', 42, true])('a spec that is not an object (%j) is refused as such', (spec) => {
    const error = thrown(() => defineCatalog(spec as never));
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as Error).message).toBe('catalog: expected an object');
  });

  it('at most 64 entries per section: 64 pass, 65 are refused', () => {
    const entries = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, { purpose }]));
    expect(defineCatalog({ flags: entries(64) }).flags.size).toBe(64);
    expect(() => defineCatalog({ flags: entries(65) })).toThrow(new CatalogError('catalog.flags: at most 64 entries'));
    expect(() => defineCatalog({ features: entries(65) })).toThrow(new CatalogError('catalog.features: at most 64 entries'));
  });

  it('a unit must be a string when given', () => {
    expect(defineCatalog({ quantities: { disk: { purpose, unit: 'GiB' } } }).quantities.get('disk')).toEqual({ purpose, unit: 'GiB' });
    const error = thrown(() => defineCatalog({ quantities: { disk: { purpose, unit: 5 as never } } }));
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as Error).message).toBe('catalog.quantities.disk: unit must be a string');
  });
});
