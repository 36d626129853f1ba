/**
 * src/store.ts edges: an atomic write that fails rejects and leaves no temp file; a state file of
 * the wrong shape is a `CorruptStateError` naming the file; the memory store's compare-and-set
 * refuses a stale expectation.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptStateError, FileStateStore, MemoryStateStore, writeFileAtomic } from '../../src/store.ts';
import { tempDir } from '../helpers/sender.ts';

const A = { installId: '9b2f4c1e-3d5a-4b6c-8d7e-0f1a2b3c4d5e', idCreatedAt: 1_000 };
const B = { installId: '1b2f4c1e-3d5a-4b6c-8d7e-0f1a2b3c4d5e', idCreatedAt: 2_000, lastSentAt: 3_000 };

describe('writeFileAtomic', () => {
  it('writes the file whole, with no temp file left', async () => {
    const dir = tempDir();
    await writeFileAtomic(join(dir, 'state.json'), 'hello\n');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('a rename that fails (the target is a non-empty directory) rejects, and the temp file is removed', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'state.json', 'inner'), { recursive: true });
    const error = (await writeFileAtomic(join(dir, 'state.json'), 'hello\n').then(() => undefined, (e: unknown) => e)) as NodeJS.ErrnoException | undefined;
    expect(error?.code).toMatch(/^(EISDIR|ENOTEMPTY|EEXIST)$/);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('a write that fails (no such directory) rejects', async () => {
    const dir = tempDir();
    await expect(writeFileAtomic(join(dir, 'missing', 'state.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('FileStateStore.read', () => {
  it('JSON of the wrong shape is corrupt, naming the file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ installId: 'not-a-uuid', idCreatedAt: 1 }));
    const error = await new FileStateStore(dir).read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect((error as Error).message).toBe(`${join(dir, 'state.json')} does not hold a valid install state`);
  });
});

describe('MemoryStateStore.compareAndSet', () => {
  it('refuses a stale expectation and keeps what it holds', async () => {
    const store = new MemoryStateStore(A);
    expect(await store.compareAndSet(undefined, B)).toBe(false);
    expect(await store.compareAndSet(B, B)).toBe(false);
    expect(await store.read()).toEqual(A);
    expect(await store.compareAndSet(A, B)).toBe(true);
    expect(await store.read()).toEqual(B);
  });
});

describe('state errors and comparison', () => {
  it('errors are named', async () => {
    const { LockTimeoutError } = await import('../../src/store.ts');
    expect(new CorruptStateError('x').name).toBe('CorruptStateError');
    expect(new LockTimeoutError('x').name).toBe('LockTimeoutError');
  });

  it('a state file that is not JSON: named in the message, the parse error kept as cause', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), 'not json');
    const error = (await new FileStateStore(dir).read().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error.message).toBe(`${join(dir, 'state.json')} is not valid JSON`);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('sameState compares every field', async () => {
    const { sameState } = await import('../../src/store.ts');
    expect(sameState(B, { ...B })).toBe(true);
    expect(sameState(B, { ...B, installId: A.installId })).toBe(false);
    expect(sameState(B, { ...B, idCreatedAt: 1 })).toBe(false);
    expect(sameState(B, { ...B, lastSentAt: 1 })).toBe(false);
    expect(sameState(A, undefined)).toBe(false);
    expect(sameState(undefined, undefined)).toBe(true);
  });
});
