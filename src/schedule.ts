/**
 * When heartbeats go out. A first one shortly after start (random small delay), skipped when
 * one was sent in the last 24 h (persisted, so restarts and crash loops don't multiply them),
 * then every 24 h with jitter. Delivery retries back off exponentially with full jitter.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface ScheduleOptions {
  /** Range of the random delay before the first heartbeat after start. */
  readonly firstDelayMs: readonly [number, number];
  /** Time between heartbeats. */
  readonly intervalMs: number;
  /** Up to this much is added at random to each interval, so installs don't send in step. */
  readonly jitterMs: number;
  /** After delivery failed for a whole cycle, try again this soon (plus jitter). */
  readonly retryCycleMs: number;
  /** Delivery attempts per cycle for network errors and 5xx. */
  readonly maxAttempts: number;
  /** First backoff delay; doubles each attempt, capped at `maxBackoffMs`, full jitter. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** A `Retry-After` longer than this waits for the next cycle instead. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = {
  firstDelayMs: [5_000, 60_000],
  intervalMs: DAY_MS,
  jitterMs: HOUR_MS,
  retryCycleMs: HOUR_MS,
  maxAttempts: 5,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxRetryAfterMs: 6 * HOUR_MS,
};

export type Random = () => number;

export function between(min: number, max: number, random: Random): number {
  return min + Math.floor(random() * Math.max(0, max - min));
}

/** Delay before the next heartbeat, given when the last one was claimed. */
export function nextDelay(now: number, lastSentAt: number | undefined, s: ScheduleOptions, random: Random): number {
  if (lastSentAt === undefined || now - lastSentAt >= s.intervalMs) return between(s.firstDelayMs[0], s.firstDelayMs[1], random);
  return lastSentAt + s.intervalMs - now + between(0, s.jitterMs, random);
}

/** Backoff before attempt `attempt` (1-based retries): full jitter over an exponential cap. */
export function backoffDelay(attempt: number, s: ScheduleOptions, random: Random): number {
  const cap = Math.min(s.maxBackoffMs, s.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.floor(random() * cap));
}

/** UTC midnight of the day holding `ms`. */
export function utcDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

/** A timer that never holds the process open. */
export function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  t.unref();
  return t;
}

/**
 * Resolves after at least one whole turn of the event loop, whichever phase it is called from,
 * so the host's timers and I/O run between two steps of Headcount's work: two immediates, as an
 * immediate queued from an I/O callback runs in the same turn (no timer fires in between), and
 * one queued from an immediate runs in the next. Unlike a timer, it adds no 1 ms floor.
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}
