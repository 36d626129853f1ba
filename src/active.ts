/**
 * The part of Headcount that exists only after the operator opted in (or an operator asked for
 * a preview): identity, the heartbeat cycle, delivery with retries, the ledger. Imported lazily
 * by `headcount.ts`, so an install that never opts in never loads the OTel SDK.
 */
import { bucketOf } from './bucket.ts';
import { variableNames, type Settings } from './config.ts';
import { deploymentKind, hostArch, osType, PRERELEASE_WORDS, runtimeVersion, versionFacts } from './environment.ts';
import type { ResolvedOptions } from './headcount.ts';
import { appendLedger, loadPendingFeatures, mergeDayCounts, readLedger, savePendingFeatures, sha256, trimDays, type DayCounts, type LedgerEntry } from './local.ts';
import { allowListFor, FLAG_PREFIX, QUANTITY_PREFIX, SCHEMA_VERSION, type AllowList } from './otlp/allowlist.ts';
import { buildBodies, parseCollected, type Bodies, type FeatureDay } from './otlp/pipeline.ts';
import type { ReportMaps } from './otlp/report-schema.ts';
import { RedactionCounter } from './otlp/redaction-counter.ts';
import { backoffDelay, DAY_MS, nextDelay, nextTurn, unrefTimer, utcDay, between } from './schedule.ts';
import { CorruptStateError, FileStateStore, LockTimeoutError, MemoryStateStore, newInstallId, parseState, type InstallState, type StateStore } from './store.ts';
import { encodeBody, post, type SendResult } from './transport.ts';
import { VERSION } from './version.ts';
import { errnoWord, errorWord } from './words.ts';

export interface Status {
  readonly enabled: boolean;
  readonly reason: string;
  readonly product: string;
  /** The version as the wire carries it (a pre-release outside the vocabulary cut), undefined when not a version. */
  readonly version: string | undefined;
  readonly endpoint: string | undefined;
  readonly debug: boolean;
  readonly stateDir: string;
  readonly store: 'file' | 'custom' | 'memory';
  /** Why the store is not what was asked for (unwritable dir, corrupt file), if so. */
  readonly storeNote: string | undefined;
  readonly installId: string | undefined;
  readonly idCreatedAt: number | undefined;
  readonly lastSentAt: number | undefined;
  /** When the next heartbeat will really be attempted, if one is due. */
  readonly nextSendAt: number | undefined;
  /** Why there is no next send, or how sure the time is (fixed words). */
  readonly nextSendNote: string | undefined;
  /** Problems found in the local state and what was done about them (fixed words, no values). */
  readonly notes: readonly string[];
  /** Attributes dropped by the redacting processors: key and reason, never the value. */
  readonly redactions: { readonly total: number; readonly entries: ReturnType<RedactionCounter['entries']> };
  /** The last delivery's outcome: this process's, else the newest ledger entry's. */
  readonly lastResult: string | undefined;
  readonly variables: ReturnType<typeof variableNames>;
}

export interface PreviewRequest {
  readonly url: string;
  readonly signal: 'metrics' | 'logs';
  readonly contentType: 'application/x-protobuf';
  /** The exact uncompressed body; on the wire it is deflate-compressed (`transport.ts`). */
  readonly body: Uint8Array;
  readonly wireBytes: number;
  readonly sha256: string;
  /** The same request as OTLP/JSON, for people to read. */
  readonly readable: unknown;
}

export interface Preview {
  readonly enabled: boolean;
  readonly reason: string;
  readonly requests: readonly PreviewRequest[];
}

export type SendOutcome = { readonly sent: boolean; readonly reason: string };

export interface Active {
  start(): void;
  status(): Promise<Status>;
  preview(): Promise<Preview>;
  sendNow(): Promise<SendOutcome>;
  shutdown(timeoutMs: number): Promise<void>;
}

/** Placeholder id shown in a preview before any id exists; real sends never use it. */
export const PREVIEW_INSTALL_ID = '00000000-0000-4000-8000-000000000000';

/** At most this many keys of a `quantities` / `flags` object are looked at for undeclared names. */
export const MAX_COLLECT_KEYS = 256;

const isProxy = (value: object): boolean => process.getBuiltinModule('node:util').types.isProxy(value);

/** `Array.isArray`, or undefined when asking throws (a revoked proxy). */
function isArray(value: object): boolean | undefined {
  try {
    return Array.isArray(value);
  } catch {
    // A revoked proxy throws on every look: answered below.
  }
  return undefined;
}

