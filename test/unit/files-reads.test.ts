/**
 * src/files.ts, the read itself: opened non-blocking (a FIFO planted as a state file cannot block),
 * a missing file is `undefined` while any other open error is thrown, the size bound is decided
 * by the stat, short reads are continued, a file that shrinks under the read ends it, the buffer
 * follows the file's size (not the bound), and the file is always closed.
 */
import { truncateSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fs, fsp } from '../../src/builtins.ts';
import { LocalFileError, readSmallFile, readSmallFileSync } from '../../src/files.ts';
import { tempDir } from '../helpers/sender.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function thrownSync(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

async function rejection(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function fileWith(text: string): string {
  const file = join(tempDir(), 'state.json');
  writeFileSync(file, text);
  return file;
}

/** Spies `fsp().open` and hands each opened handle to `wrap` (which may replace its methods). */
function onOpen(wrap: (handle: FileHandle) => void): FileHandle[] {
  const p = fsp();
  const open = p.open.bind(p);
  const handles: FileHandle[] = [];
  vi.spyOn(p, 'open').mockImplementation(async (...args: Parameters<typeof p.open>) => {
    const handle = await open(...args);
    handles.push(handle);
    wrap(handle);
    return handle;
  });
  return handles;
}

describe('the file is opened non-blocking (a FIFO cannot hold the open)', () => {
  it('sync', () => {
    const f = fs();
    const flags: number[] = [];
    const openSync = f.openSync.bind(f);
    vi.spyOn(f, 'openSync').mockImplementation(((file: string, flag: number) => {
      flags.push(flag);
      return openSync(file, flag);
    }) as typeof f.openSync);
    expect(readSmallFileSync(fileWith('{}'), 100)).toBe('{}');
    expect(flags).toHaveLength(1);
    expect(flags[0]! & f.constants.O_NONBLOCK).toBe(f.constants.O_NONBLOCK);
    expect(flags[0]! & (f.constants.O_WRONLY | f.constants.O_RDWR)).toBe(0); // read-only
  });

  it('async', async () => {
    const f = fs();
    const flags: unknown[] = [];
    const p = fsp();
    const open = p.open.bind(p);
    vi.spyOn(p, 'open').mockImplementation(async (file, flag, mode) => {
      flags.push(flag);
      return open(file, flag, mode);
    });
    expect(await readSmallFile(fileWith('{}'), 100)).toBe('{}');
    expect(flags).toHaveLength(1);
    expect((flags[0] as number) & f.constants.O_NONBLOCK).toBe(f.constants.O_NONBLOCK);
  });
});

describe('open errors', () => {
  it('a missing file is undefined; any other error (a path through a regular file) is thrown', async () => {
    const file = fileWith('{}');
    expect(readSmallFileSync(join(file, '..', 'missing.json'), 100)).toBeUndefined();
    expect(await readSmallFile(join(file, '..', 'missing.json'), 100)).toBeUndefined();
    expect((thrownSync(() => readSmallFileSync(join(file, 'x'), 100)) as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    expect(((await rejection(() => readSmallFile(join(file, 'x'), 100))) as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });
});

describe('the bound', () => {
  it('a file of exactly the bound is read whole; one byte more is refused naming the bound', async () => {
    expect(await readSmallFile(fileWith('abcdefgh'), 8)).toBe('abcdefgh');
    expect(readSmallFileSync(fileWith('abcdefgh'), 8)).toBe('abcdefgh');
    const sync = thrownSync(() => readSmallFileSync(fileWith('abcdefghi'), 8));
    expect(sync).toBeInstanceOf(LocalFileError);
    expect(sync.message).toBe('larger than 8 B');
    const async = await rejection(() => readSmallFile(fileWith('abcdefghi'), 8));
    expect(async).toBeInstanceOf(LocalFileError);
    expect(async.message).toBe('larger than 8 B');
  });

  it('tail is off unless asked: a larger file is refused; with tail, its last bytes are read', async () => {
    const file = fileWith('line one\nline two\n');
    expect((await rejection(() => readSmallFile(file, 10))).message).toBe('larger than 10 B');
    expect(await readSmallFile(file, 10, true)).toBe('\nline two\n');
  });

  it('a file too large at its stat is refused even if it shrank before the read', () => {
    const file = fileWith('abcdefghijkl');
    const f = fs();
    const fstatSync = f.fstatSync.bind(f);
    vi.spyOn(f, 'fstatSync').mockImplementation(((fd: number) => {
      const stat = fstatSync(fd);
      truncateSync(file, 4);
      return stat;
    }));
    const error = thrownSync(() => readSmallFileSync(file, 8));
    expect(error).toBeInstanceOf(LocalFileError);
    expect(error.message).toBe('larger than 8 B');
  });

  it('the buffer follows the file size, not the bound: a huge bound reads a small file', async () => {
    const file = fileWith('{"a":1}');
    expect(readSmallFileSync(file, Number.MAX_SAFE_INTEGER)).toBe('{"a":1}');
    expect(await readSmallFile(file, Number.MAX_SAFE_INTEGER)).toBe('{"a":1}');
    expect(await readSmallFile(file, Number.MAX_SAFE_INTEGER, true)).toBe('{"a":1}');
  });
});

describe('short reads and a shrinking file', () => {
  const text = 'abcdefghijklmnopqrstuvwxyz';

  it('sync: short reads (3 bytes at a time) are continued at the right place', () => {
    const f = fs();
    const readSync = f.readSync.bind(f);
    vi.spyOn(f, 'readSync').mockImplementation(((fd: number, buffer: Buffer, offset: number, length: number, position: number) =>
      readSync(fd, buffer, offset, Math.min(length, 3), position)) as typeof f.readSync);
    expect(readSmallFileSync(fileWith(text), 100)).toBe(text);
  });

  it('async: short reads (3 bytes at a time) are continued at the right place, whole file and tail', async () => {
    onOpen((handle) => {
      const read = handle.read.bind(handle);
      handle.read = ((buffer: Buffer, offset: number, length: number, position: number) => read(buffer, offset, Math.min(length, 3), position)) as typeof handle.read;
    });
    expect(await readSmallFile(fileWith(text), 100)).toBe(text);
    expect(await readSmallFile(fileWith(text), 10, true)).toBe(text.slice(-10));
  });

  it('async: a file that shrinks after its stat ends the read with what is there', async () => {
    const file = fileWith(text);
    onOpen((handle) => {
      const stat = handle.stat.bind(handle);
      handle.stat = (async (...args: Parameters<typeof handle.stat>) => {
        const s = await stat(...args);
        truncateSync(file, 5);
        return s;
      }) as typeof handle.stat;
    });
    expect(await readSmallFile(file, 100)).toBe('abcde');
  });
});

describe('the file is closed', () => {
  it('sync: after a read and after a refusal', () => {
    const f = fs();
    const fds: number[] = [];
    const openSync = f.openSync.bind(f);
    vi.spyOn(f, 'openSync').mockImplementation(((...args: Parameters<typeof f.openSync>) => {
      const fd = openSync(...args);
      fds.push(fd);
      return fd;
    }));
    readSmallFileSync(fileWith('{}'), 100);
    expect((thrownSync(() => f.fstatSync(fds[0]!)) as NodeJS.ErrnoException).code).toBe('EBADF');
    thrownSync(() => readSmallFileSync(fileWith('too large'), 2));
    expect((thrownSync(() => f.fstatSync(fds[1]!)) as NodeJS.ErrnoException).code).toBe('EBADF');
  });

  it('async: after a read and after a refusal', async () => {
    const handles = onOpen(() => {});
    await readSmallFile(fileWith('{}'), 100);
    await rejection(() => readSmallFile(fileWith('too large'), 2));
    expect(handles).toHaveLength(2);
    expect(handles.map((h) => h.fd)).toEqual([-1, -1]);
  });
});
