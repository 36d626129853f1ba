/**
 * Tokens, key payloads and single-label hosts (redact.ts `randomPayload`, `isOpaqueToken`,
 * `isOpaqueSegment`, `isHostLabel`, the twelve-hex MAC check, and the character gates of
 * `shapeOf`): what counts as random and what is a word. Catalog names, enums and versions are
 * lower-case words joined by `_` or `-`, so they must pass; the reason is what `headcount status`
 * counts, so each case names it.
 */
import { describe } from 'vitest';
import { scrubTable } from '../helpers/scrub-table.ts';

describe('a payload after a known key prefix is a key when it looks random', () => {
  scrubTable([
    ['four digits in one unbroken run', 'npm_abcd1234efgh', 'api-key'],
    ['all digits', 'npm_12345678', 'api-key'],
    ['one digit in a word is a catalog name', 'npm_installer2', undefined],
    ['a capital A is a capital (the only one in the value)', 'sk-ant-abcdefghAbcd', 'api-key'],
    ['a capital Z is a capital (the only one in the value)', 'sk-ant-abcdefghZbcd', 'api-key'],
  ]);
});

describe('a long run of token characters is a key when no name could form it', () => {
  scrubTable([
    ['capitals with digits, no lower case', 'QWERTY1234567890', 'api-key'],
    ['capitals with lower case in one unbroken run', 'AbcdefghijKlmnop', 'api-key'],
    ['capitals alone, without a digit or lower case, are an all-caps word, not a token', 'ABCDEFGHIJKLMNOP', undefined],
    ['mixed case joined by _ from 24 characters on', 'Abcdefghij_Klmnopqrst_Uv', 'api-key'],
    ['a base64 + anywhere', 'abcdefgh+ijklmnop', 'api-key'],
    ['= counts only as base64 padding at the end: name=value is no token', 'feature_flag=enabled', undefined],
    ['one random segment is enough, beside a word', 'build_a1b2c3d4e5f6g7h8i9j0', 'api-key'],
    ['a 16-digit hex id with letters and digits', 'deadbeef01234567', 'api-key'],
    ['hex letters without a digit are a word', 'abcdefabcdefabcd', undefined],
    ['a 16-letter word', 'characterization', undefined],
    ['a 17-character word with one digit', 'candidate2release', undefined],
    ['32 characters: no word is that long', 'abcdefghijklmnopqrstuvwxyzabcdef', 'api-key'],
    ['20 characters with three digits', 'abcdefghijklmnopq123', 'api-key'],
    ['a 20-letter word', 'internationalization', undefined],
  ]);
});

describe('a hyphenated single label is a host when a later part is a host number or pod hash', () => {
  scrubTable([
    ['a five-character pod suffix with two digits', 'web-x2k4m', 'hostname'],
    ['two adjacent digits in the suffix', 'web-ab12c', 'hostname'],
    ['a suffix ending in its digits', 'web-abc12', 'hostname'],
    ['a first part with digits is a name (python311), not a numbered host', 'python311-wheels', undefined],
    ['a bucket suffix (10k) is no host number', 'tier-10k', undefined],
    ['a version suffix (v2) is no host number', 'plugin-v2', undefined],
    ['a short suffix with two digits (v12) is a version', 'schema-v12', undefined],
    ['a suffix with a single digit (beta1) is a release', 'plugin-beta1', undefined],
  ]);
});

describe('twelve hex digits are a MAC only with digits and letters', () => {
  scrubTable([
    ['hex letters alone are a word', 'deadbeefcafe', undefined],
    // A digit elsewhere in the value opens the rule's gate: the run itself still needs one.
    ['hex letters alone are a word, even beside a number', 'deadbeefcafe 2', undefined],
    ['a run of hex letters and a digit is a MAC', 'deadbeefcafe2', 'mac'],
  ]);
});

describe('rules run on the characters they need', () => {
  scrubTable([
    ['~ is a home directory even without a slash', '~alice', 'home-path'],
    // Real DER/SSH key bodies have capitals: the case-insensitive key markers apply only to a
    // value with a capital, a dash or a space, so a lower-case name that starts like one passes.
    ['a lower-case name starting like a DER body (MII…)', 'miitomodachi_life', undefined],
  ]);
});
