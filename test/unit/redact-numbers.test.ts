/**
 * Numbers the scrubbers must name right (redact.ts `isOctet`, `isIpv4Integer`, `luhn`,
 * `hasCardNumber`): an IPv4 address written as one integer, a dotted part in octal, a card number
 * of 13 to 19 digits passing Luhn. The reason is what `headcount status` counts, so each case
 * names it, or `undefined` for a value that must pass.
 */
import { describe } from 'vitest';
import { scrubTable } from '../helpers/scrub-table.ts';

describe('dotted IPv4: a part is a byte in decimal, or in octal with a leading 0', () => {
  scrubTable([
    ['0377 is octal 255, the largest byte', '10.0.0.0377', 'ipv4'],
    ['0777 is octal 511, no byte: a version-like number', '0777.1.1.1', undefined],
    ['1800 is neither a decimal byte nor octal (it has no leading 0)', '1800.1.1.1', undefined],
  ]);
});

describe('IPv4 as one integer: from 1.0.0.0 (16777216) to 255.255.255.255 (4294967295)', () => {
  scrubTable([
    ['the smallest address, 1.0.0.0', '16777216', 'ipv4'],
    ['the largest address, 255.255.255.255', '4294967295', 'ipv4'],
    ['192.168.1.100 in decimal (holds an 8, so no octal reading)', '3232235876', 'ipv4'],
    ['127.0.0.1 in octal with a leading 0', '017700000001', 'ipv4'],
    ['a count under 1.0.0.0 is no address (still phone-like: eight digits)', '12345678', 'phone'],
    ['one past 255.255.255.255 is no address', '4294967296', 'phone'],
    ['a leading 0 with an 8 or 9 is not octal: no address, whatever its octal prefix says', '010000000081', 'phone'],
  ]);
});

describe('card numbers: 13 to 19 digits passing Luhn, on group boundaries', () => {
  scrubTable([
    ['13 digits passing Luhn (the shortest card)', '4222222222222', 'card'],
    ['19 digits passing Luhn (the longest card)', '4111111111111111110', 'card'],
    ['20 digits in groups passing Luhn are too long for a card (phone-like)', '2086 0828 8608 2838 2648', 'phone'],
    ['16 grouped digits where no span of 13 to 19 passes Luhn: no card, though a shorter span does', '6002 0666 2660 8400', 'phone'],
  ]);
});
