/**
 * Bounded reads of Headcount's own files (src/files.ts): anything but a small regular file is a
 * `LocalFileError` (callers treat it like corrupt content), including a file that grows past the
 * bound between its stat and its read.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fs } from '../../src/builtins.ts';
import { LocalFileError, readSmallFile, readSmallFileSync } from '../../src/files.ts';
import { tempDir } from '../helpers/sender.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

async function rejection(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('LocalFileError', () => {
  it('is named so', () => {
    expect(new LocalFileError('x').name).toBe('LocalFileError');
    expect(String(new LocalFileError('not a regular file'))).toBe('LocalFileError: not a regular file');
  });
});

describe('readSmallFileSync', () => {
  it('a directory is not a regular file', () => {
    const dir = join(tempDir(), 'state.json');
    mkdirSync(dir, { recursive: true });
    let error: unknown;
    try {
      readSmallFileSync(dir, 100);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LocalFileError);
    expect((error as Error).message).toBe('not a regular file');
  });

  it('a file of exactly the bound is read whole', () => {
    const file = join(tempDir(), 'state.json');
    writeFileSync(file, 'abcdefgh');
    expect(readSmallFileSync(file, 8)).toBe('abcdefgh');
  });

  it('a file that grows past the bound between stat and read is refused', () => {
    const file = join(tempDir(), 'state.json');
    writeFileSync(file, 'abcdefgh'); // exactly the bound: accepted by the stat
    const f = fs();
    const fstatSync = f.fstatSync.bind(f);
    vi.spyOn(f, 'fstatSync').mockImplementation(((fd: number) => {
      const stat = fstatSync(fd);
      appendFileSync(file, 'ijkl'); // a writer appends after the size was taken
      return stat;
    }));
    let error: unknown;
    try {
      readSmallFileSync(file, 8);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LocalFileError);
    expect((error as Error).message).toBe('larger than 8 B');
  });
});

describe('readSmallFile', () => {
  it('a directory is not a regular file', async () => {
    const dir = join(tempDir(), 'ledger.jsonl');
    mkdirSync(dir, { recursive: true });
    const error = await rejection(() => readSmallFile(dir, 100));
    expect(error).toBeInstanceOf(LocalFileError);
    expect(error.message).toBe('not a regular file');
    const tailError = await rejection(() => readSmallFile(dir, 100, true));
    expect(tailError.message).toBe('not a regular file');
  });
});
