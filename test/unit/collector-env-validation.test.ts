/**
 * `collector.env` validation (src/collector-env.ts): the collector splices each list into an OTTL
 * statement, so a file that is not exactly the canonical output of `headcount collector-env` is
 * refused with a message naming the variable (and the line, for a line that is not a variable).
 * Operators read these messages to fix the file: they are asserted whole.
 */
import { describe, expect, it } from 'vitest';
import { parseCollectorEnv, renderCollectorLists } from '../../src/collector-env.ts';

const PRODUCTS = `HEADCOUNT_PRODUCTS='["acme"]'`;
const KEYS = `HEADCOUNT_HEARTBEAT_KEYS='["quantity.servers","flag.sso"]'`;
const FEATURES = `HEADCOUNT_FEATURE_NAMES='["export_csv"]'`;
const file = (...lines: string[]) => lines.join('\n');

describe('renderCollectorLists', () => {
  const ok = { products: ['acme'], heartbeatKeys: ['quantity.servers'], features: ['export_csv'] };

  it('renders each list as compact JSON', () => {
    expect(renderCollectorLists(ok)).toEqual({
      HEADCOUNT_PRODUCTS: '["acme"]',
      HEADCOUNT_HEARTBEAT_KEYS: '["quantity.servers"]',
      HEADCOUNT_FEATURE_NAMES: '["export_csv"]',
    });
    // Empty key and feature lists are valid (a catalog with no quantities, flags or features).
    expect(renderCollectorLists({ products: ['acme'], heartbeatKeys: [], features: [] }).HEADCOUNT_FEATURE_NAMES).toBe('[]');
  });

  it('refuses a name of the wrong shape, naming the variable, the name and the expected shape', () => {
    expect(() => renderCollectorLists({ ...ok, heartbeatKeys: ['quantity.servers', 'servers'] })).toThrow(
      new Error('HEADCOUNT_HEARTBEAT_KEYS: "servers" is not a valid name (expected ^(quantity|flag)\\.[a-z][a-z0-9_]{0,62}$)'),
    );
    expect(() => renderCollectorLists({ ...ok, features: ['Export'] })).toThrow(
      new Error('HEADCOUNT_FEATURE_NAMES: "Export" is not a valid name (expected ^[a-z][a-z0-9_]{0,62}$)'),
    );
    expect(() => renderCollectorLists({ ...ok, products: ['acme', 'a"b'] })).toThrow(
      new Error('HEADCOUNT_PRODUCTS: "a\\"b" is not a valid name (expected ^[a-z][a-z0-9_-]{0,62}$)'),
    );
  });

  it('refuses a name listed twice', () => {
    expect(() => renderCollectorLists({ ...ok, features: ['export_csv', 'export_csv'] })).toThrow(
      new Error('HEADCOUNT_FEATURE_NAMES: a name is listed twice'),
    );
  });

  it('refuses an empty product list', () => {
    expect(() => renderCollectorLists({ ...ok, products: [] })).toThrow(new Error('HEADCOUNT_PRODUCTS: at least one product is needed'));
  });
});

