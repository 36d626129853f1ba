/**
 * The part of Headcount that exists only after the operator opted in (or an operator asked for
 * a preview): identity, the heartbeat cycle, delivery with retries, the ledger. Imported lazily
 * by `headcount.ts`, so an install that never opts in never loads the OTel SDK.
 */
import { bucketOf } from './bucket.ts';
import { variableNames, type Settings } from './config.ts';
import { channelOf, deploymentKind, hostArch, normaliseVersion, osType, runtimeVersion } from './environment.ts';
import type { ResolvedOptions } from './headcount.ts';
import { appendLedger, loadPendingFeatures, mergeDayCounts, savePendingFeatures, sha256, type DayCounts } from './local.ts';
import { allowListFor, FLAG_PREFIX, QUANTITY_PREFIX, SCHEMA_VERSION, type AllowList } from './otlp/allowlist.ts';
import { buildBodies, parseCollected, type Bodies, type FeatureDay } from './otlp/pipeline.ts';
import type { ReportMaps } from './otlp/report-schema.ts';
import { RedactionCounter } from './otlp/redaction-counter.ts';
import { backoffDelay, DAY_MS, nextDelay, nextTurn, unrefTimer, utcDay, between } from './schedule.ts';
import { CorruptStateError, FileStateStore, LockTimeoutError, MemoryStateStore, newInstallId, type InstallState, type StateStore } from './store.ts';
import { encodeBody, post, type SendResult } from './transport.ts';
import { VERSION } from './version.ts';

export interface Status {
  readonly enabled: boolean;
  readonly reason: string;
  readonly product: string;
  readonly version: string;
  readonly endpoint: string | undefined;
  readonly debug: boolean;
  readonly stateDir: string;
  readonly store: 'file' | 'custom' | 'memory';
  /** Why the store is not what was asked for (unwritable dir, corrupt file), if so. */
  readonly storeNote: string | undefined;
  readonly installId: string | undefined;
  readonly idCreatedAt: number | undefined;
  readonly lastSentAt: number | undefined;
  readonly nextSendAt: number | undefined;
  /** Attributes dropped by the redacting processors: key and reason, never the value. */
  readonly redactions: { readonly total: number; readonly entries: ReturnType<RedactionCounter['entries']> };
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

/** Turns `collect()`'s output into heartbeat attributes, warning (by key) about anything bad. */
export function reportAttributes(parsed: ReportMaps | undefined, o: ResolvedOptions): Record<string, string> {
  const out: Record<string, string> = {};
  if (parsed === undefined) {
    o.log('collect(): expected { quantities?: {name: number}, flags?: {name: boolean} }; its values were left out');
    return out;
  }
  for (const [name, value] of Object.entries(parsed.quantities ?? {})) {
    if (!o.catalog.quantities.has(name)) {
      o.warnUndeclared('collect(): quantity', name);
      continue;
    }
    const bucket = typeof value === 'number' ? bucketOf(value) : undefined;
    if (bucket === undefined) {
      o.log(`collect(): quantity "${name}" must be a finite number >= 0; left out`);
      continue;
    }
    out[QUANTITY_PREFIX + name] = bucket;
  }
  for (const [name, value] of Object.entries(parsed.flags ?? {})) {
    if (!o.catalog.flags.has(name)) {
      o.warnUndeclared('collect(): flag', name);
      continue;
    }
    if (typeof value !== 'boolean') {
      o.log(`collect(): flag "${name}" must be a boolean; left out`);
      continue;
    }
    out[FLAG_PREFIX + name] = value ? '1' : '0';
  }
  return out;
}

export function resourceAttributes(o: ResolvedOptions, installId: string): Record<string, string> {
  const version = normaliseVersion(o.version);
  if (version === undefined) o.log('version: not a semver version (x.y.z[-pre]); service.version is left out');
  return {
    'service.name': o.product,
    ...(version === undefined ? {} : { 'service.version': version, 'headcount.channel': channelOf(version) }),
    'service.instance.id': installId,
    'headcount.deployment': o.simulatedHost?.deployment ?? deploymentKind(o.env),
    'os.type': o.simulatedHost?.osType ?? osType(),
    'host.arch': o.simulatedHost?.hostArch ?? hostArch(),
    'process.runtime.name': 'nodejs',
    'process.runtime.version': o.simulatedHost?.runtimeVersion ?? runtimeVersion(),
  };
}

async function collectReport(o: ResolvedOptions): Promise<unknown> {
  if (o.collect === undefined) return {};
  const collect = o.collect;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(() => collect()),
      new Promise<never>((_, reject) => {
        timer = unrefTimer(() => reject(new Error('timeout')), o.collectTimeoutMs);
      }),
    ]);
  } catch (error) {
    const why = (error as Error)?.message === 'timeout' ? `timed out after ${o.collectTimeoutMs} ms` : `threw ${(error as Error)?.name ?? 'an error'}`;
    o.log(`collect() ${why}; this heartbeat goes out without its values`);
    return {};
  } finally {
    if (timer !== undefined) clearTimeout(timer);
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
    const uses = n > 0 ? bucketOf(n) : undefined;
    if (uses !== undefined) out.push({ day, feature, uses });
  }
  return out;
}

