/**
 * Value scrubbers: a string that looks like personal or secret data is dropped whole, never
 * masked or sent in part. The patterns err on the side of dropping: every value Headcount
 * itself produces is a fixed label (bucket, enum, version, UUID, catalog name), so a hit means
 * something unexpected got into the data. They are a second layer behind the catalog's
 * allow-list, for structured data only: a free word (a person's name, a city) looks like any
 * catalog name and is stopped by the allow-list alone.
 *
 * Every pattern is linear or bounded-polynomial on the at most 64 characters it ever sees (no
 * nested quantifier over the same characters); `test/redact-backtracking.test.ts` times the
 * pathological inputs.
 */

export type ScrubReason =
  | 'too-long'
  | 'control-chars'
  | 'non-ascii'
  | 'email'
  | 'ipv4'
  | 'ipv6'
  | 'mac'
  | 'card'
  | 'phone'
  | 'hostname'
  | 'url-credentials'
  | 'url'
  | 'jwt'
  | 'api-key'
  | 'private-key'
  | 'password'
  | 'home-path'
  | 'file-path';

/** Values longer than this are dropped unread. */
export const MAX_VALUE_LENGTH = 64;

/**
 * Which characters a value holds, computed once per value: a rule runs only when the value has
 * the characters it needs (a catalog name has no `:`, `@`, `/` or capital letter), which keeps the
 * common case to a handful of patterns.
 */
interface Shape {
  readonly bits: number;
  readonly digits: number;
}
const UPPER = 1, DIGIT = 4, COLON = 8, SLASH = 16, AT = 32, SPACE = 64, DOT = 128, DASH = 256, UNDERSCORE = 512;
const TILDE = 1024, PERCENT = 2048, EQ = 4096, PLUS = 8192, AMP = 16384;
const BIT_OF: Record<string, number> = { ':': COLON, '/': SLASH, '\\': SLASH, '@': AT, ' ': SPACE, '.': DOT, '-': DASH, _: UNDERSCORE, '~': TILDE, '%': PERCENT, '=': EQ, '+': PLUS, '&': AMP };

function shapeOf(value: string): Shape {
  let bits = 0;
  let digits = 0;
  // Stryker disable next-line EqualityOperator: equivalent, an extra pass at i = length reads NaN and undefined, which set no bit
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) bits |= UPPER;
    else bits |= BIT_OF[value[i]!] ?? 0; // lower-case letters map to no bit: no rule needs them
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (true, >= 0), DIGIT gates only the key-prefix rule, whose payload without a digit is random only through a capital, + / or =, bits of the same gate
  return { bits: digits > 0 ? bits | DIGIT : bits, digits };
}
type Gate = (shape: Shape) => boolean;
/** The value holds every one of `bits`. */
// Stryker disable next-line ConditionalExpression: equivalent (true), every has() gate asks only for characters its pattern cannot match without
const has = (bits: number): Gate => (s) => (s.bits & bits) === bits;
/** The value holds at least one of `bits`. */
const any = (bits: number): Gate => (s) => (s.bits & bits) !== 0;
/** The value holds `n` digits or more (and every one of `bits`). */
// Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, every minDigits() gate asks only for digits and characters its pattern cannot match without
const minDigits = (n: number, bits = 0): Gate => (s) => s.digits >= n && (s.bits & bits) === bits;
const always: Gate = () => true;

/** When it may apply, why, the pattern, and optionally a check every match must pass (`match[0]` is the candidate). */
type Rule = readonly [Gate, ScrubReason, RegExp, ((match: RegExpExecArray) => boolean)?];

/** One inet_aton component that fits a byte: decimal, leading-zero octal or 0x hex. */
function isOctet(part: string): boolean {
  // Stryker disable next-line Regex,ConditionalExpression: equivalent, the ipv4 rule only hands over parts shaped `0x[0-9a-f]{1,2}` or `\d{1,4}`, so a part with 0x starts with it and is at most 4 long
  if (/^0x/i.test(part)) return part.length <= 4;
  // Zero-padded decimal (010.001.…) or octal (0300.0250.…): either reading may be meant.
  if (/^\d{1,3}$/.test(part) && Number(part) <= 255) return true;
  return /^0[0-7]{1,3}$/.test(part) && parseInt(part, 8) <= 255;
}

