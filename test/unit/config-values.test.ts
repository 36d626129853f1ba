/**
 * src/config.ts: the reasons and warnings operators read when telemetry stays off, and the
 * values that are not a choice (blank means unset).
 */
import { describe, expect, it } from 'vitest';
import { endpointProblem, resolveSettings, type Env, type Preference } from '../../src/config.ts';

const TOKEN = 'tok-1234567890';
const base = { ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://t.example.com' };

function resolve(env: Env, opts: { ci?: { isCI: boolean; name: string | null }; preference?: Preference } = {}) {
  return resolveSettings({
    product: 'acme',
    envPrefix: 'ACME_',
    env,
    defaultEndpoint: undefined,
    ci: opts.ci ?? { isCI: false, name: null },
    readPreference: () => opts.preference,
  });
}

describe('a blank boolean variable is unset, not invalid', () => {
  it.each(['', '   ', '\t'])('DO_NOT_TRACK=%j, <PREFIX>_TELEMETRY_DISABLED and _OFFLINE the same: on, no warning', (blank) => {
    const s = resolve({ ...base, DO_NOT_TRACK: blank, ACME_TELEMETRY_DISABLED: blank, ACME_OFFLINE: blank, ACME_TELEMETRY_FORCE: blank, ACME_TELEMETRY_DEBUG: blank });
    expect(s.enabled).toBe(true);
    expect(s.reason).toBe('ACME_TELEMETRY_TOKEN is set');
    expect(s.warnings).toEqual([]);
  });
});

describe('invalid values: off, with the reason and the warning', () => {
  it('DO_NOT_TRACK', () => {
    const s = resolve({ ...base, DO_NOT_TRACK: 'maybe' });
    expect(s.enabled).toBe(false);
    expect(s.reason).toBe('DO_NOT_TRACK has an invalid value (safe choice: off)');
    expect(s.warnings).toEqual(['DO_NOT_TRACK: not a boolean (use 1/0, true/false)']);
  });

  it('<PREFIX>_OFFLINE', () => {
    const s = resolve({ ...base, ACME_OFFLINE: 'sometimes' });
    expect(s.enabled).toBe(false);
    expect(s.reason).toBe('ACME_OFFLINE has an invalid value (safe choice: off)');
    expect(s.warnings).toEqual(['ACME_OFFLINE: not a boolean (use 1/0, true/false)']);
  });

  it('<PREFIX>_OFFLINE=0 does not block', () => {
    expect(resolve({ ...base, ACME_OFFLINE: '0' }).enabled).toBe(true);
    expect(resolve({ ...base, ACME_OFFLINE: 'off' }).enabled).toBe(true);
  });
});

describe('CI without a known name', () => {
  it('says "CI variable"', () => {
    const s = resolve(base, { ci: { isCI: true, name: null } });
    expect(s.enabled).toBe(false);
    expect(s.reason).toBe('CI detected (CI variable); set ACME_TELEMETRY_FORCE=1 to send from CI');
  });
});

describe('endpointProblem words', () => {
  it.each([
    ['not a url', 'not a URL'],
    ['ftp://t.example.com', 'must be an http(s) URL'],
    ['https://t.example.com/?a=1', 'must not have a query or fragment'],
    ['https://t.example.com/#x', 'must not have a query or fragment'],
    ['https://t.example.com/?', 'must not have a query or fragment'],
    ['https://t.example.com/#', 'must not have a query or fragment'],
    ['https://t.example.com', undefined],
  ])('%s: %s', (raw, problem) => {
    expect(endpointProblem(raw)).toBe(problem);
  });
});

describe('endpoint details', () => {
  it('loopback addresses are exact 127.x.x.x literals', async () => {
    const { isLoopbackHost } = await import('../../src/config.ts');
    for (const host of ['127.0.0.1', '127.0.0.50', '127.0.0.150', '127.0.0.210', '127.255.255.255', 'localhost', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['x127.0.0.1', '127.0.0.1x', '127.0.0.256', '128.0.0.1', '127.attacker.example']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('user info is refused however it is spelled (backslashes, leading blanks, empty)', () => {
    const userinfo = 'must not carry a user name or password before the host (user:pass@); the token goes in its own variable';
    for (const raw of ['https:\\\\user@t.example.com', 'https:\\\\:pw@t.example.com', ' https://@t.example.com', 'https://u:p@t.example.com']) {
      expect(endpointProblem(raw), raw).toBe(userinfo);
    }
    // An `@` after the host (in the path) is no user info.
    expect(endpointProblem('https://t.example.com/p/http://a@b')).toBeUndefined();
  });

  it('the endpoint variable is trimmed; blank means the product default, named as such in the warning', () => {
    expect(resolve({ ...base, ACME_TELEMETRY_ENDPOINT: '  https://t.example.com  ' }).endpoint).toBe('https://t.example.com');
    for (const blank of ['', '   ', undefined]) {
      const s = resolveSettings({
        product: 'acme', envPrefix: 'ACME_', env: blank === undefined ? { ACME_TELEMETRY_TOKEN: TOKEN } : { ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: blank },
        defaultEndpoint: 'http://t.example.com', ci: { isCI: false, name: null }, readPreference: () => undefined,
      });
      expect(s.reason).toBe('the product default endpoint is invalid (safe choice: off)');
      expect(s.warnings).toEqual(['the product default endpoint: plain http is only allowed to a loopback address (localhost, 127.x.x.x, [::1]): the token would travel in clear']);
    }
    const s = resolve({ ...base, ACME_TELEMETRY_ENDPOINT: 'http://t.example.com' });
    expect(s.reason).toBe('ACME_TELEMETRY_ENDPOINT is invalid (safe choice: off)');
  });

  it('a malformed token: the warning says what a token must be', () => {
    expect(resolve({ ...base, ACME_TELEMETRY_TOKEN: 'short' }).warnings).toEqual(['ACME_TELEMETRY_TOKEN: must be 8-512 printable characters without spaces']);
  });
});

describe('off settings', () => {
  it('never debug, and opted out only by an operator choice', () => {
    const dnt = resolve({ ...base, DO_NOT_TRACK: '1', ACME_TELEMETRY_DEBUG: '1' });
    expect(dnt.debug).toBe(false);
    expect(dnt.optedOut).toBe(true);
    const pref = resolve(base, { preference: 'disabled' });
    expect(pref.reason).toBe('disabled by `headcount disable` (persisted preference)');
    expect(pref.optedOut).toBe(true);
    expect(resolve({ ...base, ACME_OFFLINE: '1' }).optedOut).toBe(false);
  });
});
