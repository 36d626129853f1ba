/**
 * Environment → settings. Resolution never throws: an empty variable is unset, an invalid one
 * produces a one-line warning naming the variable and the safe choice (off). The result always
 * carries the reason: which variable or rule decided.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface CiInfo {
  readonly isCI: boolean;
  readonly name: string | null;
}

export type Preference = 'enabled' | 'disabled' | undefined;

export interface ResolveInput {
  /** Product name, e.g. `acme`; the env prefix is derived from it unless `envPrefix` is set. */
  readonly product: string;
  readonly envPrefix: string;
  readonly env: Env;
  /** The endpoint compiled into the product; `<PREFIX>_TELEMETRY_ENDPOINT` overrides it. */
  readonly defaultEndpoint: string | undefined;
  readonly ci: CiInfo;
  /** Persisted by `headcount enable|disable`; read only when it could change the outcome. */
  readonly readPreference: () => Preference;
}

export interface Settings {
  readonly enabled: boolean;
  /** Which variable or rule decided, in words an operator can act on. */
  readonly reason: string;
  readonly endpoint: string | undefined;
  /** Only present when enabled. Never printed. */
  readonly token: string | undefined;
  /** Print bodies instead of sending them. */
  readonly debug: boolean;
  /**
   * The operator switched telemetry off explicitly (DO_NOT_TRACK, `<PREFIX>_TELEMETRY_DISABLED`,
   * `headcount disable`): the install id is deleted. Other reasons to be off (no token, CI,
   * NODE_ENV, offline) keep it, so a product's side commands don't make one install count twice.
   */
  readonly optedOut: boolean;
  readonly warnings: readonly string[];
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** `my-app` → `MY_APP_`. */
export function envPrefixFor(product: string): string {
  return `${product.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}

/** The variables an operator can set, for docs, `status` and warnings. */
export function variableNames(prefix: string) {
  return {
    token: `${prefix}TELEMETRY_TOKEN`,
    endpoint: `${prefix}TELEMETRY_ENDPOINT`,
    disabled: `${prefix}TELEMETRY_DISABLED`,
    force: `${prefix}TELEMETRY_FORCE`,
    debug: `${prefix}TELEMETRY_DEBUG`,
    stateDir: `${prefix}TELEMETRY_STATE_DIR`,
    accept: `${prefix}TELEMETRY_ACCEPT`,
    offline: `${prefix}OFFLINE`,
    doNotTrack: 'DO_NOT_TRACK',
  } as const;
}

type Bool = { value: boolean | undefined; warning?: string };

function readBool(env: Env, name: string): Bool {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return { value: undefined };
  if (TRUE.has(raw)) return { value: true };
  if (FALSE.has(raw)) return { value: false };
  return { value: undefined, warning: `${name}: not a boolean (use 1/0, true/false)` };
}

/**
 * Loopback hosts plain http may go to: `localhost`, `[::1]` and IPv4 literals in 127.0.0.0/8.
 * The URL parser has already turned every IPv4 notation (`127.1`, `0x7f.0.0.1`) into dotted
 * decimal; a name such as `127.attacker.example` is a DNS name and is not loopback.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(hostname);
}

/** A reason the URL can't be used, or undefined when it can. Never echoes the value. */
export function endpointProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  // Userinfo, even empty (`https://@host`), would go out with every request: refuse it first.
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(raw.trim())) {
    return 'must not carry a user name or password before the host (user:pass@); the token goes in its own variable';
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return 'plain http is only allowed to a loopback address (localhost, 127.x.x.x, [::1]): the token would travel in clear';
  }
  if (raw.includes('?') || raw.includes('#')) return 'must not have a query or fragment';
  return undefined;
}

const TOKEN_PATTERN = /^[\x21-\x7e]{8,512}$/;

export function resolveSettings(input: ResolveInput): Settings {
  const { env, envPrefix } = input;
  const v = variableNames(envPrefix);
  const warnings: string[] = [];
  const off = (reason: string, optedOut = false): Settings => ({
    enabled: false,
    reason,
    endpoint: undefined,
    token: undefined,
    debug: false,
    optedOut,
    warnings,
  });
  const bool = (name: string): boolean | undefined => {
    const r = readBool(env, name);
    if (r.warning !== undefined) warnings.push(r.warning);
    return r.value;
  };

  const dnt = bool(v.doNotTrack);
  if (dnt === true) return off(`${v.doNotTrack} is set`, true);
  if (warnings.length > 0) return off(`${v.doNotTrack} has an invalid value (safe choice: off)`);

  const disabled = bool(v.disabled);
  if (disabled === true) return off(`${v.disabled} is set`, true);
  if (env[v.disabled]?.trim() && disabled === undefined) return off(`${v.disabled} has an invalid value (safe choice: off)`);

  const offline = bool(v.offline);
  if (offline === true) return off(`${v.offline} is set`);
  if (env[v.offline]?.trim() && offline === undefined) return off(`${v.offline} has an invalid value (safe choice: off)`);

  const token = env[v.token]?.trim();
  if (token === undefined || token === '') return off(`${v.token} is not set (telemetry is opt-in)`);
  if (!TOKEN_PATTERN.test(token)) {
    warnings.push(`${v.token}: must be 8-512 printable characters without spaces`);
    return off(`${v.token} is malformed (safe choice: off)`);
  }

  const envEndpoint = env[v.endpoint]?.trim();
  const endpoint = envEndpoint !== undefined && envEndpoint !== '' ? envEndpoint : input.defaultEndpoint;
  const source = envEndpoint !== undefined && envEndpoint !== '' ? v.endpoint : 'the product default endpoint';
  if (endpoint === undefined) return off(`no endpoint: set ${v.endpoint}`);
  const problem = endpointProblem(endpoint);
  if (problem !== undefined) {
    warnings.push(`${source}: ${problem}`);
    return off(`${source} is invalid (safe choice: off)`);
  }

  const forced = bool(v.force);
  if (env[v.force]?.trim() && forced === undefined) return off(`${v.force} has an invalid value (safe choice: off)`);
  const preference = input.readPreference();
  if (preference === 'disabled') return off(`disabled by \`headcount disable\` (persisted preference)`, true);
  const explicitOn = forced === true || preference === 'enabled';
  if (!explicitOn && input.ci.isCI) {
    return off(`CI detected (${input.ci.name ?? 'CI variable'}); set ${v.force}=1 to send from CI`);
  }
  const nodeEnv = env['NODE_ENV']?.trim().toLowerCase();
  if (!explicitOn && (nodeEnv === 'test' || nodeEnv === 'development')) {
    return off(`NODE_ENV=${nodeEnv}; set ${v.force}=1 to send anyway`);
  }

  const debug = bool(v.debug) === true;
  const why = forced === true ? ` and ${v.force}=1` : preference === 'enabled' ? ' and `headcount enable`' : '';
  return {
    enabled: true,
    reason: `${v.token} is set${why}`,
    endpoint: endpoint.replace(/\/+$/, ''),
    token,
    debug,
    optedOut: false,
    warnings,
  };
}
