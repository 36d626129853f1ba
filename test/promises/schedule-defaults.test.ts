/**
 * README "Schedule", with the real defaults (the other tests override them to run fast): first
 * heartbeat 5-60 s after start, then every 24 h + up to 1 h jitter, retries with exponential
 * backoff and full jitter. Time and randomness are the handle's `now`/`random` options.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount, type StateStore } from '../../src/index.ts';
import { backoffDelay, DAY_MS, DEFAULT_SCHEDULE, HOUR_MS } from '../../src/schedule.ts';
import { onOptions, without } from '../helpers/sender.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const handles: Headcount[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 100 })));
});

/** Starts a handle with the default schedule and returns when its first send is planned. */
async function plannedDelay(random: number, store: StateStore = new MemoryStateStore()): Promise<number> {
  const opts = without(onOptions('http://127.0.0.1:9', { now: () => NOW, random: () => random, store }), 'schedule');
  const h = createHeadcount(opts);
  handles.push(h);
  h.start();
  let next: number | undefined;
  await vi.waitFor(async () => {
    next = (await h.status()).nextSendAt;
    expect(next).toBeDefined();
  }, { timeout: 10_000, interval: 10 });
  return next! - NOW;
}

describe('default schedule', () => {
  it('is the documented one', () => {
    expect(DEFAULT_SCHEDULE).toEqual({
      firstDelayMs: [5_000, 60_000],
      intervalMs: DAY_MS,
      jitterMs: HOUR_MS,
      retryCycleMs: HOUR_MS,
      maxAttempts: 5,
      baseBackoffMs: 1_000,
      maxBackoffMs: 60_000,
      maxRetryAfterMs: 6 * HOUR_MS,
    });
  });

  it('first heartbeat: a random delay of 5 to 60 s after start', async () => {
    expect(await plannedDelay(0)).toBe(5_000);
    expect(await plannedDelay(0.5)).toBe(5_000 + 27_500);
    expect(await plannedDelay(0.999_999)).toBe(59_999);
  });

  it('after a heartbeat in the last 24 h: the rest of the 24 h plus up to 1 h of jitter', async () => {
    const sentAt = NOW - 2 * HOUR_MS;
    const store = () => new MemoryStateStore({ installId: '9b2f4c1e-3d5a-4b6c-8d7e-0f1a2b3c4d5e', idCreatedAt: sentAt, lastSentAt: sentAt });
    expect(await plannedDelay(0, store())).toBe(22 * HOUR_MS);
    expect(await plannedDelay(0.5, store())).toBe(22 * HOUR_MS + HOUR_MS / 2);
    expect(await plannedDelay(0.999_999, store())).toBe(22 * HOUR_MS + Math.floor(0.999_999 * HOUR_MS));
  });

  it('retry backoff: exponential from 1 s, capped at 60 s, with full jitter (anywhere from 0 to the cap)', () => {
    const caps = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
    expect(caps.map((_, i) => backoffDelay(i + 1, DEFAULT_SCHEDULE, () => 0.5))).toEqual(caps.map((c) => c / 2));
    expect(caps.map((_, i) => backoffDelay(i + 1, DEFAULT_SCHEDULE, () => 0.999_999))).toEqual(caps.map((c) => Math.floor(0.999_999 * c)));
    // Full jitter reaches down to (almost) nothing: no fixed floor of half the cap or more.
    expect(backoffDelay(5, DEFAULT_SCHEDULE, () => 0)).toBe(1);
  });
});
