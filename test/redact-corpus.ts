/**
 * Generators of values that must never leave an install, one per scrubber class, and of the
 * values Headcount itself sends (which must always pass). Shared by the property tests
 * (`redact.test.ts`) and `npm run bench:privacy`.
 *
 * They try to be honest: the shapes a careless host app or a buggy sender really produces
 * (several notations per class, upper and lower case, in `key=value` or quoted context,
 * truncated to fit, percent-encoded, spelled out), not only the shapes the scrubbers know. What
 * they leave out on purpose: arbitrary encodings (base64 of an address, ciphers), which no
 * pattern can read; the allow-list stops those.
 */
import fc from 'fast-check';
import { BUCKET_LABELS } from '../src/bucket.ts';

type Arb = fc.Arbitrary<string>;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';
const ALNUM = LOWER + UPPER + DIGITS;
const B64URL = ALNUM + '-_';
const B64 = ALNUM + '+/';

export const chars = (alphabet: string, min: number, max = min): Arb =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const int = (min: number, max: number) => fc.integer({ min, max });
const pick = <T>(...values: T[]) => fc.constantFrom(...values);
/** A weighted choice of forms. */
const forms = <T>(...entries: Array<readonly [number, fc.Arbitrary<T>]>): fc.Arbitrary<T> =>
  fc.oneof(...entries.map(([weight, arbitrary]) => ({ weight, arbitrary })));
const upperOr = (a: Arb, p = 0.3): Arb => fc.tuple(a, fc.double({ min: 0, max: 1, noNaN: true })).map(([s, r]) => (r < p ? s.toUpperCase() : s));

const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar', 'peggy', 'trent', 'victor', 'walter', 'jose', 'mei', 'olu', 'priya', 'sven', 'yuki', 'ana', 'li'];
const LAST = ['smith', 'jones', 'garcia', 'mueller', 'rossi', 'tanaka', 'kowalski', 'nguyen', 'okafor', 'schmidt', 'dubois', 'silva', 'ivanova', 'kim', 'patel', 'o-brien'];
const WORDS = ['db', 'web', 'api', 'mail', 'prod', 'staging', 'corp', 'internal', 'acme', 'example', 'cluster', 'node', 'app', 'git', 'vpn', 'office', 'backup', 'store', 'cdn', 'edge'];
const TLDS = ['com', 'org', 'net', 'io', 'de', 'co.uk', 'com.au', 'fr', 'nl', 'dev', 'app', 'xyz', 'edu', 'gov', 'local', 'lan', 'internal', 'corp', 'home.arpa', 'cloud', 'tech', 'ch', 'jp', 'k8s'];

const first = pick(...FIRST);
const last = pick(...LAST);
const word = pick(...WORDS);
const tld = pick(...TLDS);

/** A value in the context a host app puts it in: alone most often, else after a key or quoted. */
const PREFIXES = ['', '', '', '', '', 'value=', 'id: ', '"', "'", '(', 'from ', 'x=', 'user=', '[', '<', 'env:', ' ', 'ip', 'mac', 'id', 'Host', '#'];
const SUFFIXES = ['', '', '', '', '', '"', "'", ')', ';', ',', ' ', ']', '>', '.', ' ok', '&v=1', 'x', 'ok', '_1', '\\n'];
export const inContext = (a: Arb): Arb => fc.tuple(pick(...PREFIXES), a, pick(...SUFFIXES)).map(([p, v, s]) => p + v + s);

