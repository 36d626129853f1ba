/**
 * src/local.ts parseLedgerLine: which ledger lines are read back. A line is read only when it is
 * shaped exactly as Headcount writes it (README, "The ledger"); the bounds are inclusive where a
 * real send can reach them (0 B, status 0 for no response, Retry-After 0, 0 redacted).
 */
import { describe, expect, it } from 'vitest';
import { parseLedgerLine, type LedgerEntry } from '../../src/local.ts';

const HASH = 'ab'.repeat(32);
const base: LedgerEntry = { time: '2026-05-10T09:00:00.000Z', signal: 'metrics', bytes: 120, sha256: HASH, status: 200 };
const line = (over: Record<string, unknown>) => JSON.stringify({ ...base, ...over });

describe('parseLedgerLine', () => {
  it('reads a line as written, with and without the optional fields', () => {
    expect(parseLedgerLine(line({}))).toEqual(base);
    expect(parseLedgerLine(line({ redacted: 2, retryAfterMs: 1500 }))).toEqual({ ...base, redacted: 2, retryAfterMs: 1500 });
  });

  it('a line of exactly 512 characters is read; 513 is not', () => {
    const json = line({});
    const at = (n: number) => `${json.slice(0, -1)}${' '.repeat(n - json.length)}}`;
    expect(at(512)).toHaveLength(512);
    expect(parseLedgerLine(at(512))).toEqual(base);
    expect(parseLedgerLine(at(513))).toBeUndefined();
  });

  it('JSON that is not an object is skipped, never thrown', () => {
    for (const text of ['null', '5', '"x"', 'true', '[]']) expect(parseLedgerLine(text), text).toBeUndefined();
  });

  it('time must be exactly an ISO time with milliseconds: nothing before or after it', () => {
    expect(parseLedgerLine(line({ time: `x${base.time}` }))).toBeUndefined();
    expect(parseLedgerLine(line({ time: `${base.time}x` }))).toBeUndefined();
    expect(parseLedgerLine(line({ time: `${base.time}\n` }))).toBeUndefined();
    expect(parseLedgerLine(line({ time: '2026-05-10T09:00:00Z' }))).toBeUndefined();
  });

  it('sha256 must be exactly 64 lowercase hex characters', () => {
    expect(parseLedgerLine(line({ sha256: `${HASH}a` }))).toBeUndefined();
    expect(parseLedgerLine(line({ sha256: `a${HASH}` }))).toBeUndefined();
    expect(parseLedgerLine(line({ sha256: `x${HASH}` }))).toBeUndefined();
    expect(parseLedgerLine(line({ sha256: `${HASH}x` }))).toBeUndefined();
    expect(parseLedgerLine(line({ sha256: HASH.toUpperCase() }))).toBeUndefined();
  });

  it('bytes: 0 is read, negative is not', () => {
    expect(parseLedgerLine(line({ bytes: 0 }))).toEqual({ ...base, bytes: 0 });
    expect(parseLedgerLine(line({ bytes: -1 }))).toBeUndefined();
  });

  it('status: 0 (no response) to 999 are read; -1 and 1000 are not', () => {
    expect(parseLedgerLine(line({ status: 0 }))).toEqual({ ...base, status: 0 });
    expect(parseLedgerLine(line({ status: 999 }))).toEqual({ ...base, status: 999 });
    expect(parseLedgerLine(line({ status: -1 }))).toBeUndefined();
    expect(parseLedgerLine(line({ status: 1000 }))).toBeUndefined();
    expect(parseLedgerLine(line({ status: 200.5 }))).toBeUndefined();
  });

  it('redacted and retryAfterMs: 0 is read, negative or fractional is not', () => {
    expect(parseLedgerLine(line({ redacted: 0 }))).toEqual({ ...base, redacted: 0 });
    expect(parseLedgerLine(line({ redacted: -1 }))).toBeUndefined();
    expect(parseLedgerLine(line({ redacted: 1.5 }))).toBeUndefined();
    expect(parseLedgerLine(line({ retryAfterMs: 0 }))).toEqual({ ...base, retryAfterMs: 0 });
    expect(parseLedgerLine(line({ retryAfterMs: -1 }))).toBeUndefined();
    expect(parseLedgerLine(line({ retryAfterMs: 1.5 }))).toBeUndefined();
  });
});
