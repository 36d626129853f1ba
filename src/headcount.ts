/**
 * The host app's handle. This module is what loads while telemetry is off, so it stays small:
 * it reads the environment, counts features in a typed array, and only when the operator has
 * opted in does it import the active part (OTel SDK, transport, store writes).
 */
import { fs, nodeModule, os, path } from './builtins.ts';
import { catalogFingerprint, NAME_PATTERN, type Catalog } from './catalog.ts';
import { envPrefixFor, resolveSettings, variableNames, type CiInfo, type Env, type Settings } from './config.ts';
import { SERVICE_NAME_PATTERN } from './patterns.ts';
import { readPreference } from './local.ts';
import type { Active, Preview, SendOutcome, Status } from './active.ts';
import { DEFAULT_SCHEDULE, type ScheduleOptions } from './schedule.ts';
import type { InstallState, StateStore } from './store.ts';

/** Host facts a simulated install reports instead of this machine's. */
export interface SimulatedHost {
  readonly osType?: string;
  readonly hostArch?: string;
  readonly runtimeVersion?: string;
  readonly deployment?: 'container' | 'kubernetes' | 'other';
}

/** What `collect()` returns: raw numbers and booleans; Headcount buckets them. */
export interface Report {
  readonly quantities?: Readonly<Record<string, number>>;
  readonly flags?: Readonly<Record<string, boolean>>;
}

export interface HeadcountOptions {
  /** Product name: `service.name` and the env prefix (`acme` → `ACME_`). */
  readonly product: string;
  /** Product version (semver). Build metadata after `+` is dropped. */
  readonly version: string;
  readonly catalog: Catalog;
  /** Called once per heartbeat; async is fine. Throwing or timing out only drops its values. */
  readonly collect?: () => Report | Promise<Report>;
  /** The product's collector base URL (`/v1/metrics` is appended). `<PREFIX>_TELEMETRY_ENDPOINT` overrides it. */
  readonly endpoint?: string;
  readonly envPrefix?: string;
  /** Defaults to `process.env`. */
  readonly env?: Env;
  /** Where the install id, ledger and preference live. Default: the user's state dir. */
  readonly stateDir?: string;
  /** Shared state for products with a database (several replicas, one id, one heartbeat). */
  readonly store?: StateStore;
  /** One-line warnings and notices. Default: stderr, prefixed `[headcount]`. */
  readonly log?: (line: string) => void;
  readonly collectTimeoutMs?: number;
  /** The install id rotates this often (days). Default 30. */
  readonly rotateIdAfterDays?: number;
  /** Overrides for tests and simulations. */
  readonly schedule?: Partial<ScheduleOptions>;
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * Simulations only (`headcount simulate`): replaces the detected host facts of the resource.
   * Products never set it; values still pass the allow-list and the collector's checks.
   */
  readonly simulatedHost?: SimulatedHost;
  /** Overrides CI detection (default: `ci-info`). */
  readonly ci?: CiInfo;
}

export interface Headcount {
  /** Resolves consent and, if on, schedules heartbeats. Never throws; idempotent. */
  start(): void;
  /** Counts one use of a declared feature. Cheap enough for hot paths; never throws. */
  feature(name: string): void;
  /** On/off with the reason, endpoint, install id, last/next send, redactions. */
  status(): Promise<Status>;
  /** The exact request bodies a send would carry now. Writes nothing, sends nothing. */
  preview(): Promise<Preview>;
  /** Sends a heartbeat now (ignores the 24 h rule). Resolves with the outcome; never rejects. */
  sendNow(): Promise<SendOutcome>;
  /** Stops timers and sends pending feature counts within `timeoutMs` (default 2000). Never rejects. */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  readonly settings: Settings;
}

export type { Preview, SendOutcome, Status };

export interface ResolvedOptions extends HeadcountOptions {
  readonly envPrefix: string;
  readonly env: Env;
  readonly stateDir: string;
  readonly log: (line: string) => void;
  /**
   * Warns once about a name the catalog does not declare (`feature()`, `collect()`). At most
   * `MAX_UNDECLARED_WARNINGS` distinct names are reported, so dynamic names cannot flood the
   * host's logs or crowd out other warnings; a name is shown only if shaped like a catalog name.
   */
  readonly warnUndeclared: (what: string, name: unknown) => void;
  readonly now: () => number;
  readonly random: () => number;
  readonly scheduleOptions: ScheduleOptions;
  readonly collectTimeoutMs: number;
  readonly rotateIdAfterDays: number;
}

