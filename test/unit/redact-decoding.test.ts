/**
 * What the scrubbers read before the rules (redact.ts `scrubReason`, `matchRules`' defanged and
 * spelled-out forms, `refang`): control characters, percent-encoding (also twice), defanged
 * separators turned back into `.`, `:` and `@`. The reason is what `headcount status` counts.
 */
import { describe } from 'vitest';
import { scrubTable } from '../helpers/scrub-table.ts';

describe('characters and escapes', () => {
  scrubTable([
    ['a control character as written', 'abc\u0001def', 'control-chars'],
    ['a control character percent-encoded', 'abc%00', 'control-chars'],
    ['non-ASCII percent-encoded as UTF-8', 'caf%C3%A9', 'non-ascii'],
    ['an address percent-encoded twice', 'alice%2540example%252ecom', 'email'],
  ]);
});

describe('defanged separators are read as the character they stand for', () => {
  scrubTable([
    ['[.] is a dot: a defanged IPv4', '10[.]0[.]0[.]1', 'ipv4'],
    ['[:] is a colon: a defanged IPv6', '2001[:]db8[:][:]1', 'ipv6'],
    ['an address spelled with _at_/_dot_ and a defanged " dot " after it', 'alice_at_example_dot_ dot com', 'email'],
  ]);
});
