/**
 * src/schedule.ts: when the next heartbeat is due after a restart, and the timer Headcount arms
 * for it (never holding the host process open, never firing early on a long delay).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DAY_MS, DEFAULT_SCHEDULE, HOUR_MS, nextDelay, unrefTimer } from '../../src/schedule.ts';

const NOW = Date.UTC(2026, 5, 1, 12);

describe('nextDelay', () => {
  it('exactly one interval after the last send, the heartbeat is due: the short first-start delay', () => {
    expect(nextDelay(NOW, NOW - DAY_MS, DEFAULT_SCHEDULE, () => 0)).toBe(5_000);
    expect(nextDelay(NOW, NOW - DAY_MS, DEFAULT_SCHEDULE, () => 0.5)).toBe(5_000 + 27_500);
  });

  it('one millisecond short of an interval: the rest of it plus jitter', () => {
    expect(nextDelay(NOW, NOW - DAY_MS + 1, DEFAULT_SCHEDULE, () => 0)).toBe(1);
    expect(nextDelay(NOW, NOW - DAY_MS + 1, DEFAULT_SCHEDULE, () => 0.5)).toBe(1 + HOUR_MS / 2);
  });

  it('long overdue (days since the last send): the short first-start delay, never a negative one', () => {
    expect(nextDelay(NOW, NOW - 3 * DAY_MS, DEFAULT_SCHEDULE, () => 0)).toBe(5_000);
    expect(nextDelay(NOW, 0, DEFAULT_SCHEDULE, () => 0.999_999)).toBe(59_999);
  });

  it('never sent: the short first-start delay', () => {
    expect(nextDelay(NOW, undefined, DEFAULT_SCHEDULE, () => 0)).toBe(5_000);
  });
});

describe('unrefTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not hold the process open', () => {
    const t = unrefTimer(() => {}, 60_000);
    try {
      expect(t.hasRef()).toBe(false);
    } finally {
      clearTimeout(t);
    }
  });

  it('a delay beyond what setTimeout holds (about 24.8 days) waits the longest it can instead of firing at once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fired = vi.fn();
    unrefTimer(fired, 40 * DAY_MS);
    vi.advanceTimersByTime(1_000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2 ** 31 - 1 - 1_000 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('an ordinary delay is kept as given', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fired = vi.fn();
    unrefTimer(fired, 5_000);
    vi.advanceTimersByTime(4_999);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});
