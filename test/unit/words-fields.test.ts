/**
 * src/words.ts: a warning names an error only with a word from a closed set, read without
 * trusting the thrown value (a function, a throwing getter, a revoked proxy, a primitive).
 */
import { describe, expect, it } from 'vitest';
import { errnoWord, errorWord } from '../../src/words.ts';

describe('errorWord / errnoWord', () => {
  it('a thrown function is read like an object', () => {
    expect(errorWord(TypeError)).toBe('TypeError');
    expect(errnoWord(Object.assign(() => undefined, { code: 'ENOSPC' }))).toBe('ENOSPC');
  });

  it('primitives, null and undefined give the fallback word', () => {
    for (const value of ['TypeError', 'EACCES', 5, true, Symbol('TypeError'), 1n, null, undefined]) {
      expect(errorWord(value)).toBe('an error');
      expect(errnoWord(value)).toBe('error');
    }
  });

  it('a throwing getter or a revoked proxy gives the fallback word', () => {
    const getter = Object.defineProperties({}, {
      name: { get: () => { throw new Error('hunter2'); } },
      code: { get: () => { throw new Error('hunter2'); } },
    });
    expect(errorWord(getter)).toBe('an error');
    expect(errnoWord(getter)).toBe('error');
    const { proxy, revoke } = Proxy.revocable(new TypeError('x'), {});
    revoke();
    expect(errorWord(proxy)).toBe('an error');
    expect(errnoWord(proxy)).toBe('error');
  });
});