const percent = (s: string) => s.replace(/[@.:/\\ ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

// --- email -------------------------------------------------------------------------------------
const localPart = forms(
  [3, first],
  [3, fc.tuple(first, pick('.', '_', '-', ''), last).map(([a, s, b]) => a + s + b)],
  [2, fc.tuple(first, int(1, 9999)).map(([a, n]) => `${a}${n}`)],
  [1, fc.tuple(first, chars(LOWER + DIGITS, 2, 8)).map(([a, t]) => `${a}+${t}`)],
  [1, fc.tuple(first, last).map(([a, b]) => `${a[0]}${b}`)],
  [1, chars(LOWER + DIGITS + '._', 3, 16).map((s) => `x${s}`)],
  [1, pick('admin', 'root', 'info', 'noreply', 'support', 'postmaster', 'ops')],
);
const domain = forms(
  [5, fc.tuple(word, tld).map(([w, t]) => `${w}.${t}`)],
  [2, fc.tuple(word, word, tld).map(([a, b, t]) => `${a}.${b}.${t}`)],
  [1, fc.tuple(word, int(1, 99), tld).map(([w, n, t]) => `${w}${n}.${t}`)],
  [1, fc.tuple(word, word, tld).map(([a, b, t]) => `${a}-${b}.${t}`)],
  [1, pick('gmail.com', 'outlook.com', 'yahoo.co.jp', 'proton.me', 'web.de', 'icloud.com', 'example.org')],
);
const spelledAt = pick(' at ', ' AT ', ' [at] ', '[at]', '(at)', ' (at) ', '{at}', ' <at> ', ' -at- ', '(a)', ' [AT] ', ' *at* ');
const spelledDot = pick(' dot ', ' DOT ', ' [dot] ', '[dot]', '(dot)', ' (dot) ', '{dot}', '.', '.', ' . ', '[.]');
const tldWords = pick('com', 'org', 'net', 'io', 'de', 'co dot uk', 'fr');
/**
 * `alice_at_example_dot_com`: when the whole value is lower case, digits and `_` it is also a
 * valid catalog name, so it counts as an address only when it ends in a common top-level domain
 * (`erin_at_mail_dot_dex` passes). Not in the core forms for that reason.
 */
const underscoreSpelled = fc
  .tuple(localPart, pick('_at_', '-at-', '#at#', '*at*'), word, pick('_dot_', '-dot-', '.', '_dot_'), pick('com', 'org', 'net', 'io', 'de', 'fr'))
  .map(([l, at, w, dot, t]) => `${l}${at}${w}${dot}${t}`);
const emailCore: Arb = forms(
  [12, inContext(fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`))],
  [2, fc.tuple(upperOr(localPart, 1), upperOr(domain, 1)).map(([l, d]) => `${l}@${d}`)],
  [1, fc.tuple(localPart, domain).map(([l, d]) => `mailto:${l}@${d}`)],
  [1, fc.tuple(first, localPart, domain).map(([n, l, d]) => `${n} <${l}@${d}>`)],
  [1, fc.tuple(localPart, word).map(([l, w]) => `${l}@${w}`)], // no TLD: alice@fileserver
  [1, fc.tuple(localPart, domain, pick(' @ ', '[@]', '(@)', ' @', '@ ')).map(([l, d, at]) => `${l}${at}${d}`)],
  // Spelled out: `alice at example dot com`, `alice [at] example [dot] com`, …
  [4, fc.tuple(localPart, spelledAt, word, spelledDot, tldWords).map(([l, at, w, dot, t]) => `${l}${at}${w}${dot}${t}`)],
  [1, fc.tuple(localPart, domain).map(([l, d]) => percent(`${l}@${d}`))],
  [1, fc.tuple(localPart, domain).map(([l, d]) => `${l}\uff20${d}`)], // fullwidth @
  [2, fc.emailAddress()], // fast-check's own RFC 5322 generator: shapes written by someone else
  [1, fc.tuple(localPart, domain, pick('&#64;', '&#x40;', '&commat;', '\\u0040', '\\x40')).map(([l, d, at]) => `${l}${at}${d}`)], // HTML or JSON escaped
);
export const email: Arb = forms([34, emailCore], [2, inContext(underscoreSpelled)]);

// --- IPv4 --------------------------------------------------------------------------------------
const octet = int(0, 255);
const ipv4Octets = forms<readonly number[]>(
  [3, fc.tuple(int(1, 223), octet, octet, octet)],
  [2, fc.tuple(octet, octet, octet).map(([b, c, d]) => [10, b, c, d])],
  [2, fc.tuple(octet, octet).map(([c, d]) => [192, 168, c, d])],
  [1, fc.tuple(int(16, 31), octet, octet).map(([b, c, d]) => [172, b, c, d])],
  [1, fc.tuple(octet, octet).map(([c, d]) => [100, 64 + (c % 64), c, d])],
  [1, pick<readonly number[]>([127, 0, 0, 1], [8, 8, 8, 8], [1, 1, 1, 1], [169, 254, 169, 254], [203, 0, 113, 9])],
);
const ipNumber = (o: readonly number[]) => ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
const ipv4Core: Arb = forms(
  [14, inContext(ipv4Octets.map((o) => o.join('.')))],
  [2, fc.tuple(ipv4Octets, int(1, 65535)).map(([o, p]) => `${o.join('.')}:${p}`)],
  [1, fc.tuple(ipv4Octets, int(8, 32)).map(([o, p]) => `${o.join('.')}/${p}`)],
  [1, ipv4Octets.map((o) => o.map((x) => String(x).padStart(3, '0')).join('.'))],
  [1, ipv4Octets.map((o) => o.map((x) => `0${x.toString(8)}`).join('.'))],
  [1, ipv4Octets.map((o) => o.map((x) => `0x${x.toString(16)}`).join('.'))],
  [2, ipv4Octets.map((o) => String(ipNumber(o)))],
  [1, ipv4Octets.map((o) => `0x${ipNumber(o).toString(16)}`)],
  [1, ipv4Octets.map((o) => `0${ipNumber(o).toString(8)}`)],
  [2, ipv4Octets.map((o) => `ip-${o.join('-')}`)],
  [1, fc.tuple(ipv4Octets, pick('-', '_')).map(([o, s]) => o.join(s))],
  [1, fc.tuple(ipv4Octets, pick('eu-west-1', 'us-east-2', 'ap-south-1')).map(([o, r]) => `ec2-${o.join('-')}.${r}.compute`)],
  [1, ipv4Octets.map((o) => `${[...o].reverse().join('.')}.in-addr.arpa`)],
  [1, ipv4Octets.map((o) => `::ffff:${o.join('.')}`)],
  [1, ipv4Octets.map((o) => `${o.join('.')}.nip.io`)],
  [1, ipv4Octets.map((o) => percent(o.join('.')))],
  [1, ipv4Octets.map((o) => `[${o.join('.')}]`)],
  [1, fc.tuple(ipv4Octets, pick('[.]', '(.)', ' . ', ' dot ', '[dot]')).map(([o, s]) => o.join(s))], // defanged
);
/** With fast-check's inet_aton forms: 1- to 3-part ones (`10.1`, `167772161`, `30`) can't all be told from counts and versions. */
export const ipv4: Arb = forms([13, ipv4Core], [1, fc.ipV4Extended()]);

// --- IPv6 --------------------------------------------------------------------------------------
const group = chars(HEX, 1, 4).map((g) => g.replace(/^0+(?=.)/, ''));
const groups = (n: number) => fc.array(group, { minLength: n, maxLength: n });
const ipv6Text = forms(
  [3, groups(8).map((g) => g.join(':'))],
  [1, groups(8).map((g) => g.map((x) => x.padStart(4, '0')).join(':'))],
  [4, fc.tuple(groups(8), int(0, 6), int(1, 7)).map(([g, at, len]) => compress(g, at, len))],
  [2, fc.tuple(pick('fe80', 'fd00', 'fd12:3456', '2001:db8', '2a02:1810', '2600:1f18', 'fc00'), groups(4)).map(([p, g]) => `${p}::${g.join(':')}`)],
  [1, pick('::1', '::', 'fe80::1', '::ffff:0:0', '2001:db8::1', 'ff02::1')],
  [1, ipv4Octets.map((o) => `64:ff9b::${o.join('.')}`)],
);
function compress(g: string[], at: number, len: number): string {
  const end = Math.min(8, at + len);
  const head = g.slice(0, at).join(':');
  const tail = g.slice(end).join(':');
  return `${head}::${tail}`;
}
export const ipv6: Arb = forms(
  [10, inContext(upperOr(ipv6Text, 0.2))],
  [1, fc.tuple(ipv6Text, pick('eth0', '1', 'en0', 'wlan0')).map(([a, z]) => `${a}%${z}`)],
  [1, fc.tuple(ipv6Text, int(1, 65535)).map(([a, p]) => `[${a}]:${p}`)],
  [1, fc.tuple(ipv6Text, int(16, 128)).map(([a, p]) => `${a}/${p}`)],
  [1, ipv6Text.map((a) => `${a.replace(/:/g, '-')}.ipv6-literal.net`)],
  [1, ipv6Text.map((a) => percent(a).replace(/:/g, '%3A'))],
  [2, fc.ipV6()],
);

// --- MAC ---------------------------------------------------------------------------------------
const byte = chars(HEX, 2);
const macBytes = forms<string[]>(
  [4, fc.array(byte, { minLength: 6, maxLength: 6 })],
  [1, fc.tuple(pick('00:1a:2b', '3c:22:fb', 'b8:27:eb', 'dc:a6:32', '00:50:56', '08:00:27', '52:54:00', 'f0:18:98', 'ac:de:48'), fc.array(byte, { minLength: 3, maxLength: 3 })).map(([oui, rest]) => [...oui.split(':'), ...rest])],
);
export const mac: Arb = forms(
  [4, inContext(upperOr(macBytes.map((b) => b.join(':'))))],
  [3, upperOr(macBytes.map((b) => b.join('-')), 0.6)],
  [2, upperOr(macBytes.map((b) => b.join('')))],
  [1, fc.tuple(pick('mac=', 'eth0 ', 'hw-', 'wlan0_', '0x'), macBytes).map(([p, b]) => p + b.join(''))],
  [2, macBytes.map((b) => `${b[0]}${b[1]}.${b[2]}${b[3]}.${b[4]}${b[5]}`)],
  [1, macBytes.map((b) => `${b[0]}${b[1]}-${b[2]}${b[3]}-${b[4]}${b[5]}`)],
  [1, fc.tuple(macBytes, pick('-', ':')).map(([b, s]) => `${b.slice(0, 3).join('')}${s}${b.slice(3).join('')}`)],
  [1, fc.tuple(macBytes, pick(' ', '_', '.')).map(([b, s]) => b.join(s))],
  [1, macBytes.map((b) => b.map((x) => x.replace(/^0/, '')).join(':'))], // 8:0:20:1a:2b:3c
  [1, fc.tuple(macBytes, pick(':', '-')).map(([b, s]) => [...b.slice(0, 3), 'ff', 'fe', ...b.slice(3)].join(s))], // EUI-64
);

// --- card --------------------------------------------------------------------------------------
function luhnComplete(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = Number(body[i]) * (double ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}
const BRANDS: Array<readonly [string, number]> = [
  ['4', 16], ['4', 13], ['4', 19], ['51', 16], ['52', 16], ['53', 16], ['54', 16], ['55', 16], ['2221', 16], ['2720', 16],
  ['34', 15], ['37', 15], ['6011', 16], ['65', 16], ['644', 16], ['35', 16], ['36', 14], ['300', 14], ['62', 16], ['62', 19],
  ['6759', 16], ['5018', 18], ['6304', 19],
];
const cardDigits = fc.tuple(pick(...BRANDS), chars(DIGITS, 19)).map(([[prefix, len], fill]) => luhnComplete(prefix + fill.slice(0, len - prefix.length - 1)));
const grouped = (d: string, sep: string) => (d.length === 15 ? [d.slice(0, 4), d.slice(4, 10), d.slice(10)] : d.match(/.{1,4}/g)!).join(sep);
export const card: Arb = forms(
  [4, inContext(cardDigits)],
  [4, inContext(fc.tuple(cardDigits, pick(' ', '-')).map(([d, s]) => grouped(d, s)))],
  [1, cardDigits.map((d) => grouped(d, '.'))],
  [1, fc.tuple(pick('card=', 'cc: ', 'pan=', 'Card number ', 'visa '), cardDigits).map(([p, d]) => p + d)],
  [1, fc.tuple(cardDigits, int(1, 12), int(26, 33)).map(([d, m, y]) => `${grouped(d, ' ')} ${String(m).padStart(2, '0')}/${y}`)],
  [1, cardDigits.map((d) => percent(grouped(d, ' ')))],
);

// --- phone -------------------------------------------------------------------------------------
const d = (n: number) => chars(DIGITS, n);
const nz = (n: number) => fc.tuple(pick(...'23456789'), d(n - 1)).map(([a, b]) => a + b);
const phoneText = forms(
  // NANP
  [2, fc.tuple(nz(3), nz(3), d(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`)],
  [2, fc.tuple(nz(3), nz(3), d(4)).map(([a, b, c]) => `${a}-${b}-${c}`)],
  [1, fc.tuple(nz(3), nz(3), d(4)).map(([a, b, c]) => `${a}.${b}.${c}`)],
  [1, fc.tuple(nz(3), nz(3), d(4)).map(([a, b, c]) => `${a} ${b} ${c}`)],
  [1, fc.tuple(nz(3), nz(3), d(4)).map(([a, b, c]) => `${a}${b}${c}`)],
  [2, fc.tuple(nz(3), nz(3), d(4), pick('+1 ', '+1-', '1-', '+1', '1 ', '+1.', '001 ')).map(([a, b, c, p]) => `${p}${a}${p.endsWith('.') ? '.' : p.endsWith('-') ? '-' : ' '}${b}-${c}`)],
  [1, fc.tuple(nz(3), d(4)).map(([a, b]) => `${a}-${b}`)], // local 555-0199
  [1, fc.tuple(pick('800', '888', '877'), chars(UPPER, 7)).map(([a, w]) => `1-${a}-${w}`)],
  // UK, DE, FR, NL, IN, JP, AU, BR
  [1, fc.tuple(d(4), d(4)).map(([a, b]) => `+44 20 ${a} ${b}`)],
  [1, fc.tuple(d(4), d(4)).map(([a, b]) => `020 ${a} ${b}`)],
  [1, fc.tuple(d(3), d(6)).map(([a, b]) => `07${a} ${b}`)],
  [1, fc.tuple(nz(2), d(7)).map(([a, b]) => `+49 ${a} ${b}`)],
  [1, fc.tuple(nz(2), d(7)).map(([a, b]) => `+49 (0)${a} ${b}`)],
  [1, fc.tuple(nz(3), d(7)).map(([a, b]) => `0${a} ${b}`)],
  [1, fc.tuple(nz(3), d(7)).map(([a, b]) => `0049 ${a}/${b}`)],
  [1, fc.array(d(2), { minLength: 4, maxLength: 4 }).map((g) => `01 ${g.join(' ')}`)],
  [1, fc.array(d(2), { minLength: 4, maxLength: 4 }).map((g) => `06.${g.join('.')}`)],
  [1, fc.array(d(2), { minLength: 4, maxLength: 4 }).map((g) => `+33 6 ${g.join(' ')}`)],
  [1, fc.tuple(d(3), d(3), d(3)).map(([a, b, c]) => `+31 6 ${a}${b}${c}`.slice(0, 15))],
  [1, fc.tuple(nz(5), d(5)).map(([a, b]) => `+91 ${a} ${b}`)],
  [1, fc.tuple(d(4), d(4)).map(([a, b]) => `03-${a}-${b}`)],
  [1, fc.tuple(d(3), d(3)).map(([a, b]) => `04${a.slice(0, 2)} ${a} ${b}`)],
  [1, fc.tuple(d(4), d(4)).map(([a, b]) => `+55 11 9${a}-${b}`)],
  // E.164 from any country
  [2, fc.tuple(int(1, 998), nz(9), int(0, 3)).map(([cc, n, extra]) => `+${cc}${n}${'7'.repeat(extra)}`)],
);
export const phone: Arb = forms(
  [8, inContext(phoneText)],
  [1, fc.tuple(pick('tel:', 'phone=', 'mobile: ', 'Tel. ', 'call '), phoneText).map(([p, n]) => p + n)],
  [1, fc.tuple(phoneText, pick(' x', ' ext. ', ' ext '), int(1, 9999)).map(([n, x, e]) => `${n}${x}${e}`)],
  [1, phoneText.map(percent)],
);

// --- JWT ---------------------------------------------------------------------------------------
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const jwtHeader = pick('{"alg":"HS256","typ":"JWT"}', '{"alg":"RS256","typ":"JWT","kid":"k1"}', '{"typ":"JWT","alg":"ES256"}', '{"alg":"none"}', '{"kid":"2024","alg":"EdDSA"}');
const jwtFull = fc
  .tuple(jwtHeader, first, int(1_600_000_000, 1_900_000_000), chars(B64URL, 43))
  .map(([h, sub, iat, sig]) => `${b64url(h)}.${b64url(JSON.stringify({ sub, iat }))}.${sig}`);
export const jwt: Arb = forms(
  [3, jwtFull],
  [4, fc.tuple(jwtFull, int(12, 64)).map(([t, n]) => t.slice(0, n))], // truncated to fit a field
  [2, fc.tuple(pick('Bearer ', 'token=', 'jwt: ', 'Authorization: Bearer '), jwtFull, int(20, 64)).map(([p, t, n]) => (p + t).slice(0, n))],
  [1, fc.tuple(jwtFull, int(12, 64)).map(([t, n]) => t.split('.').slice(1).join('.').slice(0, n))], // payload first: eyJzdWIi…
);

// --- API keys and other secrets -----------------------------------------------------------------
const key = (prefix: string, alphabet: string, n: number): Arb => chars(alphabet, n).map((s) => prefix + s);
const keyShape = forms(
  [2, key('ghp_', ALNUM, 36)], [1, key('gho_', ALNUM, 36)], [1, key('ghs_', ALNUM, 36)], [1, key('github_pat_', ALNUM + '_', 50)],
  [2, key('glpat-', B64URL, 20)], [1, key('glrt-', B64URL, 20)], [2, key('GOCSPX-', B64URL, 28)],
  [2, key('AKIA', UPPER + '234567', 16)], [1, key('ASIA', UPPER + '234567', 16)], [2, chars(B64, 40)], // AWS secret key alone
  [2, key('AIza', B64URL, 35)], [1, fc.tuple(d(11), d(12), chars(ALNUM, 24)).map(([a, b, c]) => `xoxb-${a}-${b}-${c}`)],
  [2, key('sk_live_', ALNUM, 24)], [1, key('rk_live_', ALNUM, 24)], [1, key('sk_test_', ALNUM, 24)], [1, key('whsec_', ALNUM, 32)],
  [2, key('sk-', ALNUM, 48)], [1, key('sk-proj-', B64URL, 48)], [1, key('sk-ant-api03-', B64URL, 40)],
  [1, key('hf_', ALNUM, 34)], [2, key('npm_', ALNUM, 36)], [1, key('pypi-AgEIcHlwaS5vcmc', B64URL, 40)], [1, key('key-', HEX, 32)],
  [1, key('SK', HEX, 32)], [1, key('AC', HEX, 32)], [1, key('shpat_', HEX, 32)], [1, key('dop_v1_', HEX, 40)], [1, key('hvs.', ALNUM, 24)],
  [1, key('SG.', B64URL, 22)], [1, key('glc_', B64, 40)], [1, key('ya29.', B64URL, 40)], [1, key('xapp-1-', ALNUM, 30)],
  [2, chars(HEX, 32)], [2, chars(HEX, 40)], [1, chars(HEX, 64)], [1, chars(ALNUM, 24)], [1, chars(B64URL, 32)],
);
const password = forms([2, chars(ALNUM + '!#$%&*?', 8, 20)], [1, fc.tuple(first, int(1, 9999)).map(([a, n]) => `${a}${n}!`)], [1, pick('hunter2', 'correcthorsebatterystaple', 'P@ssw0rd', 'letmein', 'changeme')]);
const secretKv = fc
  .tuple(pick('password', 'PASSWORD', 'passwd', 'pwd', 'pass', 'db_password', 'DB_PASS', 'MYSQL_PWD', 'secret', 'client_secret', 'api_key', 'apiKey', 'token', 'access_token', 'auth', 'PGPASSWORD', 'private_key', 'session_id', 'cookie'), pick('=', ': ', ':', ' = ', '":"', '='), password)
  .map(([k, s, v]) => `${k}${s}${v}`);
const apiKeyCore: Arb = forms(
  [10, inContext(keyShape)],
  [2, fc.tuple(pick('-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----', '-----BEGIN EC PRIVATE KEY-----', '-----BEGIN ENCRYPTED PRIVATE KEY-----', '-----BEGIN PGP PRIVATE KEY BLOCK-----'), chars(B64, 0, 20)).map(([h, b]) => h + b)],
  [1, fc.tuple(pick('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'MIIEpAIBAAKCAQEA', 'b3BlbnNzaC1rZXktdjEAAAAA'), chars(B64, 8, 30)).map(([a, b]) => a + b)], // key body without its header
  [2, fc.tuple(pick('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ', 'ecdsa-sha2-nistp256 AAAAE2VjZHNh'), chars(B64, 0, 20)).map(([a, b]) => (a + b).slice(0, 64))],
  [4, inContext(secretKv)],
  [1, fc.tuple(pick('Bearer ', 'Basic ', 'token '), chars(B64, 16, 40)).map(([a, b]) => a + b)],
  [1, fc.tuple(pick('postgres', 'mysql', 'redis', 'amqp', 'mongodb'), first, password, word).map(([s, u, p, h]) => `${s}://${u}:${p.replace(/[@/:]/g, 'x')}@${h}`)],
  [1, chars(B64, 32).map((k) => `AccountKey=${k}`)],
);
/** With keys truncated to 12–30 characters: some keep little more than their prefix. */
export const apiKey: Arb = forms([20, apiKeyCore], [1, fc.tuple(keyShape, int(12, 30)).map(([k, n]) => k.slice(0, n))]);

// --- home paths --------------------------------------------------------------------------------
const user = forms([3, first], [2, fc.tuple(first, last).map(([a, b]) => `${a}.${b}`)], [1, fc.tuple(first, int(1, 99)).map(([a, n]) => `${a}${n}`)], [1, fc.tuple(first, last).map(([a, b]) => `${a[0]}${b}`)]);
const rest = pick('', 'app', 'data', '.config/acme', 'projects/acme', 'Documents', 'Library/Application Support/acme', 'AppData', '.local/share/acme', 'src');
const unix = (root: string) => fc.tuple(user, rest).map(([u, r]) => `${root}/${u}${r === '' ? '' : `/${r}`}`);
const win = (root: string, sep: string) => fc.tuple(user, rest).map(([u, r]) => [root, u, ...r.split('/').filter(Boolean)].join(sep));
export const homePath: Arb = forms(
  [5, inContext(unix('/home'))], [4, inContext(unix('/Users'))], [4, inContext(win('C:\\Users', '\\'))],
  [1, win('c:\\users', '\\')], [1, win('C:/Users', '/')], [1, win('D:\\Users', '\\')], [1, win('C:\\\\Users', '\\\\')], // JSON-escaped
  [1, win('C:\\Documents and Settings', '\\')], [1, rest.map((r) => `~/${r}`)], [1, fc.tuple(user, rest).map(([u, r]) => `~${u}/${r}`)],
  [1, unix('/var/home')], [1, unix('/mnt/c/Users')], [1, unix('/export/home')], [1, unix('/usr/home')], [1, unix('/home2')],
  [1, win('\\\\fileserver\\home', '\\')], [1, win('\\\\nas01\\users', '\\')], [1, win('\\\\wsl$\\Ubuntu\\home', '\\')], [1, win('//fileserver/home', '/')],
  [1, rest.map((r) => `/root/${r}`)], [1, rest.map((r) => `/storage/emulated/0/${r}`)], [1, fc.tuple(user, rest).map(([u, r]) => percent(`/home/${u}/${r}`))],
  [1, fc.tuple(user, rest).map(([u, r]) => `file:///home/${u}/${r}`)],
);

// --- host names (not a structured class: single lower-case labels look like catalog names) ------
export const hostname: Arb = forms(
  [4, inContext(fc.tuple(word, word, tld).map(([a, b, t]) => `${a}.${b}.${t}`))],
  [2, fc.tuple(word, int(1, 99), tld).map(([a, n, t]) => `${a}${n}.${t}`)],
  [1, fc.tuple(word, int(1, 9), word, int(1, 9)).map(([a, n, b, m]) => `${a}${n}.${b}${m}`)], // digit labels: node1.k8s2
  [1, fc.tuple(int(1, 999), word, tld).map(([n, a, t]) => `${n}.${a}.${t}`)],
  [2, fc.tuple(word, int(1, 99)).map(([a, n]) => `${a}-${String(n).padStart(2, '0')}`)],
  [2, fc.tuple(word, int(1, 99)).map(([a, n]) => `${a}${n}`)], // db1, web12: look like catalog names
  [1, chars(UPPER + DIGITS, 7).map((s) => `DESKTOP-${s}`)], [1, chars(UPPER + DIGITS, 11).map((s) => `WIN-${s}`)],
  [1, fc.tuple(first, pick('MacBook-Pro', 'MacBook-Air', 'iMac', 'mbp', 'laptop', 'pc')).map(([n, m]) => `${n[0]!.toUpperCase()}${n.slice(1)}s-${m}`)],
  [1, fc.tuple(word, chars('bcdfghjklmnpqrstvwxz2456789', 10), chars('bcdfghjklmnpqrstvwxz2456789', 5)).map(([a, h, s]) => `${a}-${h}-${s}`)], // k8s pod
  [1, pick('localhost', 'raspberrypi', 'ubuntu', 'debian', 'nas', 'homeassistant')],
  [2, fc.domain()],
);

// --- legitimate Headcount values ---------------------------------------------------------------
const FEATURE_WORDS = ['export', 'import', 'csv', 'pdf', 'sso', 'saml', 'oidc', 'ldap', 'oauth2', 'webhook', 'webhooks', 'api', 'v2', 'dark', 'mode', 'backup', 'restore', 'schedule', 'report', 'reports', 'alert', 'alerts', 'email', 'slack', 'teams', 's3', 'gcs', 'azure', 'blob', 'storage', 'search', 'index', 'user', 'users', 'team', 'teams', 'project', 'projects', 'server', 'servers', 'agent', 'agents', 'plugin', 'plugins', 'theme', 'custom', 'dashboard', 'dashboards', 'audit', 'log', 'logs', 'metrics', 'sync', 'mirror', 'cache', 'redis', 'postgres', 'mysql', 'sqlite', 'ipv6', 'tls', 'mfa', 'totp', 'webauthn', 'passkey', 'password', 'reset', 'token', 'refresh', 'session', 'auth', 'host', 'name', 'domain', 'phone', 'card', 'path', 'home', 'mac', 'ip', 'at', 'dot', 'key', 'secret', 'npm', 'hf', 'gh', 'publish', 'count', 'per', 'day', 'x2', 'k8s', 'helm', 'docker', 'arm64', 'amd64', 'gpu', 'cuda'];
export const catalogName: Arb = fc
  .array(pick(...FEATURE_WORDS), { minLength: 1, maxLength: 6 })
  .map((ws) => ws.join('_'))
  .filter((n) => /^[a-z][a-z0-9_]{0,62}$/.test(n));
const PRE = ['alpha', 'beta', 'rc', 'dev', 'pre', 'canary', 'nightly'];
export const version: Arb = forms(
  [4, fc.tuple(int(0, 30), int(0, 99), int(0, 999)).map((v) => v.join('.'))],
  [2, fc.tuple(int(0, 30), int(0, 99), int(0, 99), pick(...PRE), pick('', '.', ''), int(0, 999)).map(([a, b, c, p, s, n]) => `${a}.${b}.${c}-${p}${s === '.' ? `.${n}` : n % 2 === 0 ? '' : n}`)],
  [1, fc.tuple(int(2015, 2030), int(1, 12), int(0, 31)).map(([y, m, p]) => `${y}.${m}.${p}`)], // calendar versions
  [1, fc.tuple(int(20, 30), pick('04', '10', '01', '07'), int(0, 9)).map(([y, m, p]) => `${y}.${m}.${p}`)],
);
const uuid = fc.uuid({ version: 4 });
export const legitimate: Arb = forms(
  [3, pick(...BUCKET_LABELS)],
  [1, pick('0', '1')],
  [2, pick('linux', 'darwin', 'windows', 'freebsd', 'other', 'amd64', 'arm64', 'arm32', 'x86', 'ppc64', 's390x', 'nodejs', 'stable', 'rc', 'dev', 'container', 'kubernetes')],
  [1, fc.tuple(int(18, 26), int(0, 40)).map(([a, b]) => `${a}.${b}`)], // process.runtime.version
  [3, version],
  [2, uuid],
  [4, catalogName],
  [1, fc.tuple(pick('acme', 'gitea', 'nextcloud', 'my_app', 'acme-server', 'home-assistant', 'plausible', 'umami', 'n8n', 'metabase', 'acme-agent'), pick('', '', '-web', '_worker', '-cli')).map(([a, b]) => a + b)], // service names
);

/**
 * Per structured class, the forms the scrubbers must always catch (a property: every value).
 * The full classes below add forms that can't all be caught (≤ 1 % misses is the promise).
 */
export const CORE: Readonly<Record<string, Arb>> = { email: emailCore, ipv4: ipv4Core, ipv6, mac, card, phone, jwt, 'api-key': apiKeyCore, 'home-path': homePath };

/** The structured classes the scrubbers promise to catch (≤ 1 % misses). */
export const STRUCTURED: Readonly<Record<string, Arb>> = { email, ipv4, ipv6, mac, card, phone, jwt, 'api-key': apiKey, 'home-path': homePath };
