/**
 * headcount.ts's log discipline: each distinct line once per process, at most 1 001 distinct
 * lines; undeclared names warned once each, at most MAX_UNDECLARED_WARNINGS names (then one
 * "more are ignored" line per caller); a name is quoted only when shaped like a catalog name of
 * at most 40 characters. Also the TypeErrors for a missing options object or product.
 */
import { describe, expect, it } from 'vitest';
import { createHeadcount, MAX_UNDECLARED_WARNINGS, resolveOptions, shownName } from '../../src/headcount.ts';
import { SERVICE_NAME_PATTERN } from '../../src/patterns.ts';
import type { HeadcountOptions } from '../../src/index.ts';
import options from '../../examples/acme-app/telemetry.ts';
import { onOptions } from '../helpers/sender.ts';

const withSink = () => {
  const lines: string[] = [];
  const o = resolveOptions(onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l) }));
  return { o, lines };
};

describe('resolveOptions: what is not an options object with a product throws the TypeError', () => {
  const message = `headcount: product must match ${SERVICE_NAME_PATTERN.source}`;
  it('no options at all', () => {
    expect(() => resolveOptions(undefined as unknown as HeadcountOptions)).toThrow(new TypeError(message));
    expect(() => createHeadcount(undefined as unknown as HeadcountOptions)).toThrow(new TypeError(message));
  });
  it('no product (its string form "undefined" would match the grammar)', () => {
    expect(() => resolveOptions({ ...options, product: undefined } as unknown as HeadcountOptions)).toThrow(new TypeError(message));
  });
});

describe('log(): each distinct line once per process', () => {
  it('a repeated line reaches the sink once; a different line still does', () => {
    const { o, lines } = withSink();
    o.log('a warning');
    o.log('a warning');
    o.log('another warning');
    o.log('a warning');
    expect(lines).toEqual(['a warning', 'another warning']);
  });

  it('at most 1 001 distinct lines reach the sink, then nothing more', () => {
    const { o, lines } = withSink();
    for (let i = 0; i < 1_100; i++) o.log(`line ${i}`);
    expect(lines).toHaveLength(1_001);
    expect(lines.at(-1)).toBe('line 1000');
  });
});

describe('warnUndeclared(): once per name, whoever reports it', () => {
  it('a name already reported by feature() is not reported again by collect()', () => {
    const { o, lines } = withSink();
    o.warnUndeclared('feature()', 'export_pdf');
    o.warnUndeclared('collect(): flag', 'export_pdf');
    o.warnUndeclared('feature()', 'export_pdf');
    expect(lines).toEqual(['feature(): "export_pdf" is not declared in the catalog; ignored']);
  });

  it(`after ${MAX_UNDECLARED_WARNINGS} names: one "more are ignored" line, then silence from every caller`, () => {
    const { o, lines } = withSink();
    for (let i = 0; i <= MAX_UNDECLARED_WARNINGS; i++) o.warnUndeclared('feature()', `name_${i}`);
    o.warnUndeclared('collect(): flag', 'yet_another');
    o.warnUndeclared('collect(): flag', 'name_0');
    expect(lines).toHaveLength(MAX_UNDECLARED_WARNINGS + 1);
    expect(lines.slice(0, MAX_UNDECLARED_WARNINGS)).toEqual(
      Array.from({ length: MAX_UNDECLARED_WARNINGS }, (_, i) => `feature(): "name_${i}" is not declared in the catalog; ignored`),
    );
    expect(lines.at(-1)).toBe('feature(): more undeclared names are ignored without a warning');
  });
});

describe('shownName', () => {
  it('a catalog-shaped name of up to 40 characters is quoted; 41 or more is not shown', () => {
    const hidden = 'a name not shaped like a catalog name (not shown)';
    expect(shownName('a'.repeat(40))).toBe(`"${'a'.repeat(40)}"`);
    expect(shownName('a'.repeat(41))).toBe(hidden);
    expect(shownName('b'.repeat(63))).toBe(hidden);
  });

  it('a value that is not a string is not shown', () => {
    const hidden = 'a name not shaped like a catalog name (not shown)';
    expect(shownName(42)).toBe(hidden);
    expect(shownName(undefined)).toBe(hidden);
    expect(shownName({ toString: () => 'export_csv' })).toBe(hidden);
  });
});
