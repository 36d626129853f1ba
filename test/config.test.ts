import { describe, expect, it } from 'vitest';
import { endpointProblem, envPrefixFor, resolveSettings, type Env, type Preference } from '../src/config.ts';

const TOKEN = 'tok-1234567890';
const base = { ACME_TELEMETRY_TOKEN: TOKEN, ACME_TELEMETRY_ENDPOINT: 'https://t.example.com' };

function resolve(env: Env, opts: { ci?: boolean; preference?: Preference; defaultEndpoint?: string } = {}) {
  return resolveSettings({
    product: 'acme',
    envPrefix: 'ACME_',
    env,
    defaultEndpoint: opts.defaultEndpoint,
    ci: { isCI: opts.ci ?? false, name: opts.ci ? 'GitHub Actions' : null },
    readPreference: () => opts.preference,
  });
}

describe('consent and its reason', () => {
  const cases: Array<[string, Env, { ci?: boolean; preference?: Preference }, boolean, RegExp]> = [
    ['no token', {}, {}, false, /ACME_TELEMETRY_TOKEN is not set/],
    ['empty token means unset', { ACME_TELEMETRY_TOKEN: '  ' }, {}, false, /ACME_TELEMETRY_TOKEN is not set/],
    ['token set', base, {}, true, /ACME_TELEMETRY_TOKEN is set/],
    ['DO_NOT_TRACK=1 wins over a token', { ...base, DO_NOT_TRACK: '1' }, {}, false, /DO_NOT_TRACK is set/],
    ['DO_NOT_TRACK=true', { ...base, DO_NOT_TRACK: 'true' }, {}, false, /DO_NOT_TRACK/],
    ['DO_NOT_TRACK=0 does not block', { ...base, DO_NOT_TRACK: '0' }, {}, true, /TOKEN is set/],
    ['DISABLED=1', { ...base, ACME_TELEMETRY_DISABLED: '1' }, {}, false, /ACME_TELEMETRY_DISABLED is set/],
    ['DISABLED=maybe is off', { ...base, ACME_TELEMETRY_DISABLED: 'maybe' }, {}, false, /ACME_TELEMETRY_DISABLED has an invalid value/],
    ['DISABLED=false does not block', { ...base, ACME_TELEMETRY_DISABLED: 'false' }, {}, true, /TOKEN is set/],
    ['OFFLINE=1', { ...base, ACME_OFFLINE: '1' }, {}, false, /ACME_OFFLINE is set/],
    ['CI', base, { ci: true }, false, /CI detected \(GitHub Actions\)/],
    ['CI forced', { ...base, ACME_TELEMETRY_FORCE: '1' }, { ci: true }, true, /ACME_TELEMETRY_FORCE=1/],
    ['CI with enable preference', base, { ci: true, preference: 'enabled' }, true, /headcount enable/],
    ['NODE_ENV=test', { ...base, NODE_ENV: 'test' }, {}, false, /NODE_ENV=test/],
    ['NODE_ENV=development', { ...base, NODE_ENV: 'development' }, {}, false, /NODE_ENV=development/],
    ['NODE_ENV=development forced', { ...base, NODE_ENV: 'development', ACME_TELEMETRY_FORCE: 'yes' }, {}, true, /FORCE/],
    ['NODE_ENV=production', { ...base, NODE_ENV: 'production' }, {}, true, /TOKEN is set/],
    ['disable preference beats token and force', { ...base, ACME_TELEMETRY_FORCE: '1' }, { preference: 'disabled' }, false, /headcount disable/],
    ['FORCE does not beat DO_NOT_TRACK', { ...base, ACME_TELEMETRY_FORCE: '1', DO_NOT_TRACK: '1' }, {}, false, /DO_NOT_TRACK/],
    ['FORCE=perhaps is off', { ...base, ACME_TELEMETRY_FORCE: 'perhaps' }, {}, false, /ACME_TELEMETRY_FORCE has an invalid value/],
    ['endpoint not a URL', { ...base, ACME_TELEMETRY_ENDPOINT: 'not a url' }, {}, false, /ACME_TELEMETRY_ENDPOINT is invalid/],
    ['endpoint with credentials', { ...base, ACME_TELEMETRY_ENDPOINT: 'https://u:p@t.example.com' }, {}, false, /invalid/],
    ['plain http to a remote host', { ...base, ACME_TELEMETRY_ENDPOINT: 'http://t.example.com' }, {}, false, /invalid/],
    ['plain http to loopback', { ...base, ACME_TELEMETRY_ENDPOINT: 'http://127.0.0.1:4318' }, {}, true, /TOKEN is set/],
    ['token with spaces', { ...base, ACME_TELEMETRY_TOKEN: 'has spaces in it' }, {}, false, /malformed/],
  ];
  for (const [name, env, opts, enabled, reason] of cases) {
    it(name, () => {
      const s = resolve(env, opts);
      expect(s.enabled).toBe(enabled);
      expect(s.reason).toMatch(reason);
      if (!enabled) expect(s.token).toBeUndefined();
    });
  }

  it('warns with the variable name and never echoes the value', () => {
    const secret = 'https://user:hunter2@t.example.com/?key=s3cr3t';
    const s = resolve({ ...base, ACME_TELEMETRY_ENDPOINT: secret });
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/^ACME_TELEMETRY_ENDPOINT: /);
    expect(s.warnings.join()).not.toContain('hunter2');
    expect(s.warnings.join()).not.toContain('s3cr3t');
    const d = resolve({ ...base, ACME_TELEMETRY_DISABLED: 'maybe' });
    expect(d.warnings).toEqual(['ACME_TELEMETRY_DISABLED: not a boolean (use 1/0, true/false)']);
  });

  it('uses the product default endpoint unless the variable overrides it', () => {
    const s = resolve({ ACME_TELEMETRY_TOKEN: TOKEN }, { defaultEndpoint: 'https://default.example.com/' });
    expect(s.endpoint).toBe('https://default.example.com');
    expect(resolve({ ACME_TELEMETRY_TOKEN: TOKEN }).reason).toMatch(/no endpoint/);
  });

  it('reads the persisted preference only when it could change the outcome', () => {
    let reads = 0;
    resolveSettings({ product: 'acme', envPrefix: 'ACME_', env: {}, defaultEndpoint: undefined, ci: { isCI: false, name: null }, readPreference: () => (reads++, undefined) });
    expect(reads).toBe(0);
  });

  it('derives the env prefix from the product name', () => {
    expect(envPrefixFor('acme')).toBe('ACME_');
    expect(envPrefixFor('time-tracker')).toBe('TIME_TRACKER_');
    expect(endpointProblem('ftp://x.example.com')).toMatch(/http/);
  });
});
