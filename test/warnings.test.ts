/**
 * Bad input from the host never floods its logs nor echoes what could be personal or secret:
 * undeclared names are reported once each, up to a cap, and only when shaped like a name.
 */
import { describe, expect, it } from 'vitest';
import { createHeadcount } from '../src/index.ts';
import { MAX_UNDECLARED_WARNINGS, shownName } from '../src/headcount.ts';
import { onOptions } from './helpers/sender.ts';

describe('warnings about undeclared names', () => {
  it('name the key once, never a value that is not shaped like a catalog name', () => {
    const lines: string[] = [];
    const h = createHeadcount(onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l) }));
    h.feature('exprot_csv');
    h.feature('exprot_csv');
    for (const secret of ['alice@example.com', '203.0.113.7', 'ghp_0123456789abcdefABCDEF', 'https://u:p@db.internal', '/home/alice']) h.feature(secret);
    expect(lines.filter((l) => l.includes('"exprot_csv"'))).toHaveLength(1);
    const text = lines.join('\n');
    for (const leak of ['alice', '203.0.113', 'ghp_', 'db.internal', '/home']) expect(text).not.toContain(leak);
    expect(text).toContain('not shown');
  });

  it('are capped, so dynamic names cannot crowd out the warnings that matter', async () => {
    const lines: string[] = [];
    const collect = () => {
      throw new Error('boom');
    };
    const h = createHeadcount(onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l), collect, schedule: { maxAttempts: 1 } }));
    for (let i = 0; i < 500; i++) h.feature(`dynamic_${i}`);
    expect(lines.filter((l) => l.startsWith('feature(): "dynamic_'))).toHaveLength(MAX_UNDECLARED_WARNINGS);
    expect(lines.filter((l) => l.includes('more undeclared names'))).toHaveLength(1);
    // The same handle's other warnings still get through afterwards.
    await h.sendNow();
    expect(lines.at(-1)).toMatch(/^collect\(\) threw Error/);
    await h.shutdown({ timeoutMs: 100 });
  });

  it('shownName quotes catalog-shaped names only', () => {
    expect(shownName('export_csv')).toBe('"export_csv"');
    expect(shownName('Export-CSV')).toMatch(/not shown/);
    expect(shownName(42)).toMatch(/not shown/);
  });
});
