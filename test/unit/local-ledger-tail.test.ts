/**
 * src/local.ts ledger files (README, "The ledger"): appendLedger trims to whole valid lines of the
 * newer half, readLedger reads the newest 64 KiB. A line cut by either window is never read, even
 * when its tail looks like an entry; every whole line inside the window is read, also when the
 * window starts right after a newline (before the fix, that first whole line was dropped).
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, writeFileSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendLedger, LEDGER_MAX_BYTES, readLedger, type LedgerEntry } from '../../src/local.ts';
import { tempDir } from '../helpers/sender.ts';

const HASH = 'c'.repeat(64);
/** Entry `i`; `wide` makes its line one byte longer (bytes has 5 digits, not 4). */
const entry = (i: number, wide = false): LedgerEntry => ({
  time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  signal: 'logs',
  bytes: (wide ? 10_000 : 1_000) + (i % 1_000),
  sha256: HASH,
  status: 202,
});
const lineOf = (e: LedgerEntry) => `${JSON.stringify(e)}\n`;
const L = lineOf(entry(0)).length;

/** Entries from index `from` whose lines add up to exactly `total` bytes. */
function entriesOfTotal(total: number, from: number): LedgerEntry[] {
  const n = Math.floor(total / L);
  const wide = total - n * L;
  expect(wide).toBeLessThanOrEqual(n);
  const out = Array.from({ length: n }, (_, k) => entry(from + k, k < wide));
  expect(out.map(lineOf).join('').length).toBe(total);
  return out;
}

const ledger = (dir: string) => join(dir, 'ledger.jsonl');
const times = (entries: LedgerEntry[]) => entries.map((e) => e.time);

describe('readLedger', () => {
  it('a ledger of exactly 64 KiB is read whole, its first line included', async () => {
    const dir = tempDir();
    const entries = entriesOfTotal(LEDGER_MAX_BYTES, 0);
    writeFileSync(ledger(dir), entries.map(lineOf).join(''));
    expect(times(await readLedger(dir))).toEqual(times(entries));
  });

  it('past 64 KiB, when the window starts right after a newline, every whole line in it is read', async () => {
    const dir = tempDir();
    const older = [entry(900), entry(901)];
    const newer = entriesOfTotal(LEDGER_MAX_BYTES - 1, 0);
    writeFileSync(ledger(dir), [...older, ...newer].map(lineOf).join(''));
    expect(times(await readLedger(dir))).toEqual(times(newer));
  });

  it('past 64 KiB, a line cut by the window is not read, even when its tail is shaped like an entry', async () => {
    const dir = tempDir();
    const cutTail = ` ${JSON.stringify(entry(950))}\n`;
    const newer = entriesOfTotal(LEDGER_MAX_BYTES - cutTail.length, 0);
    writeFileSync(ledger(dir), `${lineOf(entry(900))}x${cutTail}${newer.map(lineOf).join('')}`);
    expect(times(await readLedger(dir))).toEqual(times(newer));
  });

  it('under 64 KiB the ledger is read whole: a first line with leading space (still JSON) counts', async () => {
    const dir = tempDir();
    writeFileSync(ledger(dir), ` ${lineOf(entry(1))}${lineOf(entry(2))}`);
    expect(times(await readLedger(dir))).toEqual(times([entry(1), entry(2)]));
  });
});

describe('appendLedger trimming', () => {
  it('when the newer half holds exactly k whole lines, all k are kept (the new one last)', async () => {
    const dir = tempDir();
    writeFileSync(ledger(dir), Array.from({ length: 20 }, (_, i) => lineOf(entry(i))).join(''));
    const k = 8;
    await appendLedger(dir, entry(20), 2 * k * L);
    const expected = Array.from({ length: k }, (_, i) => entry(21 - k + i));
    expect(readFileSync(ledger(dir), 'utf8')).toBe(expected.map(lineOf).join(''));
  });

  it('the newer half drops its first line when that line is cut, even when its tail is a whole entry', async () => {
    const dir = tempDir();
    const kept = [entry(31), entry(32), entry(33)];
    const crafted = `x${JSON.stringify(entry(30))}\n`;
    const older = Array.from({ length: 20 }, (_, i) => lineOf(entry(i))).join('');
    writeFileSync(ledger(dir), `${older}${lineOf(entry(29))}${crafted}${kept.map(lineOf).join('')}`);
    // Half the cap + 1 B starts at the `{` of the crafted line.
    const half = crafted.length - 1 + kept.length * L + L - 1;
    await appendLedger(dir, entry(34), 2 * half);
    expect(readFileSync(ledger(dir), 'utf8')).toBe([...kept, entry(34)].map(lineOf).join(''));
  });

  it('junk lines in the newer half are dropped', async () => {
    const dir = tempDir();
    const older = Array.from({ length: 10 }, (_, i) => lineOf(entry(100 + i))).join('');
    const junk = ['not json\n', '{"time":"x"}\n'];
    writeFileSync(ledger(dir), `${older}${lineOf(entry(1))}${lineOf(entry(2))}${junk[0]}${lineOf(entry(3))}${junk[1]}`);
    // Half the cap + 1 B starts at the newline before entry 2.
    await appendLedger(dir, entry(4), 2 * (3 * L + junk[0]!.length + junk[1]!.length));
    expect(readFileSync(ledger(dir), 'utf8')).toBe([entry(2), entry(3), entry(4)].map(lineOf).join(''));
  });

  it('leaves no file descriptor open on the ledger', async () => {
    const dir = tempDir();
    await appendLedger(dir, entry(1));
    await appendLedger(dir, entry(2));
    const open = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(join('/proc/self/fd', fd))];
      } catch {
        return [];
      }
    });
    expect(open.filter((target) => target.startsWith(dir))).toEqual([]);
  });
});

describe('a FIFO planted as the ledger', () => {
  let fifo: string | undefined;
  afterEach(() => {
    // Releases a writer blocked on the FIFO (only a broken build blocks there).
    if (fifo !== undefined && existsSync(fifo) && !lstatSync(fifo).isFile()) closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    fifo = undefined;
  });

  it('fails at once and is replaced by a file holding the new line (no reader needed)', async () => {
    const dir = tempDir();
    fifo = ledger(dir);
    execFileSync('mkfifo', [fifo]);
    await appendLedger(dir, entry(1));
    expect(lstatSync(fifo).isFile()).toBe(true);
    expect(readFileSync(fifo, 'utf8')).toBe(lineOf(entry(1)));
  });
});