export const DEFAULT_COLLECT_TIMEOUT_MS = 5_000;
export const MAX_UNDECLARED_WARNINGS = 20;

/**
 * A name for a warning: quoted only when shaped like a catalog name, which rules out emails,
 * IPs, URLs, paths and tokens; anything else may be personal or secret and is not echoed.
 */
export function shownName(name: unknown): string {
  // Stryker disable next-line StringLiteral: equivalent, the fallback only has to fail NAME_PATTERN, and '' and any replacement with a space or '!' both do ("not shown"); the `typeof name === ''` variant is killed by test/unit/headcount-logging.test.ts
  const s = typeof name === 'string' ? name : '';
  return NAME_PATTERN.test(s) && s.length <= 40 ? `"${s}"` : 'a name not shaped like a catalog name (not shown)';
}

/** The state dir: option, then `<PREFIX>_TELEMETRY_STATE_DIR`, then the user's state dir. */
export function stateDirFor(product: string, env: Env, envPrefix = envPrefixFor(product), option?: string): string {
  const fromEnv = env[variableNames(envPrefix).stateDir]?.trim();
  if (option !== undefined) return option;
  if (fromEnv) return fromEnv;
  return path().join(userStateDir(product, env), 'telemetry');
}

/**
 * The per-user state dir (data that persists between runs but is not the user's documents), as
 * XDG (Linux: `$XDG_STATE_HOME`, `~/.local/state`), Apple and Microsoft define it.
 */
export function userStateDir(product: string, env: Env): string {
  const join = (...parts: string[]) => path().join(...parts);
  const home = os().homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', product);
  if (process.platform === 'win32') return join(env['LOCALAPPDATA'] || join(home, 'AppData', 'Local'), product, 'State');
  return join(env['XDG_STATE_HOME'] || join(home, '.local', 'state'), product);
}

/** CI detection by `ci-info`, loaded only when a token is set (it is the last check). */
function lazyCiInfo(): CiInfo {
  let info: CiInfo | undefined;
  const load = (): CiInfo => (info ??= nodeModule().createRequire(import.meta.url)('ci-info') as CiInfo);
  return {
    get isCI() {
      return load().isCI;
    },
    get name() {
      return load().name;
    },
  };
}

export function resolveOptions(options: HeadcountOptions): ResolvedOptions {
  if (typeof options?.product !== 'string' || !SERVICE_NAME_PATTERN.test(options.product)) {
    throw new TypeError(`headcount: product must match ${SERVICE_NAME_PATTERN.source}`);
  }
  if (options.catalog === undefined || !(options.catalog.quantities instanceof Map)) {
    throw new TypeError('headcount: catalog must come from defineCatalog()');
  }
  const env = options.env ?? process.env;
  const envPrefix = options.envPrefix ?? envPrefixFor(options.product);
  const seen = new Set<string>();
  const undeclared = new Set<string>();
  const defaultLog = (line: string) => {
    process.stderr.write(`[headcount] ${line}\n`);
  };
  const sink = options.log ?? defaultLog;
  // Each distinct line is logged once per process: warnings must not flood the host's logs.
  const log = (line: string) => {
    if (seen.has(line) || seen.size > 1_000) return;
    seen.add(line);
    try {
      sink(line);
    } catch {
      // A broken logger must not break the host.
    }
  };
  return {
    ...options,
    env,
    envPrefix,
    stateDir: stateDirFor(options.product, env, envPrefix, options.stateDir),
    log,
    warnUndeclared: (what: string, name: unknown) => {
      const shown = shownName(name);
      if (undeclared.has(shown) || undeclared.size > MAX_UNDECLARED_WARNINGS) return;
      undeclared.add(shown);
      if (undeclared.size > MAX_UNDECLARED_WARNINGS) log(`${what}: more undeclared names are ignored without a warning`);
      else log(`${what}: ${shown} is not declared in the catalog; ignored`);
    },
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    scheduleOptions: { ...DEFAULT_SCHEDULE, ...options.schedule },
    collectTimeoutMs: options.collectTimeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS,
    rotateIdAfterDays: options.rotateIdAfterDays ?? 30,
  };
}