type Read = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** `obj[key]` if `obj` has it as an own property; never throws (getters, proxy traps, revoked proxies). */
function readOwn(obj: object, key: string): Read | undefined {
  try {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
    return { ok: true, value: (obj as Record<string, unknown>)[key] };
  } catch {
    return { ok: false };
  }
}

/**
 * A plain copy of `collect()`'s result holding only the catalog's names, read without trusting
 * it: declared names are looked up one by one (a throwing getter or proxy trap loses only that
 * value), so the cost does not grow with the object. Other keys are enumerated only on ordinary
 * objects (never a proxy, whose traps are the host's code), and at most `MAX_COLLECT_KEYS` of them
 * are checked for warnings. Undefined when the result is not `{ quantities?, flags? }`.
 */
export function readCollected(report: unknown, o: ResolvedOptions): { quantities?: Record<string, unknown>; flags?: Record<string, unknown> } | undefined {
  if (report === undefined || report === null) return {};
  if (typeof report !== 'object' || isArray(report) !== false) return undefined;
  const out: { quantities?: Record<string, unknown>; flags?: Record<string, unknown> } = {};
  for (const kind of ['quantities', 'flags'] as const) {
    const declared = kind === 'quantities' ? o.catalog.quantities : o.catalog.flags;
    const what = kind === 'quantities' ? 'quantity' : 'flag';
    let section: unknown;
    try {
      section = (report as Record<string, unknown>)[kind];
    } catch {
      o.log(`collect(): reading ${kind} threw; its values were left out`);
      continue;
    }
    if (section === undefined) continue;
    if (section === null || typeof section !== 'object') return undefined;
    const array = isArray(section);
    if (array === true) return undefined;
    if (array === undefined) {
      o.log(`collect(): reading ${kind} threw; its values were left out`);
      continue;
    }
    const copy: Record<string, unknown> = {};
    for (const name of declared.keys()) {
      const read = readOwn(section, name);
      if (read === undefined) continue;
      if (read.ok) copy[name] = read.value;
      else o.log(`collect(): ${what} "${name}" could not be read; left out`);
    }
    out[kind] = copy;
    if (isProxy(section)) continue;
    let keys: string[];
    try {
      keys = Object.keys(section);
    } catch {
      continue;
    }
    let looked = 0;
    for (const key of keys) {
      if (++looked > MAX_COLLECT_KEYS) {
        o.log(`collect(): ${kind} has more than ${MAX_COLLECT_KEYS} keys; only declared names were read`);
        break;
      }
      if (!declared.has(key)) o.warnUndeclared(`collect(): ${what}`, key);
    }
  }
  return out;
}

/** Turns `collect()`'s output into heartbeat attributes, warning (by key) about anything bad. */
export function reportAttributes(parsed: ReportMaps | undefined, o: ResolvedOptions): Record<string, string> {
  const out: Record<string, string> = {};
  if (parsed === undefined) {
    o.log('collect(): expected { quantities?: {name: number}, flags?: {name: boolean} }; its values were left out');
    return out;
  }
  for (const [name, value] of Object.entries(parsed.quantities ?? {})) {
    if (!o.catalog.quantities.has(name)) continue;
    const bucket = typeof value === 'number' ? bucketOf(value) : undefined;
    if (bucket === undefined) {
      o.log(`collect(): quantity "${name}" must be a finite number >= 0; left out`);
      continue;
    }
    out[QUANTITY_PREFIX + name] = bucket;
  }
  for (const [name, value] of Object.entries(parsed.flags ?? {})) {
    if (!o.catalog.flags.has(name)) continue;
    if (typeof value !== 'boolean') {
      o.log(`collect(): flag "${name}" must be a boolean; left out`);
      continue;
    }
    out[FLAG_PREFIX + name] = value ? '1' : '0';
  }
  return out;
}

export function resourceAttributes(o: ResolvedOptions, installId: string): Record<string, string> {
  const facts = versionFacts(o.version);
  if (facts === undefined) o.log('version: not x.y.z[-pre] with numbers up to 9999; service.version is left out, and a collector refuses a heartbeat without it');
  else if (facts.cut) o.log(`version: only x.y.z and the pre-releases ${PRERELEASE_WORDS.join(', ')} (with a number up to 99) are sent; it goes out as ${facts.version}`);
  return {
    'service.name': o.product,
    ...(facts === undefined ? {} : { 'service.version': facts.version, 'headcount.channel': facts.channel }),
    'service.instance.id': installId,
    'headcount.deployment': o.simulatedHost?.deployment ?? deploymentKind(o.env),
    'os.type': o.simulatedHost?.osType ?? osType(),
    'host.arch': o.simulatedHost?.hostArch ?? hostArch(),
    'process.runtime.name': 'nodejs',
    'process.runtime.version': o.simulatedHost?.runtimeVersion ?? runtimeVersion(),
  };
}

