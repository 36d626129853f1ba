/**
 * Each scrubber rule on its own: values that only that rule catches (another rule catching the
 * same value would hide its removal). Here: e-mail addresses whose domain no hostname, URL or
 * IP rule matches.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scrubReason } from '../../src/redact.ts';

describe('the email rule alone', () => {
  it.each(['a@b.c', 'user@host.1', 'ops+alerts@intranet.x', 'x@y.z9', 'root@box.2b'])('%s is dropped as an email', (value) => {
    expect(scrubReason(value)).toBe('email');
  });

  it('an address whose last label has a digit or one letter (no hostname shape) is dropped as an email (property)', () => {
    const part = fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,10}$/);
    const tld = fc.oneof(fc.stringMatching(/^[a-z]$/), fc.stringMatching(/^[a-z]{0,3}[0-9][a-z0-9]{0,3}$/));
    fc.assert(
      fc.property(part, part, tld, (local, host, last) => {
        // Only values no other rule catches: the same text without the "@" is not scrubbed (a
        // random host part can hold, e.g., a Vault token shape "s.xxxxxxxx", found first).
        fc.pre(scrubReason(`${local} ${host}.${last}`) === undefined);
        expect(scrubReason(`${local}@${host}.${last}`)).toBe('email');
      }),
      { numRuns: 300 },
    );
  });
});
