/**
 * Files that stay on the install: the operator's persisted preference and the ledger of
 * every real send. Nothing here is written before consent, except the preference itself,
 * which the operator writes with `headcount enable|disable`.
 */
import { crypto, fs, fsp, path } from './builtins.ts';
import type { Preference } from './config.ts';
import { readSmallFile, readSmallFileSync } from './files.ts';
import { DAY_MS, utcDay } from './schedule.ts';
import { writeFileAtomic } from './store.ts';

/** `{"telemetry":"disabled"}` is 24 B: anything much larger is not a preference file. */
const PREFERENCE_MAX_BYTES = 1024;

export function readPreference(dir: string): Preference {
  try {
    const text = readSmallFileSync(path().join(dir, 'preference.json'), PREFERENCE_MAX_BYTES);
    if (text === undefined) return undefined;
    const value = (JSON.parse(text) as { telemetry?: unknown } | null)?.telemetry;
    return value === 'enabled' || value === 'disabled' ? value : undefined;
  } catch {
    // Not JSON, or not a small regular file: no preference.
  }
  return undefined;
}

export async function writePreference(dir: string, preference: 'enabled' | 'disabled'): Promise<void> {
  await fsp().mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path().join(dir, 'preference.json'), `${JSON.stringify({ telemetry: preference })}\n`);
}

export interface LedgerEntry {
  /** ISO time of the send. */
  readonly time: string;
  readonly signal: 'metrics' | 'logs';
  /** Bytes on the wire (compressed body). */
  readonly bytes: number;
  /** sha256 of the uncompressed body, as `headcount preview --hash` prints it. */
  readonly sha256: string;
  /** HTTP status, or 0 when no response came (network error, timeout). */
  readonly status: number;
  /** Attributes the redacting processors dropped from this send (absent: none). */
  readonly redacted?: number;
  /** The collector's `Retry-After` on a refusal, in ms (absent: none given). */
  readonly retryAfterMs?: number;
}

/** The ledger is trimmed to its newer half when it grows past this size. */
export const LEDGER_MAX_BYTES = 64 * 1024;

export function sha256(body: Uint8Array): string {
  return crypto().createHash('sha256').update(body).digest('hex');
}

/** A ledger line longer than this is not one Headcount wrote. */
const LEDGER_LINE_MAX = 512;
const SIGNALS = new Set(['metrics', 'logs']);

/** A ledger line as Headcount writes it, or undefined (corrupt or crafted lines are skipped). */
export function parseLedgerLine(line: string): LedgerEntry | undefined {
  if (line.length > LEDGER_LINE_MAX) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  // A number, string or boolean has no `time`: the checks below skip it; null would throw.
  if (v === null) return undefined;
  const { time, signal, bytes, sha256: hash, status, redacted, retryAfterMs } = v;
  if (typeof time !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(time)) return undefined;
  if (typeof signal !== 'string' || !SIGNALS.has(signal)) return undefined;
  if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) return undefined;
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  if (!Number.isSafeInteger(status) || (status as number) < 0 || (status as number) > 999) return undefined;
  if (redacted !== undefined && (!Number.isSafeInteger(redacted) || (redacted as number) < 0)) return undefined;
  if (retryAfterMs !== undefined && (!Number.isSafeInteger(retryAfterMs) || (retryAfterMs as number) < 0)) return undefined;
  return {
    time,
    signal: signal as LedgerEntry['signal'],
    bytes: bytes as number,
    sha256: hash,
    status: status as number,
    ...(redacted === undefined ? {} : { redacted: redacted as number }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs: retryAfterMs as number }),
  };
}

/**
 * The lines of a read; when `cut` (a tail read), its first line may be cut and is dropped. Split
 * before dropping: a read that starts with the newline before a whole line keeps that line. Empty
 * lines are left to the caller, whose `parseLedgerLine` skips them.
 */
const tailLines = (text: string, cut: boolean): string[] => {
  const lines = text.split('\n');
  return cut ? lines.slice(1) : lines;
};

export async function appendLedger(dir: string, entry: LedgerEntry, maxBytes = LEDGER_MAX_BYTES): Promise<void> {
  const { mkdir, open } = fsp();
  const file = path().join(dir, 'ledger.jsonl');
  const line = `${JSON.stringify(entry)}\n`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const c = fs().constants;
  // Non-blocking: a FIFO planted as the ledger fails at once (ENXIO) instead of holding a thread.
  const handle = await open(file, c.O_WRONLY | c.O_APPEND | c.O_CREAT | (c.O_NONBLOCK ?? 0), 0o600).catch(() => undefined);
  let size: number;
  if (handle === undefined) size = Infinity;
  else {
    try {
      const stat = await handle.stat();
      if (stat.isFile()) {
        await handle.appendFile(line);
        size = stat.size + Buffer.byteLength(line);
      } else size = Infinity;
    } finally {
      await handle.close();
    }
  }
  if (size <= maxBytes) return;
  // Too large, or not a regular file: keep the newer part (at most half the cap) and replace it.
  let kept: string[] = [];
  if (size !== Infinity) {
    // One byte more than half: when it is the newline before a whole line, that line is kept.
    // Stryker disable next-line StringLiteral: equivalent, a text without a newline is all first line, which the cut drops
    const text = (await readSmallFile(file, Math.floor(maxBytes / 2) + 1, true).catch(() => undefined)) ?? '';
    kept = tailLines(text, true).filter((l) => parseLedgerLine(l) !== undefined);
  }
  if (size === Infinity) kept.push(line.trimEnd());
  await writeFileAtomic(file, `${kept.join('\n')}\n`);
}