/** The timeout's own rejection, told apart by identity (never by reading the host's error). */
// Stryker disable next-line StringLiteral: equivalent, the message is never read (identity only) and never leaves this module
const COLLECT_TIMEOUT = new Error('collect() timed out');

async function collectReport(o: ResolvedOptions): Promise<unknown> {
  if (o.collect === undefined) return {};
  const collect = o.collect;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(() => collect()),
      new Promise<never>((_, reject) => {
        timer = unrefTimer(() => reject(COLLECT_TIMEOUT), o.collectTimeoutMs);
      }),
    ]);
  } catch (error) {
    // The thrown value is the host's: only fixed words describe it (see words.ts).
    const why = error === COLLECT_TIMEOUT ? `timed out after ${o.collectTimeoutMs} ms` : `threw ${errorWord(error)}`;
    o.log(`collect() ${why}; this heartbeat goes out without its values`);
    return {};
  } finally {
    clearTimeout(timer);
  }
}

function userAgent(): string {
  return `headcount/${VERSION}`;
}

/** Preview without consent: no id is created, nothing is written or sent. */
export async function previewWhileOff(o: ResolvedOptions, settings: Settings, featureIndex: ReadonlyMap<string, number>, counts: Float64Array): Promise<Preview> {
  const store = o.store ?? new FileStateStore(o.stateDir);
  const state = await store.read().catch(() => undefined);
  const features = todaysFeatures(featureIndex, counts, utcDay(o.now()));
  const bodies = await heartbeatBodies(o, state?.installId ?? PREVIEW_INSTALL_ID, features, allowListFor(o.catalog), new RedactionCounter());
  return { enabled: false, reason: settings.reason, requests: previewRequests(settings.endpoint ?? o.endpoint ?? '', bodies) };
}

function todaysFeatures(featureIndex: ReadonlyMap<string, number>, counts: Float64Array, day: number): FeatureDay[] {
  const out: FeatureDay[] = [];
  for (const [feature, i] of featureIndex) {
    const n = counts[i] ?? 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, an unused feature's bucket "0" is not on the allow-list: the redacting processor drops its record (and this preview's counter is thrown away)
    const uses = n > 0 ? bucketOf(n) : undefined;
    if (uses !== undefined) out.push({ day, feature, uses });
  }
  return out;
}

async function heartbeatBodies(o: ResolvedOptions, installId: string, features: FeatureDay[], allow: AllowList, counter: RedactionCounter): Promise<Bodies> {
  const report = await collectReport(o);
  const parsed = await parseCollected(readCollected(report, o));
  return buildBodies(
    { resource: resourceAttributes(o, installId), heartbeat: reportAttributes(parsed, o), features, day: utcDay(o.now()) },
    allow,
    counter,
    SCHEMA_VERSION,
  );
}

function previewRequests(endpoint: string, bodies: Bodies): PreviewRequest[] {
  const req = (signal: 'metrics' | 'logs', body: Uint8Array): PreviewRequest => ({
    readable: bodies.readable[signal],
    url: `${endpoint}/v1/${signal}`,
    signal,
    contentType: 'application/x-protobuf',
    body,
    wireBytes: encodeBody(body).byteLength,
    sha256: sha256(body),
  });
  return bodies.logs === undefined ? [req('metrics', bodies.metrics)] : [req('metrics', bodies.metrics), req('logs', bodies.logs)];
}

/** Stored times up to this far ahead of the local clock are trusted (replicas' clocks differ a little). */
export const MAX_CLOCK_SKEW_MS = 3_600_000;

const HTTP_WORDS: Readonly<Record<number, string>> = { 0: 'no answer', 401: 'token refused', 403: 'token refused', 413: 'too large: dropped', 429: 'rate-limited' };