export function resolveFor(options: ResolvedOptions): Settings {
  return resolveSettings({
    product: options.product,
    envPrefix: options.envPrefix,
    env: options.env,
    defaultEndpoint: options.endpoint,
    ci: options.ci ?? lazyCiInfo(),
    readPreference: () => readPreference(options.stateDir),
  });
}

/**
 * Creates the host app's handle. Throws only for programming errors in the options
 * (invalid product name, a catalog not made by `defineCatalog`).
 */
export function createHeadcount(options: HeadcountOptions): Headcount {
  if (typeof process.getBuiltinModule !== 'function') return unsupportedRuntime(options);
  const o = resolveOptions(options);
  const settings = acceptedCatalog(o, resolveFor(o));
  for (const w of settings.warnings) o.log(w);

  const featureIndex = new Map<string, number>();
  for (const name of o.catalog.features.keys()) featureIndex.set(name, featureIndex.size);
  // Today's counts by feature index; the active part rolls them over at UTC midnight.
  const counts = new Float64Array(featureIndex.size);

  let started = false;
  let active: Promise<Active | undefined> | undefined;
  const activate = (): Promise<Active | undefined> => {
    active ??= import('./active.ts')
      .then((m) => m.createActive(o, settings, featureIndex, counts))
      .catch(() => {
        // Fixed words: the error may come from anywhere (a failed import, the host's store).
        o.log('telemetry could not start; it stays off for this run');
        return undefined;
      });
    return active;
  };
  const inactive = async (): Promise<Active | undefined> => (settings.enabled ? activate() : undefined);

  return {
    settings,
    start() {
      if (started) return;
      started = true;
      if (!settings.enabled) {
        if (settings.optedOut) forgetInstall(o);
        return;
      }
      // The notice comes before any data: the first heartbeat is seconds away.
      const v = variableNames(o.envPrefix);
      o.log(`telemetry is ON (${settings.reason}): one anonymous heartbeat a day to ${settings.endpoint}. See it with \`headcount preview\`; switch it off with ${v.disabled}=1`);
      void activate().then((a) => a?.start());
    },
    feature(name: string) {
      const i = featureIndex.get(name);
      if (i === undefined) {
        o.warnUndeclared('feature()', name);
        return;
      }
      counts[i]!++;
    },
    async status() {
      const a = await inactive();
      if (a !== undefined) return a.status();
      // Answered here: importing active.ts would load the sender's active part before consent.
      const { normaliseVersion } = await import('./environment.ts');
      return offStatus(o, settings, await storedState(o), normaliseVersion(o.version));
    },
    async preview() {
      const m = await import('./active.ts');
      const a = await inactive();
      return a !== undefined ? a.preview() : m.previewWhileOff(o, settings, featureIndex, counts);
    },
    async sendNow() {
      const a = await inactive();
      if (a === undefined) return { sent: false, reason: settings.reason };
      return a.sendNow();
    },
    async shutdown(opts) {
      // Stryker disable next-line ConditionalExpression: equivalent, without the early return `await undefined` and `undefined?.shutdown()` resolve the same void a turn later (the `true` variant, hidden too, is killed by the shutdown-flush tests)
      if (active === undefined) return;
      const a = await active;
      await a?.shutdown(opts?.timeoutMs ?? 2_000);
    },
  };
}

/**
 * A Node older than package.json's `engines` (before 20.16 / 22.3 it lacks
 * `process.getBuiltinModule`, through which this package reaches the file system and crypto):
 * one line, then a handle that is off and does nothing, instead of a TypeError in the host.
 */