describe('parseCollectorEnv', () => {
  it('reads the canonical file, with comments and blank lines', () => {
    const parsed = parseCollectorEnv(file('# generated', '', PRODUCTS, '  ', KEYS, FEATURES, ''));
    expect(parsed.lists).toEqual({ products: ['acme'], heartbeatKeys: ['quantity.servers', 'flag.sso'], features: ['export_csv'] });
    expect(parsed.env).toEqual({
      HEADCOUNT_PRODUCTS: '["acme"]',
      HEADCOUNT_HEARTBEAT_KEYS: '["quantity.servers","flag.sso"]',
      HEADCOUNT_FEATURE_NAMES: '["export_csv"]',
    });
  });

  it('a line that is not one of the variables: names the line (1-based) and shows at most 80 characters of it', () => {
    const long = `OTHER=${'x'.repeat(100)}`;
    expect(() => parseCollectorEnv(file('# c', PRODUCTS, long))).toThrow(
      new Error(
        `collector env line 3: expected one of HEADCOUNT_PRODUCTS, HEADCOUNT_HEARTBEAT_KEYS, HEADCOUNT_FEATURE_NAMES=<JSON list>, got ${JSON.stringify(long.slice(0, 80))}`,
      ),
    );
    // No `=` at all.
    expect(() => parseCollectorEnv('HEADCOUNT_PRODUCTS')).toThrow(
      new Error('collector env line 1: expected one of HEADCOUNT_PRODUCTS, HEADCOUNT_HEARTBEAT_KEYS, HEADCOUNT_FEATURE_NAMES=<JSON list>, got "HEADCOUNT_PRODUCTS"'),
    );
  });

  it('a variable name with no `=` is a bad line, however close to a variable it is', () => {
    for (const line of ['HEADCOUNT_PRODUCTSX', "HEADCOUNT_PRODUCTS'[\"acme\"]'"]) {
      expect(() => parseCollectorEnv(file(line, KEYS, FEATURES)), line).toThrow(
        new Error(`collector env line 1: expected one of HEADCOUNT_PRODUCTS, HEADCOUNT_HEARTBEAT_KEYS, HEADCOUNT_FEATURE_NAMES=<JSON list>, got ${JSON.stringify(line)}`),
      );
    }
    expect(() => parseCollectorEnv(file(KEYS, "='x'"))).toThrow(/^collector env line 2: expected one of/);
  });

  it('the whole value must be single-quoted (nothing before the opening quote, nothing after the closing one)', () => {
    for (const value of [`x'["acme"]'`, `'["acme"]'x`, `'["acme"]`, `["acme"]'`]) {
      expect(() => parseCollectorEnv(file(`HEADCOUNT_PRODUCTS=${value}`, KEYS, FEATURES)), value).toThrow(
        new Error(`collector env: HEADCOUNT_PRODUCTS must be a single-quoted JSON list, got ${JSON.stringify(value)}`),
      );
    }
  });

  it('a variable set twice', () => {
    expect(() => parseCollectorEnv(file(PRODUCTS, KEYS, PRODUCTS, FEATURES))).toThrow(new Error('collector env: HEADCOUNT_PRODUCTS is set twice'));
  });

  it('a value that is not single-quoted: names the variable and shows at most 80 characters of the value', () => {
    const value = `["${'a'.repeat(100)}"]`;
    expect(() => parseCollectorEnv(file(`HEADCOUNT_PRODUCTS=${value}`, KEYS, FEATURES))).toThrow(
      new Error(`collector env: HEADCOUNT_PRODUCTS must be a single-quoted JSON list, got ${JSON.stringify(value.slice(0, 80))}`),
    );
  });

  it('a missing variable (an empty file from a failed redirect names the first one)', () => {
    expect(() => parseCollectorEnv('')).toThrow(
      new Error('collector env: HEADCOUNT_PRODUCTS is missing (regenerate it with `headcount collector-env --app <module>`)'),
    );
    expect(() => parseCollectorEnv(file(PRODUCTS, KEYS))).toThrow(
      new Error('collector env: HEADCOUNT_FEATURE_NAMES is missing (regenerate it with `headcount collector-env --app <module>`)'),
    );
  });

  it('a value that is not JSON (a leftover regex-style value): shows at most 80 characters of it', () => {
    const regex = `^(${'a'.repeat(50)}|${'b'.repeat(50)})$`;
    expect(() => parseCollectorEnv(file(PRODUCTS, `HEADCOUNT_HEARTBEAT_KEYS='${regex}'`, FEATURES))).toThrow(
      new Error(`collector env: HEADCOUNT_HEARTBEAT_KEYS is not a JSON list: ${JSON.stringify(regex.slice(0, 80))}`),
    );
  });

  it.each([`'{"a":"b"}'`, `'"acme"'`, `'["acme",1]'`])('JSON that is not a list of names: %s', (value) => {
    expect(() => parseCollectorEnv(file(`HEADCOUNT_PRODUCTS=${value}`, KEYS, FEATURES))).toThrow(
      new Error('collector env: HEADCOUNT_PRODUCTS is not a JSON list of names'),
    );
  });

  it('names of the wrong shape inside the file are refused like renderCollectorLists refuses them', () => {
    expect(() => parseCollectorEnv(file(`HEADCOUNT_PRODUCTS='[]'`, KEYS, FEATURES))).toThrow(new Error('HEADCOUNT_PRODUCTS: at least one product is needed'));
  });

  it('a list that parses but is not in canonical form (spaces, escapes) is refused', () => {
    expect(() => parseCollectorEnv(file(PRODUCTS, KEYS, `HEADCOUNT_FEATURE_NAMES='[ "export_csv" ]'`))).toThrow(
      new Error('collector env: HEADCOUNT_FEATURE_NAMES is not in canonical form (regenerate it with `headcount collector-env`)'),
    );
    expect(() => parseCollectorEnv(file(`HEADCOUNT_PRODUCTS='["\\u0061cme"]'`, KEYS, FEATURES))).toThrow(
      new Error('collector env: HEADCOUNT_PRODUCTS is not in canonical form (regenerate it with `headcount collector-env`)'),
    );
  });
});
