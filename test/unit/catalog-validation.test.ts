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

  it.each([null, 'servers', 5])('a section that is not an object (%j) is refused naming the section', (raw) => {
    const error = thrown(() => defineCatalog({ flags: raw } as never));
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as Error).message).toBe('catalog.flags: expected an object of name → { purpose }');
  });

  it('a bad name is shown cut to 80 characters', () => {
    const name = 'X'.repeat(200);
    const error = thrown(() => defineCatalog({ features: { [name]: { purpose } } }));
    expect((error as Error).message).toBe(
      `catalog.features: name ${JSON.stringify('X'.repeat(80))} must match ^[a-z][a-z0-9_]{0,62}$ (lowercase letters, digits, _; starts with a letter)`,
    );
  });

  it('a feature may share its name with a flag or a quantity; a flag may not share one with a quantity', () => {
    const c = defineCatalog({ quantities: { exports: { purpose } }, flags: { sso: { purpose } }, features: { sso: { purpose }, exports: { purpose } } });
    expect([...c.features.keys()]).toEqual(['sso', 'exports']);
    expect([...c.flags.keys()]).toEqual(['sso']);
    expect(() => defineCatalog({ quantities: { sso: { purpose } }, flags: { sso: { purpose } } })).toThrow(
      new CatalogError('catalog.flags.sso: already declared in catalog.quantities'),
    );
  });

  it('a purpose needs at least 8 characters besides surrounding blanks', () => {
    expect(defineCatalog({ flags: { sso: { purpose: 'Why SSO?' } } }).flags.get('sso')).toEqual({ purpose: 'Why SSO?' });
    for (const short of ['Why SSO', '   Why SSO    ', '\n\t  short   \n']) {
      expect(() => defineCatalog({ flags: { sso: { purpose: short } } }), JSON.stringify(short)).toThrow(
        new CatalogError('catalog.flags.sso: needs a purpose sentence (why the maintainers need it)'),
      );
    }
  });
});