/** An IPv4 address written as one number (decimal, octal with a leading 0, or 0x hex). */
function isIpv4Integer(text: string): boolean {
  let n: number;
  // Stryker disable next-line Regex,MethodExpression: equivalent, a candidate holding 0x starts with it, and parseInt(…, 16) skips a leading 0x
  if (/^0x/i.test(text)) n = parseInt(text.slice(2), 16);
  else if (text.startsWith('0')) n = /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
  else n = Number(text);
  // From 1.0.0.0: smaller numbers are more often counts than addresses (and seven or more
  // digits are dropped as phone-like numbers anyway).
  return n >= 0x0100_0000 && n <= 0xffff_ffff;
}

/** Luhn checksum over a string of digits. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      // Stryker disable next-line EqualityOperator: equivalent (>= 9), a doubled digit is even, never 9
      if (d > 9) d -= 9;
    }
    // Stryker disable next-line AssignmentOperator: equivalent (-=), -sum is a multiple of 10 exactly when sum is
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A card number (13–19 digits passing Luhn) inside a run of digit groups: every span that starts
 * and ends on a group boundary is tried, so `4111 1111 1111 1111 12/27` is found too.
 */
function hasCardNumber(run: string): boolean {
  const groups = run.split(/[ .-]/);
  // Stryker disable next-line EqualityOperator: equivalent (<=), a pass starting at i = length runs no inner iteration
  for (let i = 0; i < groups.length; i++) {
    let digits = '';
    for (let j = i; j < groups.length; j++) {
      digits += groups[j];
      if (digits.length > 19) break;
      if (digits.length >= 13 && luhn(digits)) return true;
    }
  }
  return false;
}

/**
 * A payload after a known key prefix that is random, not words: a capital letter, a base64 sign,
 * or four digits in one unbroken run (`npm_publish_v2` and `hf_oauth2_amd64` are plausible
 * catalog names, `npm_k9Q…` and `key-3f9a…` are tokens).
 */
function randomPayload(m: RegExpExecArray): boolean {
  // Stryker disable next-line StringLiteral: equivalent, the rule's capture group is not optional, so m[1] is always a string
  const payload = m[1] ?? '';
  return /[A-Z+/=]/.test(payload) || (!/[_-]/.test(payload) && payload.replace(/\D/g, '').length >= 4);
}

/**
 * A long run of token characters that no catalog name, enum, bucket or version can form: those
 * are lower-case words joined by `_` or `-`, so a capital letter next to other letters or digits,
 * a base64 sign, or a random-looking segment (hex digest, long letters-and-digits) gives it away.
 */
function isOpaqueToken(m: RegExpExecArray): boolean {
  const run = m[0];
  // Capitals with digits, or with lower case in one unbroken run (Alices-MacBook-Pro is a host).
  if (/[A-Z]/.test(run) && (/\d/.test(run) || (/[a-z]/.test(run) && (!/[_-]/.test(run) || run.length >= 24)))) return true;
  if (/[+/]|=$/.test(run)) return true;
  return run.split(/[_-]/).some(isOpaqueSegment);
}

function isOpaqueSegment(segment: string): boolean {
  if (segment.length < 16) return false;
  const digits = segment.replace(/\D/g, '').length;
  if (/^(?:0x)?[0-9a-f]+$/.test(segment) && digits > 0 && /[a-f]/.test(segment)) return true; // hex digests and ids
  return segment.length >= 32 || (segment.length >= 20 && digits >= 3); // no word is that long
}

/**
 * A single-label host name: a hyphenated word (`web-01`, `DESKTOP-4F2K9QZ`, `api-7d9f8b6c5d-x2k4m`,
 * `Alices-MacBook-Pro`) or `localhost`. Bucket labels (`10k-99k`) and version parts (`0-rc`)
 * start with a digit; service names are lower-case words.
 */
function isHostLabel(m: RegExpExecArray): boolean {
  // The pattern has at least one `-`, and a part is capitals, lower case and digits: past the
  // capital check, a part that is not all digits has a lower-case letter.
  const parts = m[0].split('-');
  if (/[A-Z]/.test(m[0])) return true;
  return parts.some((p, i) => i > 0 && (/^\d+$/.test(p) || (p.length >= 5 && /\d.*\d/.test(p))));
}

