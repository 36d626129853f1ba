/**
 * readCollected(): collect()'s result read without trusting it, in process (the child-process
 * versions are in test/host-safety.test.ts and test/sdk-hardening.test.ts). Pins which shapes are
 * refused, which are read, what is left out, and the exact warning for each.
 */
import { describe, expect, it } from 'vitest';
import { MAX_COLLECT_KEYS, readCollected } from '../../src/active.ts';
import { resolveOptions } from '../../src/headcount.ts';
import { onOptions } from '../helpers/sender.ts';

function withLog() {
  const lines: string[] = [];
  return { lines, o: resolveOptions(onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l) })) };
}

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

describe('readCollected: the shape of the result', () => {
  it('undefined and null are an empty report, without a warning', () => {
    const { lines, o } = withLog();
    expect(readCollected(undefined, o)).toEqual({});
    expect(readCollected(null, o)).toEqual({});
    expect(lines).toEqual([]);
  });

  it('a value that is not an object, an array or a revoked proxy is not a report', () => {
    const { lines, o } = withLog();
    expect(readCollected('quantities', o)).toBeUndefined();
    expect(readCollected(42, o)).toBeUndefined();
    expect(readCollected(true, o)).toBeUndefined();
    expect(readCollected([], o)).toBeUndefined();
    expect(readCollected(Object.assign([], { quantities: { servers: 1 } }), o)).toBeUndefined();
    expect(readCollected(revoked(), o)).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('a section that is null, not an object, or an array makes the whole result not a report', () => {
    const { lines, o } = withLog();
    expect(readCollected({ quantities: null }, o)).toBeUndefined();
    expect(readCollected({ quantities: 5 }, o)).toBeUndefined();
    expect(readCollected({ quantities: 'servers' }, o)).toBeUndefined();
    expect(readCollected({ flags: true }, o)).toBeUndefined();
    expect(readCollected({ quantities: [] }, o)).toBeUndefined();
    expect(readCollected({ flags: [true] }, o)).toBeUndefined();
    // The other section being fine does not save it.
    expect(readCollected({ quantities: { servers: 1 }, flags: [] }, o)).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('a missing section is left out; a present one is copied with its declared names only', () => {
    const { lines, o } = withLog();
    expect(readCollected({}, o)).toEqual({});
    expect(readCollected({ quantities: { servers: 3 } }, o)).toEqual({ quantities: { servers: 3 } });
    expect(readCollected({ flags: { sso_enabled: true } }, o)).toEqual({ flags: { sso_enabled: true } });
    expect(readCollected({ quantities: {}, flags: {} }, o)).toEqual({ quantities: {}, flags: {} });
    expect(lines).toEqual([]);
  });
});

describe('readCollected: reading without trusting', () => {
  it('a section whose getter throws is left out with a warning naming the section', () => {
    const { lines, o } = withLog();
    const report = {
      get quantities(): unknown {
        throw new Error('secret-value-1');
      },
      flags: { sso_enabled: true },
    };
    expect(readCollected(report, o)).toEqual({ flags: { sso_enabled: true } });
    const report2 = {
      quantities: { servers: 2 },
      get flags(): unknown {
        throw new Error('secret-value-2');
      },
    };
    expect(readCollected(report2, o)).toEqual({ quantities: { servers: 2 } });
    expect(lines).toEqual(['collect(): reading quantities threw; its values were left out', 'collect(): reading flags threw; its values were left out']);
  });

  it('a section that is a revoked proxy is left out with the same warning (not one per name)', () => {
    const { lines, o } = withLog();
    expect(readCollected({ quantities: revoked(), flags: { external_db: false } }, o)).toEqual({ flags: { external_db: false } });
    expect(readCollected({ flags: revoked() }, o)).toEqual({});
    expect(lines).toEqual(['collect(): reading quantities threw; its values were left out', 'collect(): reading flags threw; its values were left out']);
  });

  it('a declared value whose getter throws is left out with a warning naming it (quantity / flag)', () => {
    const { lines, o } = withLog();
    const quantities = {
      servers: 4,
      get users(): number {
        throw new Error('secret-value-3');
      },
    };
    const flags = {
      get sso_enabled(): boolean {
        throw new Error('secret-value-4');
      },
      external_db: true,
    };
    expect(readCollected({ quantities, flags }, o)).toEqual({ quantities: { servers: 4 }, flags: { external_db: true } });
    expect(lines).toEqual(['collect(): quantity "users" could not be read; left out', 'collect(): flag "sso_enabled" could not be read; left out']);
    expect(lines.join('\n')).not.toMatch(/secret/);
  });

  it('only own properties are read: a declared name on the prototype is not a value', () => {
    const { lines, o } = withLog();
    const quantities = Object.create({ servers: 9 }) as object;
    const flags = Object.create({ sso_enabled: true }) as object;
    expect(readCollected({ quantities, flags }, o)).toEqual({ quantities: {}, flags: {} });
    expect(lines).toEqual([]);
  });

  it('a proxy section is read by declared name only: no warning about other keys', () => {
    const { lines, o } = withLog();
    const section = new Proxy({ servers: 1, tenants: 2 }, {});
    expect(readCollected({ quantities: section }, o)).toEqual({ quantities: { servers: 1 } });
    expect(lines).toEqual([]);
  });
});

describe('readCollected: undeclared names', () => {
  it('an undeclared key is warned about by kind and name, and not copied', () => {
    const { lines, o } = withLog();
    expect(readCollected({ quantities: { servers: 1, tenants: 2 }, flags: { sso_enabled: false, beta_ui: true } }, o)).toEqual({
      quantities: { servers: 1 },
      flags: { sso_enabled: false },
    });
    expect(lines).toEqual([
      'collect(): quantity: "tenants" is not declared in the catalog; ignored',
      'collect(): flag: "beta_ui" is not declared in the catalog; ignored',
    ]);
  });

  it(`exactly ${MAX_COLLECT_KEYS} keys are all looked at; one more and the walk stops with a warning`, () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [i < 2 ? ['servers', 'users'][i]! : `k${i}`, 1]));
    const atCap = withLog();
    expect(readCollected({ quantities: keys(MAX_COLLECT_KEYS) }, atCap.o)).toEqual({ quantities: { servers: 1, users: 1 } });
    expect(atCap.lines.filter((l) => l.includes('more than'))).toEqual([]);
    const over = withLog();
    expect(readCollected({ flags: keys(MAX_COLLECT_KEYS + 1) }, over.o)).toEqual({ flags: {} });
    expect(over.lines.filter((l) => l.includes('more than'))).toEqual([`collect(): flags has more than ${MAX_COLLECT_KEYS} keys; only declared names were read`]);
  });
});
