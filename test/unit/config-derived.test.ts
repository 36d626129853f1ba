/**
 * src/config.ts, values derived from the input: the env prefix folds any run of other characters
 * into one `_`; an enabled endpoint loses every trailing slash; enabled settings are never
 * "opted out".
 */
import { describe, expect, it } from 'vitest';
import { envPrefixFor, resolveSettings, type Env } from '../../src/config.ts';

const TOKEN = 'tok-1234567890';

function resolve(env: Env) {
  return resolveSettings({ product: 'acme', envPrefix: 'ACME_', env, defaultEndpoint: undefined, ci: { isCI: false, name: null }, readPreference: () => undefined });
}

describe('envPrefixFor', () => {
  it('a run of characters other than A-Z and 0-9 becomes one underscore', () => {
    expect(envPrefixFor('my--app')).toBe('MY_APP_');
    expect(envPrefixFor('acme.io app')).toBe('ACME_IO_APP_');
    expect(envPrefixFor('a -._b2')).toBe('A_B2_');
  });
});

describe('enabled settings', () => {
  it('the endpoint loses every trailing slash', () => {
    const s = resolve({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://t.example.com/otlp///' });
    expect(s.enabled).toBe(true);
    expect(s.endpoint).toBe('https://t.example.com/otlp');
    expect(resolve({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://t.example.com//' }).endpoint).toBe('https://t.example.com');
  });

  it('are not opted out (and carry the token, no warnings)', () => {
    const s = resolve({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://t.example.com' });
    expect(s).toMatchObject({ enabled: true, optedOut: false, token: TOKEN, debug: false, warnings: [] });
    expect(resolve({ ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://t.example.com', ACME_TELEMETRY_FORCE: '1' }).optedOut).toBe(false);
  });
});