const KEY_PREFIXES = [
  'gh[pousr]_', 'github_pat_', 'glpat-', 'glptt-', 'gldt-', 'glrt-', 'glsoat-', 'glcbt-', 'GOCSPX-', 'xox[abposre]-', 'xapp-',
  '[sr]k_(?:live|test)_', 'pk_live_', 'whsec_', 'sk-(?:proj-|ant-(?:api\\d\\d-)?|svcacct-|admin-)?', 'AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA',
  'AIza', 'ya29\\.', '1//0', 'hf_', 'npm_', 'pypi-', 'do[por]_v1_', 'shp(?:at|ss|ca|pa)_', 'sq0(?:atp|csp)-', 'SG\\.', 'key-', 'EAA[A-Za-z]',
  'SK', 'AC', 'rubygems_', 'glc_', 'figd_', 'lin_api_', 'pat-(?:na|eu)1-', 'ATATT', 'xkeysib-', 'sl\\.', 'dapi', 'hvs\\.', 'hvb\\.', 's\\.',
  'SWMTKN-', 'ops_', 'secret-token:', 'AccountKey=', 'SharedAccessSignature=', 'sig=',
].join('|');

const RULES: readonly Rule[] = [
  [has(COLON | SLASH | AT), 'url-credentials', /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]*@/i],
  // PEM/OpenSSH headers and bodies (MII… is DER in base64), SSH public keys, age and PuTTY keys.
  [
    any(UPPER | DASH | SPACE),
    'private-key',
    /-----BEGIN|MII[A-Za-z0-9+/]{8}|PRIVATE KEY|ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|AAAA[BC]3NzaC1|AAAAE2VjZHNh|PuTTY-User-Key|AGE-SECRET-KEY-|-----END/i,
  ],
  // `password=…`, `DB_PASS: …`, `Authorization: Basic …`, `Bearer …`.
  [
    any(COLON | EQ | SPACE),
    'password',
    /(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|auth(?:orization)?|credentials?|cookie|session[_-]?id|private[_-]?key|access[_-]?key)["']?\s*[:=]|(?:bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}/i,
  ],
  [has(UPPER), 'jwt', /eyJ[A-Za-z0-9_+/-]{6,}/],
  [any(UPPER | DIGIT | DOT | PLUS | SLASH | EQ), 'api-key', new RegExp(`(?<![A-Za-z0-9])(?:${KEY_PREFIXES})([A-Za-z0-9_.+/=-]{8,})`), randomPayload],
  [any(AT | AMP | SLASH), 'email', /[^\s@]\s{0,3}@\s{0,3}[^\s@]|(?:^|\s)@[A-Za-z0-9_]|&#0*64;|&#x0*40;|&commat;|\\u0040|\\x40/i],
  [any(COLON | DOT), 'url', /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/|(?:^|[^a-z])www\./i],
  // Homes on Linux, macOS, BSD, Solaris, Windows (any case, either slash, escaped), WSL, UNC, Android; `~user/`.
  [
    any(SLASH | TILDE | PERCENT),
    'home-path',
    /[\\/](?:home\d*|users|documents and settings|root|var\/root|sdcard|storage\/emulated|data\/(?:user|data|media))(?:[\\/]|$)|~[A-Za-z0-9._-]*(?:[\\/]|$)|(?:^|[^\\])\\\\[A-Za-z0-9.$?-]+\\|%(?:userprofile|homepath|appdata)%/i,
  ],
  // Any other absolute path with two or more segments: it names a layout, often a user or a project.
  [has(SLASH), 'file-path', /(?:^|[^A-Za-z0-9.])(?:[A-Za-z]:)?[\\/]+[^\s\\/]+[\\/]|^[A-Za-z]:[\\/]/],
  [minDigits(13), 'card', /\d(?:[ .-]?\d){12,}/g, (m) => hasCardNumber(m[0])],
  // Every separator style: 00:1a:2b:3c:4d:5e, 00-1A-…, 001a.2b3c.4d5e, 00 1a …, 001a2b-3c4d5e; EUI-64 too.
  [any(COLON | DASH), 'mac', /(?<!\d)[0-9a-f]{1,2}([:-])(?:[0-9a-f]{1,2}\1){4}[0-9a-f]{1,2}(?![0-9a-f])/i],
  [any(DOT | UNDERSCORE | SPACE), 'mac', /(?<!\d)[0-9a-f]{2}([._ ])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}(?![0-9a-f])/i],
  [any(DOT | COLON | DASH), 'mac', /(?<!\d)[0-9a-f]{4}([.:-])[0-9a-f]{4}\1[0-9a-f]{4}(?![0-9a-f])/i],
  [any(COLON | DASH), 'mac', /(?<!\d)[0-9a-f]{6}[:-][0-9a-f]{6}(?![0-9a-f])/i],
  // Two or more colon-separated hex groups, or `::` (compressed, mapped, zoned, bracketed forms).
  [has(COLON), 'ipv6', /::|(?:[0-9a-f]{1,4}:){2,}[0-9a-f]{1,4}/i],
  // Windows' UNC form: 2001-db8--1.ipv6-literal.net
  [has(DASH), 'ipv6', /ipv6-literal\.net|[0-9a-f]--(?:[0-9a-f.]|$)|^--[0-9a-f]/i],
  [always, 'api-key', /[A-Za-z0-9_+/=-]{16,}/g, isOpaqueToken],
  // Five or more dotted numbers (01.23.45.67.89) or the NANP 415.555.2671: phone, not IPv4.
  [minDigits(5, DOT), 'phone', /(?<![\d.])\d{1,4}(?:\.\d{1,4}){4,}(?![\d.])|(?<![\d.])\d{3}\.\d{3}\.\d{4}(?!\.?\d)/],
  // IPv4 in every inet_aton notation: dotted decimal/octal/hex, one integer, dashed `ip-10-0-0-1`.
  [
    minDigits(4, DOT),
    'ipv4',
    /(?<![\dx])(?:0x[0-9a-f]{1,2}|\d{1,4})\.(?:0x[0-9a-f]{1,2}|\d{1,4})\.(?:0x[0-9a-f]{1,2}|\d{1,4})\.(?:0x[0-9a-f]{1,2}|\d{1,4})(?![\d])/i,
    (m) => m[0].split('.').every(isOctet),
  ],
  [minDigits(4), 'ipv4', /(?<!\d)\d{1,3}([-_ ,])\d{1,3}\1\d{1,3}\1\d{1,3}(?!\d)/],
  [minDigits(1), 'ipv4', /(?<![\w.])\d{8,12}(?![\w.])|(?<!\d)0x[0-9a-f]{6,8}(?![0-9a-f])/gi, (m) => isIpv4Integer(m[0])],
  [minDigits(1, DOT), 'ipv4', /(?<![\w.])(?:0x[0-9a-f]{1,8}|\d{1,10})(?:\.(?:0x[0-9a-f]{1,8}|\d{1,10})){1,2}(?![\w.])/i, (m) => /0x/i.test(m[0])],
  // International (+… or 00…), national ((415) 555-2671, 020 7946 0958), local (555-0199): seven or
  // more digits in groups. Dots are left to the two shapes above so versions (2026.12.15) pass.
  [minDigits(7), 'phone', /\+[\s(]{0,2}\d(?:[\s().\-/]{0,3}\d){6,}|(?<!\d)\d(?:[\s()\-/]{0,3}\d){6,}/],
  [minDigits(2), 'phone', /(?<![A-Za-z0-9])1?[\s.-]?\(?8(?:00|33|44|55|66|77|88)\)?[\s.-]?[A-Z0-9]{3}[\s.-]?[A-Z0-9]{4}/],
  // Twelve hex digits, even glued to a word (mac001a2b3c4d5e): no word has a hex run that long.
  [
    minDigits(1),
    'mac',
    /[0-9a-f]{12,}/gi,
    (m) =>
      /\d/.test(m[0]) &&
      // Stryker disable next-line Regex: equivalent (/[^a-f]/i), a run of twelve digits without a letter is a phone number to an earlier rule
      /[a-f]/i.test(m[0]),
  ],
  // Two or more labels, the last starting with a letter: db.example.com, node1.k8s, host.local.
  [has(DOT), 'hostname', /(?:^|[^A-Za-z0-9.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}\.?(?![A-Za-z0-9-])/],
  [has(DASH), 'hostname', /(?<![A-Za-z0-9.-])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+(?![A-Za-z0-9-])/g, isHostLabel],
  [always, 'hostname', /(?<![A-Za-z0-9_])localhost(?![A-Za-z0-9_])/i],
];

/**
 * Defanged and spelled-out text: `alice [at] example (dot) com`, `10[.]0[.]0[.]1`, `alice at
 * example dot com`. Only bracketed or space-separated forms: catalog names hold neither, so the
 * refanged text goes through every rule.
 */
const DEFANGED = /\s*[[({<]\s*(at|a|dot|\.|@|:)\s*[\])}>]\s*|\s+(at|dot|\.)\s+/gi;
const DEFANGED_HINT = /[[({<]\s*(?:at|a|dot|\.|@|:)\s*[\])}>]|\s(?:at|dot|\.)\s/i;
/**
 * `alice_at_example_dot_com`, `alice-at-example-dot-com`: a whole address. When the value could be
 * a catalog name (`look_at_data`, `teams_at_dashboard_dot_pdf`) it must end in a common top-level
 * domain.
 */
const SPELLED = /\s*[_*#-]+(at|dot)[_*#-]+\s*/gi;
const SPELLED_EMAIL = /[A-Za-z0-9._%+-]@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const CATALOG_SHAPED = /^[a-z][a-z0-9_]*$/;
const SPELLED_CATALOG_SHAPED_EMAIL =
  /[A-Za-z0-9._%+-]@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|edu|gov|mil|io|co|uk|de|fr|nl|ch|be|es|se|no|dk|fi|pl|cz|ru|jp|cn|au|ca|us|br|mx|info|biz|eu)(?![A-Za-z0-9])/i;
const refang = (_m: string, word: string) => {
  const w = word.toLowerCase();
  return w === 'dot' || w === '.' ? '.' : w === ':' ? ':' : '@';
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PERCENT_ESCAPE = /%[0-9a-f]{2}/i;

function matchRules(value: string): ScrubReason | undefined {
  const shape = shapeOf(value);
  for (const [gate, reason, pattern, check] of RULES) {
    if (!gate(shape)) continue;
    if (check === undefined) {
      if (pattern.test(value)) return reason;
      continue;
    }
    if (!pattern.global) {
      const m = pattern.exec(value);
      if (m !== null && check(m)) return reason;
      continue;
    }
    pattern.lastIndex = 0;
    for (let m = pattern.exec(value); m !== null; m = pattern.exec(value)) {
      if (check(m)) {
        pattern.lastIndex = 0;
        return reason;
      }
    }
  }
  // Stryker disable next-line ConditionalExpression: equivalent (true), without a hint DEFANGED matches nothing and the text comes back unchanged
  if (DEFANGED_HINT.test(value)) {
    // Each replacement shortens the text, so this recursion ends.
    // Stryker disable next-line StringLiteral: equivalent, one of DEFANGED's two groups always captures
    const refanged = value.replace(DEFANGED, (m, a?: string, b?: string) => refang(m, a ?? b ?? ''));
    // Stryker disable next-line ConditionalExpression: equivalent (false), every hint is a DEFANGED match and each replacement is shorter, so the text always changes here
    const reason = refanged === value ? undefined : matchRules(refanged);
    if (reason !== undefined) return reason;
  }
  // Stryker disable next-line ConditionalExpression: equivalent (true), without a spelled separator the text is unchanged and an address in it was the email rule's
  if (/[_*#-](?:at|dot)[_*#-]/i.test(value)) {
    const address = CATALOG_SHAPED.test(value) ? SPELLED_CATALOG_SHAPED_EMAIL : SPELLED_EMAIL;
    if (address.test(value.replace(SPELLED, refang))) return 'email';
  }
  return undefined;
}

function percentDecode(value: string): string {
  return value.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// Headcount's own values are ASCII: anything else is a look-alike (fullwidth @, zero-width
// joiners, other scripts' digits) or free text.
const NON_ASCII = /[\u0080-\uffff]/;

/** Why `value` must not leave the install, or `undefined` when it may. */
export function scrubReason(value: string): ScrubReason | undefined {
  if (value.length > MAX_VALUE_LENGTH) return 'too-long';
  if (CONTROL.test(value)) return 'control-chars';
  if (NON_ASCII.test(value)) return 'non-ascii';
  // A canonical UUID is the install id: 122 random bits no scrubber can read (the Collector
  // replaces it with a keyed pseudonym).
  if (UUID.test(value)) return undefined;
  // Stryker disable next-line ConditionalExpression: equivalent (false), decoding text without an escape gives it back, already checked
  if (!PERCENT_ESCAPE.test(value)) return matchRules(value);
  // Percent-encoded (also twice): read what it says, then the text as written.
  let decoded = percentDecode(value);
  // Stryker disable next-line ConditionalExpression: equivalent (true), decoding text without an escape gives it back
  if (PERCENT_ESCAPE.test(decoded)) decoded = percentDecode(decoded);
  if (CONTROL.test(decoded)) return 'control-chars';
  if (NON_ASCII.test(decoded)) return 'non-ascii';
  return matchRules(decoded) ?? matchRules(value);
}
