/**
 * How an HTTP answer is read (transport.ts `classify`, `parseRetryAfter`): the exact result for
 * each status class and its edges, and `Retry-After` in every form a server may send.
 */
import { describe, expect, it } from 'vitest';
import { classify, parseRetryAfter } from '../../src/transport.ts';

describe('classify', () => {
  it('2xx is a success, both edges included, whatever Retry-After says', () => {
    expect(classify(200, undefined)).toStrictEqual({ kind: 'success', status: 200 });
    expect(classify(204, '5')).toStrictEqual({ kind: 'success', status: 204 });
    expect(classify(299, undefined)).toStrictEqual({ kind: 'success', status: 299 });
  });

  it('just outside 2xx, and 4xx other than 401/403/429: a failure naming the status, never retried', () => {
    for (const status of [199, 300, 302, 400, 404, 413, 499]) {
      expect(classify(status, '5')).toStrictEqual({ kind: 'failure', status, error: `HTTP ${status}` });
    }
  });

  it('401 and 403 stop sending: unauthorized, with no retry delay', () => {
    expect(classify(401, '5')).toStrictEqual({ kind: 'unauthorized', status: 401 });
    expect(classify(403, undefined)).toStrictEqual({ kind: 'unauthorized', status: 403 });
  });

  it('429 is rate-limited; retryAfterMs is present only when the server sent a readable Retry-After', () => {
    expect(classify(429, undefined)).toStrictEqual({ kind: 'rate-limited', status: 429 });
    expect(classify(429, 'soon')).toStrictEqual({ kind: 'rate-limited', status: 429 });
    expect(classify(429, '3')).toStrictEqual({ kind: 'rate-limited', status: 429, retryAfterMs: 3_000 });
  });

  it('5xx (from 500 up) is retryable; retryAfterMs only when given', () => {
    expect(classify(500, undefined)).toStrictEqual({ kind: 'retryable', status: 500 });
    expect(classify(503, '2')).toStrictEqual({ kind: 'retryable', status: 503, retryAfterMs: 2_000 });
    expect(classify(599, '')).toStrictEqual({ kind: 'retryable', status: 599 });
  });
});

describe('parseRetryAfter', () => {
  it('absent, empty or blank: no delay given', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('   ')).toBeUndefined();
  });

  it('delay-seconds, surrounding blanks allowed', () => {
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter('12')).toBe(12_000);
    expect(parseRetryAfter(' 12 ')).toBe(12_000);
  });

  it('digits mixed with other text are neither seconds nor a date', () => {
    expect(parseRetryAfter('12abc')).toBeUndefined();
    expect(parseRetryAfter('abc12')).toBeUndefined();
  });

  it('an HTTP date: the time left until it, measured from `now`; a date already past is no delay', () => {
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const at = Date.parse(date);
    expect(parseRetryAfter(date, at - 5_000)).toBe(5_000);
    expect(parseRetryAfter(` ${date} `, at - 1_000)).toBe(1_000);
    expect(parseRetryAfter(date, at + 5_000)).toBe(0);
  });
});
