/**
 * src/store.ts, FileStateStore errors: a state file that is no small regular file is a
 * `CorruptStateError` naming the file and the reason, with the `LocalFileError` as cause;
 * compareAndSet replaces a corrupt file but passes any other read error on (it writes nothing);
 * clear() with no state file is no error.
 */
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFileError } from '../../src/files.ts';
import { CorruptStateError, FileStateStore } from '../../src/store.ts';
import { tempDir } from '../helpers/sender.ts';

const A = { installId: '9b2f4c1e-3d5a-4b6c-8d7e-0f1a2b3c4d5e', idCreatedAt: 1_000 };

describe('FileStateStore.read: not a small regular file', () => {
  it('a directory: CorruptStateError "<file> is not a regular file", the LocalFileError as cause', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'state.json'));
    const error = (await new FileStateStore(dir).read().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error.message).toBe(`${join(dir, 'state.json')} is not a regular file`);
    expect(error.cause).toBeInstanceOf(LocalFileError);
  });

  it('a file over 4 KiB: CorruptStateError "<file> is larger than 4096 B"', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), 'x'.repeat(4097));
    const error = (await new FileStateStore(dir).read().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error.message).toBe(`${join(dir, 'state.json')} is larger than 4096 B`);
    expect(error.cause).toBeInstanceOf(LocalFileError);
  });
});

describe('FileStateStore.compareAndSet: read errors', () => {
  it('a corrupt state file counts as nothing stored and is replaced', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), 'not json');
    expect(await new FileStateStore(dir).compareAndSet(undefined, A)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toEqual(A);
  });

  it('an error that is not corruption (a symlink loop: ELOOP) is thrown, and nothing is written', async () => {
    const dir = tempDir();
    symlinkSync('state.json', join(dir, 'state.json'));
    const store = new FileStateStore(dir);
    await expect(store.read()).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(store.compareAndSet(undefined, A)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(readlinkSync(join(dir, 'state.json'))).toBe('state.json');
    // The lock was given back: a later call is not kept waiting.
    await expect(store.compareAndSet(undefined, A)).rejects.toMatchObject({ code: 'ELOOP' });
  });
});

describe('FileStateStore.clear', () => {
  it('removes the state file; with none there it is no error', async () => {
    const dir = tempDir();
    const store = new FileStateStore(dir);
    await expect(store.clear()).resolves.toBeUndefined();
    expect(await store.compareAndSet(undefined, A)).toBe(true);
    expect(await store.read()).toEqual(A);
    await store.clear();
    expect(await store.read()).toBeUndefined();
    await expect(store.clear()).resolves.toBeUndefined();
  });
});
