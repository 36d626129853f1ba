/**
 * Value scrubbers: a string that looks like personal or secret data is dropped whole, never
 * masked or sent in part. The patterns err on the side of dropping: every value Headcount
 * itself produces is a fixed label (bucket, enum, version, UUID), so a hit means something
 * unexpected got into the data.
 */

export type ScrubReason =
  | 'email'
  | 'ipv4'
  | 'ipv6'
  | 'hostname'
  | 'url-credentials'
  | 'url'
  | 'jwt'
  | 'api-key'
  | 'home-path'
  | 'too-long'
  | 'control-chars';

const MAX_VALUE_LENGTH = 64;

const RULES: ReadonlyArray<readonly [ScrubReason, RegExp]> = [
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  ['control-chars', /[\u0000-\u001f\u007f]/],
  ['email', /[^\s@]+@[^\s@]+\.[^\s@]+/],
  ['url-credentials', /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]*@/i],
  ['url', /[a-z][a-z0-9+.-]*:\/\//i],
  ['jwt', /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./],
  ['ipv4', /(?:^|[^0-9.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![0-9])/],
  // Eight groups, or fewer with `::`; also IPv4-mapped forms. Requires at least two colons.
  ['ipv6', /(?:^|[^0-9a-f:])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}(?![0-9a-z])|::(?:[0-9a-f]{1,4}|ffff:)|[0-9a-f]{1,4}::/i],
  // Known secret prefixes (GitHub, Slack, Stripe, AWS, Google, OpenAI-style) and long opaque runs.
  ['api-key', /(?:gh[pousr]_|github_pat_|xox[abprs]-|sk_(?:live|test)_|rk_live_|sk-|AKIA|ASIA|AIza)[A-Za-z0-9_-]{8,}/],
  ['api-key', /[A-Za-z0-9_+/=]{32,}/],
  ['home-path', /(?:^|[\s"'=:])(?:~[/\\]|\/home\/|\/Users\/|\/root(?:\/|$)|[A-Za-z]:\\Users\\)/],
  // Two or more dot-separated labels ending in an alphabetic TLD-like label: db.example.com, host.local.
  ['hostname', /(?:^|[^A-Za-z0-9.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z-]{1,62}(?![A-Za-z0-9-])/],
];

/** Why `value` must not leave the install, or `undefined` when it may. */
export function scrubReason(value: string): ScrubReason | undefined {
  if (value.length > MAX_VALUE_LENGTH) return 'too-long';
  for (const [reason, pattern] of RULES) {
    if (pattern.test(value)) return reason;
  }
  return undefined;
}
