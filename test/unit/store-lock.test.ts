/**
 * src/store.ts, the state lock: a lock older than 10 s, or dated more than 10 s in the future, is
 * broken (only the future one with a note); a lock exactly 10 s off either way is still held; a
 * held lock is retried every 20-50 ms (random jitter) until 2 s have passed, and a lock released
 * at exactly 2 s is still taken; then `LockTimeoutError` names the lock file and keeps the
 * EEXIST as cause. A lock another replica removes first (while we break it, or while we hold it)
 * is no error. An error other than EEXIST creating the lock is thrown as is, at once.
 *
 * The clock is faked (`Date` only, unless the jitter test fakes `setTimeout` too) and the lock's
 * age is scripted through a spy on `stat`, so the boundaries are exact.
 */
import { unlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fsp } from '../../src/builtins.ts';
import { FileStateStore, LockTimeoutError } from '../../src/store.ts';
import { tempDir } from '../helpers/sender.ts';

const A = { installId: '9b2f4c1e-3d5a-4b6c-8d7e-0f1a2b3c4d5e', idCreatedAt: 1_000 };
const T = 1_700_000_000_000;

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

interface Step {
  /** The clock when the lock's age is measured (and when the deadline is checked). */
  readonly now: number;
  /** The lock file's mtime as `stat` reports it. */
  readonly mtimeMs: number;
  /** Run before `stat` returns (e.g. another process releases the lock). */
  readonly then?: (lock: string) => void;
}

/** A store whose lock file is held (exists); `stat` of it reports the scripted steps in turn. */
function heldLock(steps: readonly Step[]) {
  const dir = tempDir();
  const lock = join(dir, 'state.json.lock');
  writeFileSync(lock, '');
  const notes: string[] = [];
  const store = new FileStateStore(dir, { onNote: (n) => notes.push(n) });
  let calls = 0;
  const real = fsp().stat;
  vi.spyOn(fsp(), 'stat').mockImplementation((async (p: string) => {
    if (p !== lock) return real(p);
    const step = steps[Math.min(calls, steps.length - 1)]!;
    calls++;
    vi.setSystemTime(step.now);
    step.then?.(lock);
    return { mtimeMs: step.mtimeMs };
  }) as never);
  return { dir, lock, notes, store, attempts: () => calls };
}

describe('FileStateStore lock: age boundaries (fake clock)', () => {
  it('a lock exactly 10 s old is held, not broken: the wait ends in LockTimeoutError', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { store, notes, attempts, lock } = heldLock([
      { now: T, mtimeMs: T - 10_000 },
      { now: T + 2_001, mtimeMs: T + 2_001 - 10_000 },
    ]);
    const error = await store.compareAndSet(undefined, A).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(attempts()).toBe(2);
    expect(notes).toEqual([]);
    expect(existsSync(lock)).toBe(true);
  });

  it('a lock exactly 10 s in the future is held, not broken, and no note', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { store, notes, attempts } = heldLock([
      { now: T, mtimeMs: T + 10_000 },
      { now: T + 2_001, mtimeMs: T + 2_001 + 10_000 },
    ]);
    const error = await store.compareAndSet(undefined, A).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(attempts()).toBe(2);
    expect(notes).toEqual([]);
  });

  it('a lock 10 s + 1 ms old is stale: broken without a note, and the state is written', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { dir, store, notes, attempts, lock } = heldLock([{ now: T, mtimeMs: T - 10_001 }]);
    expect(await store.compareAndSet(undefined, A)).toBe(true);
    expect(attempts()).toBe(1);
    expect(notes).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toEqual(A);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock 10 s + 1 ms in the future is broken, with the note', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { store, notes, attempts } = heldLock([{ now: T, mtimeMs: T + 10_001 }]);
    expect(await store.compareAndSet(undefined, A)).toBe(true);
    expect(attempts()).toBe(1);
    expect(notes).toEqual(['a state lock file dated in the future was removed']);
  });

  it('a fresh lock held by another process: no note while waiting', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { store, notes } = heldLock([
      { now: T, mtimeMs: T },
      { now: T + 1_000, mtimeMs: T },
      { now: T + 2_001, mtimeMs: T },
    ]);
    await expect(store.compareAndSet(undefined, A)).rejects.toBeInstanceOf(LockTimeoutError);
    expect(notes).toEqual([]);
  });
});

