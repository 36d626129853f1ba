/**
 * Files that stay on the install: the operator's persisted preference and the ledger of
 * every real send. Nothing here is written before consent, except the preference itself,
 * which the operator writes with `headcount enable|disable`.
 */
import { crypto, fs, fsp, path } from './builtins.ts';
import type { Preference } from './config.ts';
import { writeFileAtomic } from './store.ts';

export function readPreference(dir: string): Preference {
  try {
    const value = (JSON.parse(fs().readFileSync(path().join(dir, 'preference.json'), 'utf8')) as { telemetry?: unknown }).telemetry;
    return value === 'enabled' || value === 'disabled' ? value : undefined;
  } catch {
    return undefined;
  }
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
}

/** The ledger is trimmed to its newer half when it grows past this size. */
export const LEDGER_MAX_BYTES = 64 * 1024;

export function sha256(body: Uint8Array): string {
  return crypto().createHash('sha256').update(body).digest('hex');
}

export async function appendLedger(dir: string, entry: LedgerEntry, maxBytes = LEDGER_MAX_BYTES): Promise<void> {
  const { appendFile, mkdir, readFile, stat } = fsp();
  const file = path().join(dir, 'ledger.jsonl');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await appendFile(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  const size = await stat(file).then((s) => s.size);
  if (size <= maxBytes) return;
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  let kept = lines;
  while (kept.join('\n').length + 1 > maxBytes / 2 && kept.length > 1) kept = kept.slice(Math.ceil(kept.length / 4));
  await writeFileAtomic(file, `${kept.join('\n')}\n`);
}

export async function readLedger(dir: string): Promise<LedgerEntry[]> {
  try {
    const text = await fsp().readFile(path().join(dir, 'ledger.jsonl'), 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LedgerEntry];
        } catch {
          return [];
        }
      });
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

/** Feature counts that could not be sent at shutdown, kept for the next run (after consent only). */
export async function savePendingFeatures(dir: string, pending: PendingFeatures): Promise<void> {
  if (pending.size === 0) return;
  const merged = loadPendingFeatures(dir, false);
  mergeDayCounts(merged, pending);
  const json = [...merged].map(([day, m]) => [day, Object.fromEntries(m)]);
  await fsp().mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path().join(dir, 'pending-features.json'), `${JSON.stringify(json)}\n`);
}

/** Reads (and by default removes) counts saved by `savePendingFeatures`. Bad content is ignored. */
export function loadPendingFeatures(dir: string, remove = true): PendingFeatures {
  const file = path().join(dir, 'pending-features.json');
  const out: PendingFeatures = new Map();
  try {
    const parsed = JSON.parse(fs().readFileSync(file, 'utf8')) as unknown;
    if (remove) fs().rmSync(file, { force: true });
    if (!Array.isArray(parsed)) return out;
    for (const entry of parsed as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'number' || entry[1] === null || typeof entry[1] !== 'object') continue;
      const m = new Map<string, number>();
      for (const [f, n] of Object.entries(entry[1] as Record<string, unknown>)) {
        if (typeof n === 'number' && Number.isFinite(n) && n > 0) m.set(f, n);
      }
      out.set(entry[0], m);
    }
  } catch {
    // No file, or unreadable: nothing pending.
  }
  return out;
}