async function heartbeatBodies(o: ResolvedOptions, installId: string, features: FeatureDay[], allow: AllowList, counter: RedactionCounter): Promise<Bodies> {
  const report = await collectReport(o);
  const parsed = await parseCollected(report);
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

type Delivery = 'sent' | 'unauthorized' | 'rate-limited' | 'failed' | 'exhausted' | 'stopped';

export function createActive(o: ResolvedOptions, settings: Settings, featureIndex: ReadonlyMap<string, number>, counts: Float64Array): Active {
  const allow = allowListFor(o.catalog);
  const redactions = new RedactionCounter();
  const s = o.scheduleOptions;
  let store: StateStore = o.store ?? new FileStateStore(o.stateDir);
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
  let inflight: Promise<SendOutcome> | undefined;
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  // Feature counts: today's live in `counts`; earlier days wait here until a heartbeat takes them.
  let today = utcDay(o.now());
  const pending: DayCounts = new Map();
  const MAX_PENDING_DAYS = 31;

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
    while (pending.size > MAX_PENDING_DAYS) pending.delete(Math.min(...pending.keys()));
  };
  const takePending = (): DayCounts => {
    const taken: DayCounts = new Map(pending);
    pending.clear();
    return taken;
  };
  const restorePending = (taken: DayCounts) => mergeDayCounts(pending, taken);
  const featureDays = (taken: DayCounts): FeatureDay[] =>
    [...taken].flatMap(([day, m]) =>
      [...m].flatMap(([feature, n]) => {
        const uses = bucketOf(n);
        return uses === undefined || uses === '0' ? [] : [{ day, feature, uses }];
      }),
    );
  // Counts a previous run saved at shutdown. Only a running sender (start or a send) takes them
  // over and removes the file; a one-off `status`/`preview` (the CLI) must leave them in place.
  let adopted = false;
  const adoptSavedFeatures = () => {
    if (adopted) return;
    adopted = true;
    restorePending(loadPendingFeatures(o.stateDir));
  };

  const scheduleMidnight = () => {
    midnight = unrefTimer(() => {
      rollOver(o.now());
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
    try {
      return await store.read();
    } catch (error) {
      if (error instanceof CorruptStateError) {
        storeNote = 'the state file was corrupt; it was replaced with a new install id';
        o.log(storeNote);
        return undefined;
      }
      fallBackToMemory(`state could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return store.read();
    }
  };

  /** false: another writer changed the state first; 'busy': a replica held the lock throughout. */
  const casState = async (expected: InstallState | undefined, next: InstallState): Promise<boolean | 'busy'> => {
    try {
      return await store.compareAndSet(expected, next);
    } catch (error) {
      // A replica holding the lock is not a broken store: it is sending this cycle's heartbeat.
      if (error instanceof LockTimeoutError) return 'busy';
      fallBackToMemory(`state could not be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return store.compareAndSet(known, next);
    }
  };

  /** Claims this cycle's heartbeat: sets lastSentAt if nobody (no replica) did in the interval. */
  const claim = async (force: boolean): Promise<{ state: InstallState; previous: InstallState | undefined } | undefined> => {
    for (let tries = 0; tries < 5; tries++) {
      const now = o.now();
      const current = await readState();
      known = current;
      if (!force && current?.lastSentAt !== undefined && now - current.lastSentAt < s.intervalMs) return undefined;
      const rotate = current === undefined || now - current.idCreatedAt >= o.rotateIdAfterDays * DAY_MS;
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
      const result: SendResult = await post({ url, token: settings.token ?? '', body, userAgent: userAgent(), ref, ...(timeoutMs === undefined ? {} : { timeoutMs }) }, wire);
      const entry = { time: new Date(o.now()).toISOString(), signal, bytes: wire.byteLength, sha256: hash, status: result.status };
      await appendLedger(o.stateDir, redacted > 0 ? { ...entry, redacted } : entry).catch(() => undefined);
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
    if (!adopted) mergeDayCounts(shown, loadPendingFeatures(o.stateDir, false));
    const bodies = await heartbeatBodies(o, state?.installId ?? PREVIEW_INSTALL_ID, featureDays(shown), allow, counter);
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
      o.log(`could not build the heartbeat (${(error as Error).name}); will retry next cycle`);
      return { sent: false, reason: 'build failed' };
    }
    const mode = force ? 'foreground' : 'background';
    // Attributes the redacting processors dropped from this heartbeat, recorded with its metrics send.
    const metrics = await deliverOne('metrics', bodies.metrics, mode, redactions.total - redactedBefore);
    const logs = bodies.logs === undefined || metrics !== 'sent' ? metrics : await deliverOne('logs', bodies.logs, mode, 0);
    if (logs !== 'sent' && logs !== 'failed' && logs !== 'unauthorized') restorePending(taken);
    if (metrics === 'exhausted' || metrics === 'stopped') await release(claimed.state, claimed.previous);
    lastResult = `${new Date(o.now()).toISOString()} metrics: ${metrics}${bodies.logs === undefined ? '' : `, logs: ${logs}`}`;
    return { sent: metrics === 'sent', reason: lastResult };
  };

  const run = async (force: boolean): Promise<SendOutcome> => {
    // A forced send waits for a cycle in flight, then runs its own; a scheduled one joins it.
    if (force && inflight !== undefined) await inflight.catch(() => undefined);
    inflight ??= cycle(force)
      .catch((error: unknown): SendOutcome => {
        o.log(`heartbeat failed (${(error as Error)?.name ?? 'error'})`);
        return { sent: false, reason: 'internal error' };
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  const schedule = (wanted: number) => {
    if (stopped || unauthorized) return;
    const delay = Math.max(wanted, holdUntil - o.now());
    nextSendAt = o.now() + delay;
    timer = unrefTimer(() => {
      void run(false).then((outcome) => {
        const now = o.now();
        const lastSentAt = known?.lastSentAt;
        // Sent, or another replica sent in this interval: wait out the interval. Otherwise the
        // cycle failed and was given back: try again after a retry cycle, never sooner.
        const covered = outcome.sent || (lastSentAt !== undefined && now - lastSentAt < s.intervalMs);
        if (settings.debug) schedule(s.intervalMs + between(0, s.jitterMs, o.random));
        else schedule(covered ? nextDelay(now, lastSentAt, s, o.random) : s.retryCycleMs + between(0, s.jitterMs, o.random));
      });
    }, delay);
  };

  return {
    start() {
      adoptSavedFeatures();
      scheduleMidnight();
      // FileStateStore.read() yields a loop turn before its first read (loading node:fs/promises).
      void readState()
        .then((state) => {
          known = state;
          schedule(nextDelay(o.now(), state?.lastSentAt, s, o.random));
        })
        .catch(() => schedule(nextDelay(o.now(), undefined, s, o.random)));
    },
    async status() {
      const state = storeKind === 'memory' ? known : await readState().catch(() => known);
      return {
        enabled: true,
        reason: settings.reason,
        product: o.product,
        version: o.version,
        endpoint: settings.endpoint,
        debug: settings.debug,
        stateDir: o.stateDir,
        store: storeKind,
        storeNote,
        installId: state?.installId,
        idCreatedAt: state?.idCreatedAt,
        lastSentAt: state?.lastSentAt,
        nextSendAt,
        redactions: { total: redactions.total, entries: redactions.entries() },
        lastResult,
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
      if (timer !== undefined) clearTimeout(timer);
      if (midnight !== undefined) clearTimeout(midnight);
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
      if (deadline !== undefined) clearTimeout(deadline);
      // Not delivered in time: keep the counts on disk for the next run rather than lose them.
      if (delivered !== 'sent' && delivered !== 'failed') await savePendingFeatures(o.stateDir, taken).catch(() => undefined);
    },
  };
}