function unsupportedRuntime(options: HeadcountOptions): Headcount {
  const reason = `Node ${process.version} is older than this package supports (^20.19.0 || >=22.12.0); telemetry is off`;
  try {
    (options.log ?? ((line: string) => process.stderr.write(`[headcount] ${line}\n`)))(reason);
  } catch {
    // A broken logger must not break the host.
  }
  const settings: Settings = { enabled: false, reason, endpoint: undefined, token: undefined, debug: false, optedOut: false, warnings: [] };
  const status: Status = {
    enabled: false,
    reason,
    product: options.product,
    // Not checked against the version grammar here: shown as unknown rather than as given.
    version: undefined,
    endpoint: undefined,
    debug: false,
    stateDir: '',
    store: options.store === undefined ? 'file' : 'custom',
    storeNote: undefined,
    installId: undefined,
    idCreatedAt: undefined,
    lastSentAt: undefined,
    nextSendAt: undefined,
    redactions: { total: 0, entries: [] },
    lastResult: undefined,
    nextSendNote: undefined,
    notes: [],
    variables: variableNames(options.envPrefix ?? envPrefixFor(options.product)),
  };
  return {
    settings,
    start: () => undefined,
    feature: () => undefined,
    status: () => Promise.resolve(status),
    preview: () => Promise.resolve({ enabled: false, reason, requests: [] }),
    sendNow: () => Promise.resolve({ sent: false, reason }),
    shutdown: () => Promise.resolve(),
  };
}

/** The stored install state, read only (an id may outlive consent until an explicit opt-out). */
async function storedState(o: ResolvedOptions): Promise<InstallState | undefined> {
  const { FileStateStore, parseState } = await import('./store.ts');
  const store = o.store ?? new FileStateStore(o.stateDir);
  // A product's store may return anything: only a valid state is shown.
  return Promise.resolve()
    .then(() => store.read())
    .then(parseState, () => undefined);
}

/** Status while off, built without loading the active part. */
function offStatus(o: ResolvedOptions, settings: Settings, state: InstallState | undefined, version: string | undefined): Status {
  return {
    enabled: false,
    reason: settings.reason,
    product: o.product,
    version,
    endpoint: undefined,
    debug: false,
    stateDir: o.stateDir,
    store: o.store === undefined ? 'file' : 'custom',
    storeNote: undefined,
    installId: state?.installId,
    idCreatedAt: state?.idCreatedAt,
    lastSentAt: state?.lastSentAt,
    nextSendAt: undefined,
    nextSendNote: undefined,
    notes: [],
    redactions: { total: 0, entries: [] },
    lastResult: undefined,
    variables: variableNames(o.envPrefix),
  };
}

/**
 * Consent pinned to a catalog: with `<PREFIX>_TELEMETRY_ACCEPT` set, telemetry is on only while
 * the catalog's fingerprint matches it, so a release that reports more needs fresh consent.
 */
export function acceptedCatalog(o: ResolvedOptions, settings: Settings): Settings {
  const name = variableNames(o.envPrefix).accept;
  const accepted = o.env[name]?.trim();
  if (!settings.enabled || accepted === undefined || accepted === '') return settings;
  const current = catalogFingerprint(o.catalog);
  if (accepted === current) return { ...settings, reason: `${settings.reason}, catalog ${current} accepted` };
  return {
    enabled: false,
    reason: `${name} does not match this release's catalog (${current}): review \`headcount preview\`, then accept it`,
    endpoint: undefined,
    token: undefined,
    debug: false,
    optedOut: false,
    warnings: settings.warnings,
  };
}

/**
 * Telemetry switched off by the operator: forget the install id, so turning it back on starts a
 * fresh, unlinkable one. The default file store is touched only if its file exists; a product's
 * own store is asked to clear (errors ignored: nothing will be sent either way).
 */
function forgetInstall(o: ResolvedOptions): void {
  if (o.store !== undefined) {
    void Promise.resolve()
      .then(() => o.store?.clear())
      .catch(() => undefined);
    return;
  }
  const file = path().join(o.stateDir, 'state.json');
  try {
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, existsSync has just seen the file, so `force` (which only silences ENOENT) changes nothing but a race, and every error is caught below
    if (fs().existsSync(file)) fs().rmSync(file, { force: true });
  } catch {
    // Read-only state dir: nothing we can do, and nothing will be sent.
  }
}
