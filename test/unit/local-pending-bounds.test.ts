/**
 * src/local.ts pending feature counts (README, "Features"): counts that could not be sent at
 * shutdown are saved only when there are some, a failed save loses nothing saved before, at most
 * the newest 31 days are written and read back, and a day without one valid name is no day.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadPendingFeatures, savePendingFeatures } from '../../src/local.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { tempDir } from '../helpers/sender.ts';

const now = Date.UTC(2026, 4, 10, 9);
const today = now - (now % DAY_MS);
const FILE = 'pending-features.json';
const days = (counts: Map<number, Map<string, number>>) => [...counts].map(([day, m]) => [(today - day) / DAY_MS, Object.fromEntries(m)]);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('savePendingFeatures', () => {
  it('nothing pending: no file (nor state dir) is written', async () => {
    const dir = join(tempDir(), 'state');
    await savePendingFeatures(dir, new Map(), now);
    expect(existsSync(dir)).toBe(false);
  });

  it('a save that fails to write keeps the counts saved before on disk', async () => {
    const dir = tempDir();
    await savePendingFeatures(dir, new Map([[today, new Map([['a', 1]])]]), now);
    const before = readFileSync(join(dir, FILE), 'utf8');
    const fsp = process.getBuiltinModule('node:fs/promises');
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('no space left'), { code: 'ENOSPC' }));
    await expect(savePendingFeatures(dir, new Map([[today, new Map([['b', 1]])]]), now)).rejects.toThrow('no space left');
    expect(readFileSync(join(dir, FILE), 'utf8')).toBe(before);
    expect(days(loadPendingFeatures(dir, false, now))).toEqual([[0, { a: 1 }]]);
  });

  it('writes at most the newest 31 days, even when more are pending', async () => {
    const dir = tempDir();
    const pending = new Map(Array.from({ length: 40 }, (_, i) => [today - i * DAY_MS, new Map([['a', i + 1]])]));
    await savePendingFeatures(dir, pending, now);
    const written = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as [number, Record<string, number>][];
    expect(written).toHaveLength(31);
    expect(written.map(([day]) => (today - day) / DAY_MS).sort((a, b) => a - b)).toEqual(Array.from({ length: 31 }, (_, i) => i));
  });
});

describe('loadPendingFeatures', () => {
  function write(json: unknown) {
    const dir = tempDir();
    writeFileSync(join(dir, FILE), JSON.stringify(json));
    return dir;
  }

  it('removes the file by default', () => {
    const day = utcToday();
    const dir = write([[day, { a: 1 }]]);
    expect(Object.fromEntries(loadPendingFeatures(dir).get(day) ?? [])).toEqual({ a: 1 });
    expect(existsSync(join(dir, FILE))).toBe(false);
  });

  it('a day whose counts are null, not an object or an array is skipped, and the days after it are still read', () => {
    const dir = write([
      [today - DAY_MS, null],
      [today - DAY_MS, 5],
      [today - DAY_MS, 'abc'],
      [today - DAY_MS, ['a']],
      [today, { a: 1 }],
    ]);
    expect(days(loadPendingFeatures(dir, false, now))).toEqual([[0, { a: 1 }]]);
  });

  it('a day without one valid name is not read as a day', () => {
    const dir = write([
      [today - DAY_MS, { Bad: 1, zero: 0 }],
      [today, { a: 1 }],
    ]);
    const counts = loadPendingFeatures(dir, false, now);
    expect(counts.has(today - DAY_MS)).toBe(false);
    expect(days(counts)).toEqual([[0, { a: 1 }]]);
  });

  it('32 valid days (31 days ago to today) read back as the newest 31', () => {
    const dir = write(Array.from({ length: 32 }, (_, i) => [today - i * DAY_MS, { a: 1 }]));
    const counts = loadPendingFeatures(dir, false, now);
    expect(counts.size).toBe(31);
    expect(counts.has(today - 31 * DAY_MS)).toBe(false);
    expect(counts.has(today - 30 * DAY_MS)).toBe(true);
  });
});

function utcToday(): number {
  const t = Date.now();
  return t - (t % DAY_MS);
}