/** A ledger entry in words: time, signal, HTTP status and what it meant. */
export function describeEntry(e: LedgerEntry): string {
  const word = HTTP_WORDS[e.status] ?? (e.status >= 200 && e.status < 300 ? 'sent' : e.status >= 500 ? 'collector error: retried' : 'rejected: dropped');
  return `${e.time} ${e.signal}: HTTP ${e.status === 0 ? 'none' : e.status} (${word}${e.retryAfterMs === undefined ? '' : `, Retry-After ${Math.round(e.retryAfterMs / 1000)} s`})`;
}

type Delivery = 'sent' | 'unauthorized' | 'rate-limited' | 'failed' | 'exhausted' | 'stopped';

export function createActive(o: ResolvedOptions, settings: Settings, featureIndex: ReadonlyMap<string, number>, counts: Float64Array): Active {
  const allow = allowListFor(o.catalog);
  const redactions = new RedactionCounter();
  const s = o.scheduleOptions;
  const notes = new Set<string>();
  const addNote = (note: string) => {
    // Stryker disable next-line ConditionalExpression: equivalent, notes is a Set and o.log already logs each distinct line once
    if (notes.has(note)) return;
    notes.add(note);
    o.log(note);
  };
  let store: StateStore = o.store ?? new FileStateStore(o.stateDir, { onNote: addNote });
  let storeKind: Status['store'] = o.store === undefined ? 'file' : 'custom';
  let storeNote: string | undefined;
  let known: InstallState | undefined;
  let nextSendAt: number | undefined;
  let lastResult: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let midnight: NodeJS.Timeout | undefined;
  let stopped = false;
  /** A collector's long `Retry-After`: no heartbeat before this time (ms since epoch). */
  let holdUntil = 0;
  let unauthorized = false;
  /** start() ran: `nextSendAt` is this process's own timer (otherwise status estimates it). */
  let running = false;
  let lastHttp = 0;
  let inflight: Promise<SendOutcome> | undefined;
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  // Feature counts: today's live in `counts`; earlier days wait here until a heartbeat takes them.
  let today = utcDay(o.now());
  const pending: DayCounts = new Map();

  const rollOver = (now: number) => {
    const day = utcDay(now);
    if (day === today) return;
    moveTodayInto(today);
    today = day;
  };
  const moveTodayInto = (day: number) => {
    for (const [feature, i] of featureIndex) {
      const n = counts[i] ?? 0;
      if (n === 0) continue;
      counts[i] = 0;
      const m = pending.get(day) ?? new Map<string, number>();
      m.set(feature, (m.get(feature) ?? 0) + n);
      pending.set(day, m);
    }
    trimDays(pending);
  };
  const takePending = (): DayCounts => {
    const taken: DayCounts = new Map(pending);
    pending.clear();
    return taken;
  };
  const restorePending = (taken: DayCounts) => {
    mergeDayCounts(pending, taken);
    trimDays(pending);
  };
  const featureDays = (taken: DayCounts): FeatureDay[] =>
    [...taken].flatMap(([day, m]) =>
      [...m].flatMap(([feature, n]) => {
        const uses = bucketOf(n);
        // Stryker disable next-line ConditionalExpression: equivalent, pending counts are positive integers (moveTodayInto skips 0, loadPendingFeatures keeps n > 0), whose bucket is never "0"
        return uses === undefined || uses === '0' ? [] : [{ day, feature, uses }];
      }),
    );
  // Counts a previous run saved at shutdown. Only a running sender (start or a send) takes them
  // over and removes the file; a one-off `status`/`preview` (the CLI) must leave them in place.
  let adopted = false;
  const adoptSavedFeatures = () => {
    if (adopted) return;
    adopted = true;
    restorePending(loadPendingFeatures(o.stateDir, true, o.now()));
  };

  const scheduleMidnight = () => {
    midnight = unrefTimer(() => {
      rollOver(o.now());
      // Stryker disable next-line ConditionalExpression: equivalent (as "true"), shutdown() sets stopped and clears this timer in one synchronous step, so it never fires once stopped
      if (!stopped) scheduleMidnight();
    }, today + DAY_MS - o.now() + 1_000);
  };

  const fallBackToMemory = (why: string) => {
    storeNote = `${why}; using an in-memory install id for this run`;
    o.log(storeNote);
    store = new MemoryStateStore(known);
    storeKind = 'memory';
  };

  const readState = async (): Promise<InstallState | undefined> => {
    let raw: unknown;
    try {
      raw = await store.read();
    } catch (error) {
      if (error instanceof CorruptStateError) {
        storeNote = 'the state file was corrupt; it was replaced with a new install id';
        o.log(storeNote);
        return undefined;
      }
      fallBackToMemory(`state could not be read (${errnoWord(error)})`);
      return store.read();
    }
    if (raw === undefined) return undefined;
    const state = parseState(raw);
    if (state !== undefined) return state;
    // A product's store returned something that is not an install state: never use or show it.
    fallBackToMemory("the product's state store returned an invalid state");
    return store.read();
  };

  /**
   * The stored times, checked against this clock: a time more than `MAX_CLOCK_SKEW_MS` in the
   * future (a clock that was wrong once, a crafted file) would stop heartbeats for as long, or
   * keep an id from rotating. Such a last-send time is ignored; such an id is replaced.
   */
  const checkTimes = (state: InstallState | undefined, now: number): { lastSentAt: number | undefined; idInFuture: boolean } => {
    // Stryker disable next-line BooleanLiteral: equivalent, idInFuture is read only by claim(), where no state already means a new id
    if (state === undefined) return { lastSentAt: undefined, idInFuture: false };
    const lastInFuture = state.lastSentAt !== undefined && state.lastSentAt > now + MAX_CLOCK_SKEW_MS;
    const idInFuture = state.idCreatedAt > now + MAX_CLOCK_SKEW_MS;
    if (lastInFuture) addNote('the stored last-send time is in the future (a clock was wrong); it is ignored');
    if (idInFuture) addNote('the install id was created in the future (a clock was wrong); a new id is used from the next send');
    return { lastSentAt: lastInFuture ? undefined : state.lastSentAt, idInFuture };
  };

  /** false: another writer changed the state first; 'busy': a replica held the lock throughout. */
  const casState = async (expected: InstallState | undefined, next: InstallState): Promise<boolean | 'busy'> => {
    try {
      return await store.compareAndSet(expected, next);
    } catch (error) {
      // A replica holding the lock is not a broken store: it is sending this cycle's heartbeat.
      if (error instanceof LockTimeoutError) return 'busy';
      fallBackToMemory(`state could not be written (${errnoWord(error)})`);
      return store.compareAndSet(known, next);
    }
  };

  /** Claims this cycle's heartbeat: sets lastSentAt if nobody (no replica) did in the interval. */
  const claim = async (force: boolean): Promise<{ state: InstallState; previous: InstallState | undefined } | undefined> => {
    for (let tries = 0; tries < 5; tries++) {
      const now = o.now();
      const current = await readState();
      known = current;
      const times = checkTimes(current, now);
      if (!force && times.lastSentAt !== undefined && now - times.lastSentAt < s.intervalMs) return undefined;
      const rotate = current === undefined || times.idInFuture || now - current.idCreatedAt >= o.rotateIdAfterDays * DAY_MS;
      const next: InstallState = rotate
        ? { installId: newInstallId(), idCreatedAt: now, lastSentAt: now }
        : { installId: current.installId, idCreatedAt: current.idCreatedAt, lastSentAt: now };
      const won = await casState(current, next);
      if (won === 'busy') return undefined;
      if (won) {
        known = next;
        return { state: next, previous: current };
      }
    }
    return undefined;
  };

  const release = async (claimed: InstallState, previous: InstallState | undefined) => {
    // Give the cycle back (delivery failed) so a restart or another replica may try again.
    const back: InstallState = previous?.lastSentAt === undefined
      ? { installId: claimed.installId, idCreatedAt: claimed.idCreatedAt }
      : { installId: claimed.installId, idCreatedAt: claimed.idCreatedAt, lastSentAt: previous.lastSentAt };
    // Stryker disable next-line ArrowFunction: equivalent, undefined is no more `=== true` than false
    if ((await casState(claimed, back).catch(() => false)) === true) known = back;
  };

  const wait = (ms: number, keepAlive: boolean) =>
    new Promise<void>((resolve) => {
      const timer = unrefTimer(() => {
        waits.delete(entry);
        resolve();
      }, ms);
      if (keepAlive) timer.ref();
      const entry = { timer, resolve };
      waits.add(entry);
    });

  /**
   * Delivers one body. `background` (scheduled heartbeats) never keeps the process alive;
   * `foreground` (`sendNow()`, awaited by the caller) does, retries included; `flush`
   * (`shutdown()`) keeps it alive for one attempt within the caller's deadline.
   */
  const deliverOne = async (signal: 'metrics' | 'logs', body: Uint8Array, mode: 'background' | 'foreground' | 'flush', redacted: number, timeoutMs?: number): Promise<Delivery> => {
    const ref = mode !== 'background';
    const once = mode === 'flush';
    const url = `${settings.endpoint}/v1/${signal}`;
    if (settings.debug) {
      // Only the shutdown flush gets here (heartbeats print in `printInsteadOfSending`).
      o.log(`debug (${variableNames(o.envPrefix).debug}=1): not sending POST ${url}, ${body.byteLength} B protobuf, sha256 ${sha256(body)}`);
      return 'stopped';
    }
    // Yield between the CPU-bound steps (build, compress, request), so none stalls the host long.
    await nextTurn();
    const wire = encodeBody(body);
    await nextTurn();
    const hash = sha256(body);
    for (let attempt = 1; attempt <= s.maxAttempts; attempt++) {
      if (stopped && mode === 'background') return 'stopped';
      // Stryker disable next-line StringLiteral: equivalent, the active part exists only while enabled, and enabled settings always carry the token
      const result: SendResult = await post({ url, token: settings.token ?? '', body, userAgent: userAgent(), ref, ...(timeoutMs === undefined ? {} : { timeoutMs }) }, wire);
      lastHttp = result.status;
      // Stryker disable next-line ConditionalExpression: equivalent (the "true" variant of the `!== undefined` test), transport.ts puts retryAfterMs on a result only when it is a number
      const retryAfterMs = 'retryAfterMs' in result && result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, 366 * DAY_MS) : undefined;
      const entry: LedgerEntry = {
        time: new Date(o.now()).toISOString(),
        signal,
        bytes: wire.byteLength,
        sha256: hash,
        status: result.status,
        ...(redacted > 0 ? { redacted } : {}),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
      await appendLedger(o.stateDir, entry).catch(() => undefined);
      switch (result.kind) {
        case 'success':
          return 'sent';
        case 'unauthorized':
          unauthorized = true;
          o.log(`the collector refused the token (HTTP ${result.status}); telemetry stops until restart. Check ${variableNames(o.envPrefix).token}`);
          return 'unauthorized';
        case 'failure':
          o.log(`the collector rejected a ${signal} request (HTTP ${result.status}); it is dropped`);
          return 'failed';
        case 'rate-limited':
          if (result.retryAfterMs !== undefined && result.retryAfterMs > s.maxRetryAfterMs) {
            // Too long to wait in this cycle: the next heartbeat waits at least this long.
            holdUntil = Math.max(holdUntil, o.now() + result.retryAfterMs);
            return 'rate-limited';
          }
          if (result.retryAfterMs === undefined || attempt === s.maxAttempts) return 'rate-limited';
          if (once) return 'rate-limited';
          await wait(result.retryAfterMs, ref);
          break;
        case 'retryable':
          if (attempt === s.maxAttempts || once) return 'exhausted';
          await wait(result.retryAfterMs !== undefined && result.retryAfterMs <= s.maxRetryAfterMs ? result.retryAfterMs : backoffDelay(attempt, s, o.random), ref);
          break;
      }
    }
    return 'exhausted';
  };

  /**
   * The requests a heartbeat would carry now (pending days, and counts a previous run saved if
   * this process has not taken them over), without claiming the cycle or writing anything.
   */
  const requestsNow = async (counter: RedactionCounter): Promise<PreviewRequest[]> => {
    rollOver(o.now());
    const state = await readState().catch(() => undefined);
    const shown: DayCounts = new Map();
    mergeDayCounts(shown, pending);
    if (!adopted) mergeDayCounts(shown, loadPendingFeatures(o.stateDir, false, o.now()));
    const bodies = await heartbeatBodies(o, state?.installId ?? PREVIEW_INSTALL_ID, featureDays(shown), allow, counter);
    // Stryker disable next-line StringLiteral: equivalent, the active part exists only while enabled, and enabled settings always carry the endpoint
    return previewRequests(settings.endpoint ?? '', bodies);
  };

  /**
   * Debug mode: print what a heartbeat would send, as readable OTLP/JSON with the exact body's
   * size and hash. Nothing is claimed or written, so the real heartbeat is not used up and
   * feature counts stay pending for when debug is switched off.
   */
  const printInsteadOfSending = async (): Promise<SendOutcome> => {
    for (const r of await requestsNow(redactions)) {
      o.log(`debug (${variableNames(o.envPrefix).debug}=1): not sending POST ${r.url}, ${r.body.byteLength} B protobuf (${r.wireBytes} B deflate), sha256 ${r.sha256}: ${JSON.stringify(r.readable)}`);
    }
    lastResult = `${new Date(o.now()).toISOString()} debug: printed, not sent`;
    return { sent: false, reason: lastResult };
  };

  const cycle = async (force: boolean): Promise<SendOutcome> => {
    if (unauthorized) return { sent: false, reason: 'the collector refused the token; restart to try again' };
    if (settings.debug) return printInsteadOfSending();
    adoptSavedFeatures();
    const claimed = await claim(force);
    if (claimed === undefined) return { sent: false, reason: 'a heartbeat was already sent in this interval' };
    rollOver(o.now());
    const taken = takePending();
    let bodies: Bodies;
    const redactedBefore = redactions.total;
    try {
      bodies = await heartbeatBodies(o, claimed.state.installId, featureDays(taken), allow, redactions);
    } catch (error) {
      restorePending(taken);
      await release(claimed.state, claimed.previous);
      o.log(`could not build the heartbeat (${errorWord(error)}); will retry next cycle`);
      return { sent: false, reason: 'build failed' };
    }
    const mode = force ? 'foreground' : 'background';
    // Attributes the redacting processors dropped from this heartbeat, recorded with its metrics send.
    const metrics = await deliverOne('metrics', bodies.metrics, mode, redactions.total - redactedBefore);
    const logs = bodies.logs === undefined || metrics !== 'sent' ? metrics : await deliverOne('logs', bodies.logs, mode, 0);
    if (logs !== 'sent' && logs !== 'failed' && logs !== 'unauthorized') restorePending(taken);
    if (metrics === 'exhausted' || metrics === 'stopped') await release(claimed.state, claimed.previous);
    lastResult = `${new Date(o.now()).toISOString()} metrics: ${metrics}${bodies.logs === undefined ? '' : `, logs: ${logs}`} (HTTP ${lastHttp === 0 ? 'none' : lastHttp})`;
    return { sent: metrics === 'sent', reason: lastResult };
  };

  const run = async (force: boolean): Promise<SendOutcome> => {
    // A forced send waits for a cycle in flight, then runs its own; a scheduled one joins it.
    if (force && inflight !== undefined) await inflight.catch(() => undefined);
    inflight ??= cycle(force)
      .catch((error: unknown): SendOutcome => {
        o.log(`heartbeat failed (${errorWord(error)})`);
        return { sent: false, reason: 'internal error' };
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  const schedule = (wanted: number) => {
    if (stopped || unauthorized) {
      nextSendAt = undefined;
      return;
    }
    const delay = Math.max(wanted, holdUntil - o.now());
    nextSendAt = o.now() + delay;
    timer = unrefTimer(() => {
      nextSendAt = undefined;
      void run(false).then((outcome) => {
        const now = o.now();
        const lastSentAt = checkTimes(known, now).lastSentAt;
        // Sent, or another replica sent in this interval: wait out the interval. Otherwise the
        // cycle failed and was given back: try again after a retry cycle, never sooner.
        const covered = outcome.sent || (lastSentAt !== undefined && now - lastSentAt < s.intervalMs);
        if (settings.debug) schedule(s.intervalMs + between(0, s.jitterMs, o.random));
        else schedule(covered ? nextDelay(now, lastSentAt, s, o.random) : s.retryCycleMs + between(0, s.jitterMs, o.random));
      });
    }, delay);
  };

  /**
   * The real next attempt: this process's timer while it runs; otherwise (`headcount status` in
   * another process) what the running product will do, from the stored last send and the newest
   * ledger entry (a refused token stops it until restart; a long Retry-After holds it).
   */
  const nextSendFor = (last: number | undefined, newest: LedgerEntry | undefined): { at: number | undefined; note: string | undefined } => {
    if (unauthorized) return { at: undefined, note: 'none: the collector refused the token; restart the product to try again' };
    if (stopped) return { at: undefined, note: 'none: shut down' };
    if (running) return { at: nextSendAt, note: nextSendAt === undefined ? 'now: a heartbeat is in progress or being scheduled' : undefined };
    const base = last === undefined ? undefined : last + s.intervalMs;
    const refused = newest !== undefined && (newest.status === 401 || newest.status === 403);
    const when = base === undefined ? 'within a minute of the product starting' : `from ${new Date(base).toISOString()}`;
    if (refused) return { at: undefined, note: `none while the product runs: the collector refused the token (HTTP ${newest.status}); after a restart, ${when}` };
    if (base === undefined) return { at: undefined, note: 'within a minute of the product starting (no heartbeat in the last 24 h)' };
    const hold = newest?.retryAfterMs === undefined ? undefined : Date.parse(newest.time) + newest.retryAfterMs;
    if (hold !== undefined && hold > base) return { at: hold, note: `(the collector asked to wait: HTTP ${newest!.status} with Retry-After)` };
    return { at: base, note: 'or up to an hour later (24 h after the last send)' };
  };

  return {
    start() {
      running = true;
      adoptSavedFeatures();
      scheduleMidnight();
      // FileStateStore.read() yields a loop turn before its first read (loading node:fs/promises).
      void readState()
        .then((state) => {
          known = state;
          schedule(nextDelay(o.now(), checkTimes(state, o.now()).lastSentAt, s, o.random));
        })
        .catch(() => schedule(nextDelay(o.now(), undefined, s, o.random)));
    },
    async status() {
      // Stryker disable next-line ConditionalExpression: equivalent (as "false"), after the fall-back the in-memory store holds exactly `known` (each write to it is a casState whose success sets known), so reading it gives the same state
      const state = storeKind === 'memory' ? known : await readState().catch(() => known);
      const now = o.now();
      const last = checkTimes(state, now).lastSentAt;
      // Stryker disable next-line ConditionalExpression: equivalent (each "true" variant, which reads the ledger always), with a result of its own and the schedule running the entry goes unused (lastResult wins, nextSendFor returns the timer's time) and readLedger never rejects
      const newest = lastResult === undefined || !running ? (await readLedger(o.stateDir)).at(-1) : undefined;
      const next = nextSendFor(last, newest);
      return {
        enabled: true,
        reason: settings.reason,
        product: o.product,
        version: versionFacts(o.version)?.version,
        endpoint: settings.endpoint,
        debug: settings.debug,
        stateDir: o.stateDir,
        store: storeKind,
        storeNote,
        installId: state?.installId,
        idCreatedAt: state?.idCreatedAt,
        lastSentAt: state?.lastSentAt,
        nextSendAt: next.at,
        nextSendNote: next.note,
        notes: [...notes],
        redactions: { total: redactions.total, entries: redactions.entries() },
        lastResult: lastResult ?? (newest === undefined ? undefined : describeEntry(newest)),
        variables: variableNames(o.envPrefix),
      };
    },
    async preview() {
      return { enabled: true, reason: settings.reason, requests: await requestsNow(new RedactionCounter()) };
    },
    sendNow() {
      return run(true);
    },
    async shutdown(timeoutMs: number) {
      if (stopped) return;
      stopped = true;
      // clearTimeout(undefined) does nothing: no check needed when start() never ran.
      clearTimeout(timer);
      clearTimeout(midnight);
      for (const w of waits) {
        clearTimeout(w.timer);
        w.resolve();
      }
      // One deadline for everything: a heartbeat in flight (its socket is unref()ed) and the flush.
      const deadlineAt = Date.now() + timeoutMs;
      let inflightDeadline: NodeJS.Timeout | undefined;
      await Promise.race([inflight, new Promise<void>((resolve) => (inflightDeadline = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(inflightDeadline);
      moveTodayInto(today);
      const taken = takePending();
      const days = featureDays(taken);
      if (days.length === 0 || unauthorized) return;
      const flush = async () => {
        const state = known ?? (await readState());
        if (state === undefined) return;
        const redactedBefore = redactions.total;
        const bodies = await buildBodies(
          { resource: resourceAttributes(o, state.installId), heartbeat: {}, features: days, day: utcDay(o.now()) },
          allow,
          redactions,
          SCHEMA_VERSION,
        );
        // The request ends at the deadline, so its ref()ed socket cannot outlive shutdown().
        if (bodies.logs !== undefined) delivered = await deliverOne('logs', bodies.logs, 'flush', redactions.total - redactedBefore, Math.max(1, deadlineAt - Date.now()));
      };
      let delivered: Delivery | undefined;
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        flush().catch(() => undefined),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()));
        }),
      ]);
      clearTimeout(deadline);
      // Not delivered in time: keep the counts on disk for the next run rather than lose them.
      if (delivered !== 'sent' && delivered !== 'failed') await savePendingFeatures(o.stateDir, taken, o.now()).catch(() => undefined);
    },
  };
}
