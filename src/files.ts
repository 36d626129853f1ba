/**
 * Bounded reads of Headcount's own small files (state, preference, pending feature counts,
 * ledger). A file in the state dir may be corrupt or crafted: a FIFO, a link to a device, a huge
 * file. Reads open it non-blocking, accept only a regular file, and read at most `maxBytes`, so
 * no such file can block the event loop, a thread-pool thread or memory. Callers treat a
 * `LocalFileError` like corrupt content.
 */
import { fs, fsp } from './builtins.ts';

export class LocalFileError extends Error {
  override readonly name = 'LocalFileError';
}

const READ_FLAGS = () => fs().constants.O_RDONLY | (fs().constants.O_NONBLOCK ?? 0);

/** The file's text (at most `maxBytes`), or undefined when it does not exist. Throws `LocalFileError` when it is not a small regular file. */
export function readSmallFileSync(file: string, maxBytes: number): string | undefined {
  const f = fs();
  let fd: number;
  try {
    fd = f.openSync(file, READ_FLAGS());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stat = f.fstatSync(fd);
    if (!stat.isFile()) throw new LocalFileError('not a regular file');
    if (stat.size > maxBytes) throw new LocalFileError(`larger than ${maxBytes} B`);
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 1));
    let n = 0;
    // Stryker disable next-line EqualityOperator: equivalent, at n === buffer.length a read of length 0 returns 0 and breaks the loop
    while (n < buffer.length) {
      const read = f.readSync(fd, buffer, n, buffer.length - n, n);
      if (read === 0) break;
      n += read;
    }
    if (n > maxBytes) throw new LocalFileError(`larger than ${maxBytes} B`);
    return buffer.toString('utf8', 0, n);
  } finally {
    f.closeSync(fd);
  }
}

/**
 * Reads a regular file without blocking: all of it when it holds at most `maxBytes`; otherwise
 * `tail: true` gives its last `maxBytes` (the caller drops the first, partial line) and
 * `tail: false` throws `LocalFileError`. Undefined when the file does not exist.
 */
export async function readSmallFile(file: string, maxBytes: number, tail = false): Promise<string | undefined> {
  let handle: Awaited<ReturnType<ReturnType<typeof fsp>['open']>>;
  try {
    handle = await fsp().open(file, READ_FLAGS());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new LocalFileError('not a regular file');
    if (stat.size > maxBytes && !tail) throw new LocalFileError(`larger than ${maxBytes} B`);
    const start = Math.max(0, stat.size - maxBytes);
    const buffer = Buffer.alloc(Math.min(maxBytes, stat.size));
    let n = 0;
    // Stryker disable next-line EqualityOperator: equivalent, at n === buffer.length a read of length 0 returns 0 and breaks the loop
    while (n < buffer.length) {
      const { bytesRead } = await handle.read(buffer, n, buffer.length - n, start + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buffer.toString('utf8', 0, n);
  } finally {
    await handle.close();
  }
}
