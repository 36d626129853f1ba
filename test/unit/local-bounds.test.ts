/**
 * src/local.ts bounds: the preference file, the ledger (a non-file planted as the ledger, trimming
 * to the newer half) and pending feature counts (which days, names and counts are read back).
 */
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendLedger, loadPendingFeatures, readLedger, readPreference, savePendingFeatures, trimDays, writePreference, type LedgerEntry } from '../../src/local.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { tempDir } from '../helpers/sender.ts';

const entry = (i: number): LedgerEntry => ({ time: new Date(i * 1000).toISOString(), signal: 'metrics', bytes: i, sha256: 'a'.repeat(64), status: 200 });

describe('preference', () => {
  it('reads back what was written; anything else is no preference', async () => {
    const dir = tempDir();
    expect(readPreference(dir)).toBeUndefined();
    await writePreference(dir, 'disabled');
    expect(readPreference(dir)).toBe('disabled');
    await writePreference(dir, 'enabled');
    expect(readPreference(dir)).toBe('enabled');
    for (const text of ['null', '{"telemetry":"maybe"}', '[]', 'not json', `{"telemetry":"disabled"}${' '.repeat(2000)}`]) {
      writeFileSync(join(dir, 'preference.json'), text);
      expect(readPreference(dir), text.slice(0, 30)).toBeUndefined();
    }
  });
});

describe('ledger', () => {
  it('a non-file planted as the ledger (a link to /dev/null) is replaced by a file holding the new line', async () => {
    const dir = tempDir();
    symlinkSync('/dev/null', join(dir, 'ledger.jsonl'));
    await appendLedger(dir, entry(1));
    expect(lstatSync(join(dir, 'ledger.jsonl')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'ledger.jsonl'), 'utf8')).toBe(`${JSON.stringify(entry(1))}\n`);
    expect(await readLedger(dir)).toEqual([entry(1)]);
  });

  it('appends while within the cap; past it, keeps only whole valid lines of the newer half, newest last', async () => {
    const dir = tempDir();
    const lineBytes = JSON.stringify(entry(100)).length + 1;
    const max = lineBytes * 10;
    for (let i = 100; i < 110; i++) await appendLedger(dir, entry(i), max);
    expect((await readLedger(dir)).map((e) => e.bytes)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    await appendLedger(dir, entry(110), max);
    const after = readFileSync(join(dir, 'ledger.jsonl'), 'utf8');
    expect(after.length).toBeLessThanOrEqual(max / 2 + 1);
    const kept = (await readLedger(dir)).map((e) => e.bytes);
    expect(kept.at(-1)).toBe(110);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 111 - kept.length + i));
    expect(after.endsWith('\n')).toBe(true);
    expect(after.split('\n').filter(Boolean).every((l) => l.startsWith('{') && l.endsWith('}'))).toBe(true);
  });
});

describe('pending feature counts', () => {
  const now = Date.UTC(2026, 4, 10, 9);
  const today = now - (now % DAY_MS);

  function load(json: unknown, remove = true) {
    const dir = tempDir();
    writeFileSync(join(dir, 'pending-features.json'), JSON.stringify(json));
    return { counts: loadPendingFeatures(dir, remove, now), exists: existsSync(join(dir, 'pending-features.json')) };
  }

  it('days from 31 days ago to today are read; older, later, or not a midnight are not', () => {
    const { counts } = load([
      [today - 31 * DAY_MS, { a: 1 }],
      [today - 32 * DAY_MS, { b: 1 }],
      [today, { c: 1 }],
      [today + DAY_MS, { d: 1 }],
      [today - DAY_MS + 1, { e: 1 }],
      ['x', { f: 1 }],
      [today - 2 * DAY_MS, { g: 1 }, 'extra'],
    ]);
    expect([...counts].map(([day, m]) => [(today - day) / DAY_MS, Object.fromEntries(m)])).toEqual([[31, { a: 1 }], [0, { c: 1 }]]);
  });

  it('names must be catalog-shaped and counts positive safe integers; the same day twice adds up', () => {
    const { counts } = load([
      [today, { ok: 2, Bad: 1, zero: 0, neg: -1, frac: 1.5, huge: 2 ** 60, text: '3' }],
      [today, { ok: 3 }],
      [today - DAY_MS, null],
      [today - DAY_MS, [1]],
    ]);
    expect([...counts].map(([day, m]) => [day, Object.fromEntries(m)])).toEqual([[today, { ok: 5 }]]);
  });

  it('at most 64 names a day and 62 entries are looked at', () => {
    const names = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`f${i}`, 1]));
    expect(load([[today, names]]).counts.get(today)!.size).toBe(64);
    const entries = [...Array.from({ length: 62 }, () => [today, { a: 1 }]), [today, { late: 1 }]];
    expect(Object.fromEntries(load(entries).counts.get(today)!)).toEqual({ a: 62 });
  });

  it('the file is removed by default, kept when asked', () => {
    expect(load([[today, { a: 1 }]]).exists).toBe(false);
    expect(load([[today, { a: 1 }]], false).exists).toBe(true);
  });

  it('save merges with what is on disk and keeps the newest 31 days', async () => {
    const dir = tempDir();
    await savePendingFeatures(dir, new Map([[today, new Map([['a', 1]])]]), now);
    await savePendingFeatures(dir, new Map([[today, new Map([['a', 2], ['b', 1]])]]), now);
    await savePendingFeatures(dir, new Map(), now);
    const counts = loadPendingFeatures(dir, false, now);
    expect(Object.fromEntries(counts.get(today)!)).toEqual({ a: 3, b: 1 });
  });

  it('trimDays keeps exactly the newest maxDays', () => {
    const counts = new Map([3, 1, 2].map((d) => [d, new Map([['a', 1]])]));
    trimDays(counts, 3);
    expect([...counts.keys()]).toEqual([3, 1, 2]);
    trimDays(counts, 2);
    expect([...counts.keys()].sort()).toEqual([2, 3]);
  });
});

