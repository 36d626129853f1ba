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
