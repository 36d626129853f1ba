/**
 * Drives a planned fleet through the real sender, day by day: for every install alive on a day,
 * `sendNow()` (heartbeat + the previous day's feature records) on a `createHeadcount` handle
 * with an injected clock, PRNG, environment and in-memory store, then `feature()` for that
 * day's uses. Nothing here builds a payload: bodies, bucketing and redaction are the SDK's.
 *
 * History: day `d` of `days` runs `days - 1 - d` days "ago". The SDK's clock is shifted by that
 * much; the collector stamps on receipt, so the caller's `beforeDay` hook (the demo stack)
 * restarts the demo collector with the same shift (collector-config/otelcol.demo.yaml).
 */
import { envPrefixFor, variableNames } from '../config.ts';
import { createHeadcount, type Headcount, type HeadcountOptions } from '../headcount.ts';
import { MemoryStateStore } from '../store.ts';
import { quantitiesOn, usesOn, versionOn, type FleetPlan, type InstallPlan } from './fleet.ts';
import { prng, seededUuid } from './random.ts';

export const DAY_MS = 86_400_000;

export interface DayStats {
  /** 0 = first simulated day. */
  readonly day: number;
  readonly daysAgo: number;
  /** Heartbeats delivered (HTTP 2xx). */
  readonly heartbeats: number;
  /** Feature records carried by those heartbeats (one per install, feature and day of use). */
  readonly featureRecords: number;
  /** Heartbeats that were not delivered. */
  readonly failed: number;
  /** Wall-clock start and end of the day's sends (ms). */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface SimulateOptions {
  /** The product: `product` and `catalog` are used; version, collect, env and store are the simulator's. */
  readonly app: Pick<HeadcountOptions, 'product' | 'catalog'>;
  readonly plan: FleetPlan;
  /** Collector base URL and a token it accepts. */
  readonly endpoint: string;
  readonly token: string;
  readonly seed: number;
  /** Where the SDK writes its ledger (shared by all simulated installs). */
  readonly stateDir: string;
  /** Installs sending at the same time (default 16). */
  readonly concurrency?: number;
  /** Before each day (e.g. restart the demo collector with this day's time shift). */
  readonly beforeDay?: (day: number, daysAgo: number) => Promise<void>;
  /** After each day's sends (e.g. wait until Prometheus has them). */
  readonly afterDay?: (stats: DayStats) => Promise<void>;
  readonly progress?: (line: string) => void;
  /** Wall clock (default Date.now). */
  readonly clock?: () => number;
}

export interface SimulationResult {
  readonly days: readonly DayStats[];
  readonly heartbeats: number;
  readonly featureRecords: number;
  readonly failed: number;
}

interface Live {
  handle: Headcount;
  version: string;
  readonly store: MemoryStateStore;
  /** Features used on the install's previous day (records its next heartbeat carries). */
  fed: number;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function simulate(o: SimulateOptions): Promise<SimulationResult> {
  const clock = o.clock ?? Date.now;
  const vars = variableNames(envPrefixFor(o.app.product));
  const env = { [vars.token]: o.token, [vars.endpoint]: o.endpoint, [vars.force]: '1' };
  const ids = prng(o.seed ^ 0x5eed);
  let shiftMs = 0;
  const now = () => clock() - shiftMs;
  const live = new Map<InstallPlan, Live>();

  const open = (plan: InstallPlan, index: number, version: string, store: MemoryStateStore): Headcount =>
    createHeadcount({
      product: o.app.product,
      catalog: o.app.catalog,
      version,
      env,
      store,
      stateDir: o.stateDir,
      now,
      random: prng(o.seed + index * 7919),
      simulatedHost: plan.host,
      collect: () => ({ quantities: quantitiesOn(plan, currentDay), flags: plan.flags }),
      log: () => undefined,
    });

  let currentDay = 0;
  const days: DayStats[] = [];
  const indexOf = new Map(o.plan.installs.map((p, i) => [p, i]));
  for (let day = 0; day < o.plan.days; day++) {
    const daysAgo = o.plan.days - 1 - day;
    await o.beforeDay?.(day, daysAgo);
    shiftMs = daysAgo * DAY_MS;
    currentDay = day;
    const startedAt = clock();
    let heartbeats = 0;
    let featureRecords = 0;
    let failed = 0;
    const today = o.plan.installs.filter((p) => p.days.includes(day));
    await pool(today, o.concurrency ?? 16, async (plan) => {
      const index = indexOf.get(plan)!;
      let state = live.get(plan);
      if (state === undefined) {
        const version = versionOn(plan, day);
        const store = new MemoryStateStore({ installId: seededUuid(ids), idCreatedAt: now() });
        state = { handle: open(plan, index, version, store), version, store, fed: 0 };
        live.set(plan, state);
      }
      const outcome = await state.handle.sendNow();
      if (outcome.sent) {
        heartbeats++;
        featureRecords += state.fed;
      } else failed++;
      // An upgrade before tomorrow's heartbeat: the product restarts on the new version (same
      // install id). Activate the new handle today, so today's feature uses are "yesterday" to it.
      const tomorrow = versionOn(plan, day + 1);
      if (plan.days.includes(day + 1) && tomorrow !== state.version) {
        state.handle = open(plan, index, tomorrow, state.store);
        state.version = tomorrow;
        await state.handle.status();
      }
      const uses = usesOn(plan, day);
      for (const [name, n] of uses) for (let k = 0; k < Math.min(n, 1_000_000); k++) state.handle.feature(name);
      state.fed = uses.length;
    });
    const stats: DayStats = { day, daysAgo, heartbeats, featureRecords, failed, startedAt, endedAt: clock() };
    days.push(stats);
    o.progress?.(`day ${day + 1}/${o.plan.days} (${daysAgo} d ago): ${heartbeats} heartbeats, ${featureRecords} feature records${failed > 0 ? `, ${failed} FAILED` : ''}`);
    await o.afterDay?.(stats);
  }
  const sum = (f: (d: DayStats) => number) => days.reduce((n, d) => n + f(d), 0);
  return { days, heartbeats: sum((d) => d.heartbeats), featureRecords: sum((d) => d.featureRecords), failed: sum((d) => d.failed) };
}