/** The ledger's entries, oldest first; only its newest `LEDGER_MAX_BYTES` are read, bad lines skipped. */
export async function readLedger(dir: string): Promise<LedgerEntry[]> {
  try {
    const text = await readSmallFile(path().join(dir, 'ledger.jsonl'), LEDGER_MAX_BYTES, true);
    if (text === undefined) return [];
    const cut = text.length >= LEDGER_MAX_BYTES && !text.startsWith('{');
    return tailLines(text, cut).flatMap((line) => parseLedgerLine(line) ?? []);
  } catch {
    return [];
  }
}

/** Feature uses by UTC day (ms) and feature name. */
export type DayCounts = Map<number, Map<string, number>>;
type PendingFeatures = DayCounts;

/** Adds `from`'s per-day feature counts into `into`. */
export function mergeDayCounts(into: DayCounts, from: DayCounts): void {
  for (const [day, m] of from) {
    const target = into.get(day) ?? new Map<string, number>();
    for (const [f, n] of m) target.set(f, (target.get(f) ?? 0) + n);
    into.set(day, target);
  }
}

/**
 * Bounds of `pending-features.json`. Headcount writes at most `PENDING_MAX_DAYS` days of declared
 * features (≤ 64 names of ≤ 63 characters), ~150 KiB at the very most; anything larger, older,
 * dated in the future or not shaped like that is not read.
 */
export const PENDING_MAX_BYTES = 256 * 1024;
export const PENDING_MAX_DAYS = 31;
const PENDING_MAX_FEATURES_PER_DAY = 64;
const FEATURE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Keeps the newest `PENDING_MAX_DAYS` days (one sort, not a scan per day dropped). */
export function trimDays(counts: DayCounts, maxDays = PENDING_MAX_DAYS): void {
  // Stryker disable next-line EqualityOperator: equivalent, at counts.size === maxDays the loop below deletes slice(0, 0), no day
  if (counts.size <= maxDays) return;
  const days = [...counts.keys()].sort((a, b) => a - b);
  for (const day of days.slice(0, days.length - maxDays)) counts.delete(day);
}

/** Feature counts that could not be sent at shutdown, kept for the next run (after consent only). */
export async function savePendingFeatures(dir: string, pending: PendingFeatures, now = Date.now()): Promise<void> {
  if (pending.size === 0) return;
  const merged = loadPendingFeatures(dir, false, now);
  mergeDayCounts(merged, pending);
  trimDays(merged);
  const json = [...merged].map(([day, m]) => [day, Object.fromEntries(m)]);
  await fsp().mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path().join(dir, 'pending-features.json'), `${JSON.stringify(json)}\n`);
}

/**
 * Reads (and by default removes) counts saved by `savePendingFeatures`. Bounded and validated:
 * a file too large, not a regular file, or not of the written shape gives nothing; days not a
 * UTC midnight, older than `PENDING_MAX_DAYS` or after today, names not shaped like a catalog
 * name and counts not positive integers are skipped. Never throws.
 */
export function loadPendingFeatures(dir: string, remove = true, now = Date.now()): PendingFeatures {
  const file = path().join(dir, 'pending-features.json');
  const out: PendingFeatures = new Map();
  const today = utcDay(now);
  const oldest = today - PENDING_MAX_DAYS * DAY_MS;
  try {
    let text: string | undefined;
    try {
      text = readSmallFileSync(file, PENDING_MAX_BYTES);
    } finally {
      // A file that cannot be read is removed too: it would fail the same way every run.
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, force only turns ENOENT into success: with no file the read gave undefined (or threw) and nothing is read either way
      if (remove) fs().rmSync(file, { force: true });
    }
    if (text === undefined) return out;
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) return out;
    for (const entry of parsed.slice(0, PENDING_MAX_DAYS * 2) as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 2) continue;
      const [day, counts] = entry as [unknown, unknown];
      if (typeof day !== 'number' || !Number.isSafeInteger(day) || day % DAY_MS !== 0 || day < oldest || day > today) continue;
      if (counts === null || Array.isArray(counts)) continue;
      // Stryker disable next-line ConditionalExpression: equivalent, a number or boolean has no entries and a string's entries are named by digits, which FEATURE_NAME rejects (the check only spares Object.entries of a long string)
      if (typeof counts !== 'object') continue;
      const m = out.get(day) ?? new Map<string, number>();
      for (const [f, n] of Object.entries(counts as Record<string, unknown>).slice(0, PENDING_MAX_FEATURES_PER_DAY)) {
        if (FEATURE_NAME.test(f) && typeof n === 'number' && Number.isSafeInteger(n) && n > 0) m.set(f, (m.get(f) ?? 0) + n);
      }
      if (m.size > 0) out.set(day, m);
    }
    trimDays(out);
  } catch {
    // No file, unreadable or corrupt: nothing pending.
  }
  return out;
}
