/**
 * Where the install id and the last-sent time live. A file in the user's state dir by
 * default; products that keep state in a database plug in their own `StateStore`, so several
 * replicas of one install share one id and send one heartbeat per cycle (compare-and-set on
 * the state). Files are written atomically (temp file + rename) and only after consent.
 */
import { crypto, fsp, path } from './builtins.ts';
import { LocalFileError, readSmallFile } from './files.ts';
import { nextTurn } from './schedule.ts';

/**
 * Whether node:fs/promises was loaded. The first read loads it (~2 ms) in a turn of the event
 * loop of its own: it comes right after the import of the active part (`start()`, `status()`).
 */
let fsPromisesLoaded = false;

export interface InstallState {
  /** Random UUID v4, no relation to the machine or user. */
  readonly installId: string;
  /** When this id was created (ms since epoch); ids rotate after `rotateAfterDays`. */
  readonly idCreatedAt: number;
  /** When the last heartbeat was claimed (ms since epoch). */
  readonly lastSentAt?: number;
}

export interface StateStore {
  /** The stored state, or `undefined` when there is none. May throw; the caller recovers. */
  read(): Promise<InstallState | undefined>;
  /**
   * Stores `next` only if the stored state still equals `expected` (`undefined`: nothing
   * stored). Returns false when another writer got there first.
   */
  compareAndSet(expected: InstallState | undefined, next: InstallState): Promise<boolean>;
  /** Forgets the install id (reset, or telemetry switched off). */
  clear(): Promise<void>;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function newInstallId(): string {
  return crypto().randomUUID();
}

/** Parses stored state; anything not exactly of the expected shape is `undefined`. Never throws. */
export function parseState(value: unknown): InstallState | undefined {
  try {
    return parseStateUnsafe(value);
  } catch {
    // A product's store returned an object whose getters throw (or a revoked proxy).
  }
  return undefined;
}

function parseStateUnsafe(value: unknown): InstallState | undefined {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, parseState catches what null throws below and a primitive has no installId
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['installId'] !== 'string' || !UUID_V4.test(v['installId'])) return undefined;
  if (typeof v['idCreatedAt'] !== 'number' || !Number.isFinite(v['idCreatedAt'])) return undefined;
  const last = v['lastSentAt'];
  if (last !== undefined && (typeof last !== 'number' || !Number.isFinite(last))) return undefined;
  return last === undefined
    ? { installId: v['installId'], idCreatedAt: v['idCreatedAt'] }
    : { installId: v['installId'], idCreatedAt: v['idCreatedAt'], lastSentAt: last };
}

export function sameState(a: InstallState | undefined, b: InstallState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.installId === b.installId && a.idCreatedAt === b.idCreatedAt && a.lastSentAt === b.lastSentAt;
}

export class CorruptStateError extends Error {
  override readonly name = 'CorruptStateError';
}

/** Another process (a replica) held the state lock too long: this compare-and-set lost. */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
}

/** Writes `data` to `file` atomically: a temp file beside it, then rename. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const { rename, rm, writeFile } = fsp();
  // Stryker disable next-line MethodExpression: equivalent, the temp name's length is not observable (a full UUID still fits any file-name limit)
  const tmp = `${file}.${process.pid}.${crypto().randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, file);
  } catch (error) {
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, without force rm still removes an existing temp file, and the ENOENT it adds for a missing one is caught
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 2_000;
/** A state file is ~120 B; a larger one is not Headcount's and is treated as corrupt. */
const STATE_MAX_BYTES = 4096;

export interface FileStateStoreOptions {
  /** Told (in fixed words) when the store repairs something, e.g. breaks a lock dated in the future. */
  readonly onNote?: (note: string) => void;
}

/** The default store: `state.json` in the telemetry state dir, guarded by a lock file. */
export class FileStateStore implements StateStore {
  readonly #dir: string;
  readonly #file: string;
  readonly #onNote: (note: string) => void;

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    this.#dir = dir;
    this.#file = path().join(dir, 'state.json');
    this.#onNote = options.onNote ?? (() => undefined);
  }

  async read(): Promise<InstallState | undefined> {
    let text: string | undefined;
    try {
      // Stryker disable next-line ConditionalExpression,BooleanLiteral,BlockStatement: equivalent, timing only: whether a read yields one turn before loading node:fs/promises
      if (!fsPromisesLoaded) {
        await nextTurn();
        // Stryker disable next-line BooleanLiteral: equivalent, timing only: every read would yield one turn
        fsPromisesLoaded = true;
      }
      text = await readSmallFile(this.#file, STATE_MAX_BYTES);
    } catch (error) {
      if (error instanceof LocalFileError) throw new CorruptStateError(`${this.#file} is ${error.message}`, { cause: error });
      throw error;
    }
    if (text === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CorruptStateError(`${this.#file} is not valid JSON`, { cause: error });
    }
    const state = parseState(parsed);
    if (state === undefined) throw new CorruptStateError(`${this.#file} does not hold a valid install state`);
    return state;
  }

  async compareAndSet(expected: InstallState | undefined, next: InstallState): Promise<boolean> {
    await fsp().mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const unlock = await this.#lock();
    try {
      let current: InstallState | undefined;
      try {
        current = await this.read();
      } catch (error) {
        // A corrupt file counts as "nothing stored": the caller is replacing it.
        if (!(error instanceof CorruptStateError)) throw error;
        current = undefined;
      }
      if (!sameState(current, expected)) return false;
      await writeFileAtomic(this.#file, `${JSON.stringify(next)}\n`);
      return true;
    } finally {
      await unlock();
    }
  }

  async clear(): Promise<void> {
    await fsp().rm(this.#file, { force: true });
  }

  async #lock(): Promise<() => Promise<void>> {
    const { open, rm, stat } = fsp();
    const lockPath = `${this.#file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
        // A lock dated in the future (a clock that was wrong, a crafted file) would never go
        // stale: beyond the tolerance a stale lock gets, it is broken like a stale one.
        if (age < -LOCK_STALE_MS) this.#onNote('a state lock file dated in the future was removed');
        if (age > LOCK_STALE_MS || age < -LOCK_STALE_MS) {
          await rm(lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new LockTimeoutError(`${lockPath} is held by another process`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
      }
    }
  }
}

/** Keeps state in memory: for tests, and the fallback when the state dir is unwritable. */
export class MemoryStateStore implements StateStore {
  #state: InstallState | undefined;

  constructor(initial?: InstallState) {
    this.#state = initial;
  }

  read(): Promise<InstallState | undefined> {
    return Promise.resolve(this.#state);
  }

  compareAndSet(expected: InstallState | undefined, next: InstallState): Promise<boolean> {
    if (!sameState(this.#state, expected)) return Promise.resolve(false);
    this.#state = next;
    return Promise.resolve(true);
  }

  clear(): Promise<void> {
    this.#state = undefined;
    return Promise.resolve();
  }
}
