/**
 * The IPv4 rule's octet check (redact.ts `isOctet`): four dotted numbers are an address only when
 * every part fits a byte, so four-part version and build numbers with a larger part pass.
 */
import { describe, expect, it } from 'vitest';
import { scrubReason } from '../../src/redact.ts';

describe('dotted IPv4: every part must fit a byte', () => {
  it('addresses in decimal and hex are caught', () => {
    expect(scrubReason('1.2.3.4')).toBe('ipv4');
    expect(scrubReason('10.0.0.255')).toBe('ipv4');
    expect(scrubReason('0x0a.1.1.1')).toBe('ipv4');
  });

  it('a decimal part over 255, or a hex part over two digits, is not an address: the value passes', () => {
    for (const value of ['256.1.1.1', '10.0.0.256', '1.2.3.999', '0x1ff.1.1.1']) expect(scrubReason(value), value).toBeUndefined();
  });

  it('a four-digit part is a byte only as zero-padded octal: 0250 is, 0099 (not octal) is not', () => {
    expect(scrubReason('10.0.0.0250')).toBe('ipv4');
    expect(scrubReason('1.1.1.0099')).toBeUndefined();
    expect(scrubReason('1.2.3.0089')).toBeUndefined();
  });
});