describe('FileStateStore lock: the 2 s wait (fake clock)', () => {
  it('at exactly 2 s it still retries: a lock released then is taken', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { store, attempts } = heldLock([{ now: T + 2_000, mtimeMs: T + 2_000, then: (lock) => unlinkSync(lock) }]);
    expect(await store.compareAndSet(undefined, A)).toBe(true);
    expect(attempts()).toBe(1);
  });

  it('past 2 s: LockTimeoutError naming the lock file, with the EEXIST as cause', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T });
    const { store, lock } = heldLock([{ now: T + 2_001, mtimeMs: T + 2_001 }]);
    const error = (await store.compareAndSet(undefined, A).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.message).toBe(`${lock} is held by another process`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EEXIST');
  });

  it.each([
    [0, 20],
    [0.5, 35],
    [0.9, 47],
  ])('with Math.random() = %s, a held lock is retried after %s ms', async (random, delay) => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'], now: T });
    vi.spyOn(Math, 'random').mockReturnValue(random);
    let stated!: () => void;
    let statedAgain!: () => void;
    const first = new Promise<void>((resolve) => (stated = resolve));
    const second = new Promise<void>((resolve) => (statedAgain = resolve));
    const dir = tempDir();
    const lock = join(dir, 'state.json.lock');
    writeFileSync(lock, '');
    let calls = 0;
    const real = fsp().stat;
    vi.spyOn(fsp(), 'stat').mockImplementation((async (p: string) => {
      if (p !== lock) return real(p);
      calls++;
      if (calls === 1) {
        stated();
        return { mtimeMs: Date.now() }; // held, fresh
      }
      statedAgain();
      return { mtimeMs: Date.now() - 60_000 }; // stale now: broken, so the test ends
    }) as never);
    let tries = 0;
    const realOpen = fsp().open;
    vi.spyOn(fsp(), 'open').mockImplementation(((p: string, ...rest: never[]) => {
      if (p === lock) tries++;
      return (realOpen as (...a: unknown[]) => unknown)(p, ...rest);
    }) as never);
    const done = new FileStateStore(dir).compareAndSet(undefined, A);
    await first;
    // Let the rest of the failed attempt run up to its sleep (setImmediate is not faked).
    for (let turns = 0; vi.getTimerCount() === 0 && turns < 1_000; turns++) await new Promise((resolve) => setImmediate(resolve));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(delay - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(tries).toBe(1);
    vi.advanceTimersByTime(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(tries).toBe(2);
    await second;
    vi.useRealTimers();
    expect(await done).toBe(true);
  });
});

describe('FileStateStore lock: races with other replicas', () => {
  it('a stale lock another replica removes first (between our stat and our rm) is no error', async () => {
    const dir = tempDir();
    const lock = join(dir, 'state.json.lock');
    writeFileSync(lock, '');
    const real = fsp().stat;
    vi.spyOn(fsp(), 'stat').mockImplementation((async (p: string) => {
      const s = await real(p);
      if (p === lock) {
        unlinkSync(lock);
        return { mtimeMs: s.mtimeMs - 60_000 };
      }
      return s;
    }) as never);
    expect(await new FileStateStore(dir).compareAndSet(undefined, A)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toEqual(A);
  });

  it('our lock removed by another replica while we hold it: unlocking is no error', async () => {
    const dir = tempDir();
    const lock = join(dir, 'state.json.lock');
    const real = fsp().rename;
    vi.spyOn(fsp(), 'rename').mockImplementation((async (from: string, to: string) => {
      await real(from, to);
      unlinkSync(lock);
    }) as never);
    expect(await new FileStateStore(dir).compareAndSet(undefined, A)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toEqual(A);
  });

  it('an error other than EEXIST creating the lock is thrown as is (not waited out as a held lock)', async () => {
    const dir = tempDir();
    const real = fsp().open;
    vi.spyOn(fsp(), 'open').mockImplementation(((p: string, ...rest: never[]) => {
      if (String(p).endsWith('.lock')) return Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
      return (real as (...a: unknown[]) => unknown)(p, ...rest);
    }) as never);
    await expect(new FileStateStore(dir).compareAndSet(undefined, A)).rejects.toMatchObject({ code: 'EACCES' });
  });
});
