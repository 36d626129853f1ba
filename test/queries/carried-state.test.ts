/**
 * The install-class rules read per-install state that the two state rules carry from one
 * evaluation to the next (src/queries.ts, "Carried per-install state"), so a rule cycle reads
 * only the last day of raw heartbeats whatever the days stored; and every rule that reads an
 * intermediate (`ages`, the environment, `settings`: "One read of the per-install series") sums
 * what it recorded at the same evaluation. This proves they give exactly the numbers of the raw
 * definitions (`RecordingRule.raw`, which read up to 30 days):
 *
 * A real Prometheus holds a scripted 40-day history of heartbeats (written with remote write:
 * any timestamps, no collector needed; the collector path is covered by queries.test.ts). The
 * state rules are then evaluated as Prometheus' rule manager would, one evaluation after the
 * other, started as the start rules file does (the state rules' raw definitions, every other
 * rule as shipped), at irregular steps of 15 minutes to 2.9 hours (any gap shorter than
 * STATE_CARRY must work), each result written back at its evaluation time before the next
 * evaluation. At every step, the state and every rule that reads it must equal its raw
 * definition evaluated at the same instant.
 *
 * The history covers: daily installs, an upgrade, every other day, weekly, every 3 days at
 * drifting hours, one-off installs, an install that stops, one that returns after 33 days (its
 * old heartbeats leave the 30-day window), one that returns after 29 days, brand-new ones, and
 * a second product; quantity buckets and flags that change, an install that stops reporting a
 * quantity (left out of that quantity's counts from then on) and one that reports none.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { demoPrometheusConfig } from '../../scripts/stack/demo-stack.ts';
import { startPrometheus, type Prometheus } from '../../scripts/stack/processes.ts';
import { RECORDED, recordingRules, STATE_CARRY, type RecordingRule } from '../../src/queries.ts';
import { remoteWrite, type WriteSample } from './remote-write.ts';

const bins = await collectorBinaries();

const DAY = 86_400;
const HOUR = 3_600;
const HISTORY_DAYS = 40;

interface Install {
  readonly id: string;
  readonly job?: string;
  /** [day, version] from that day on. */
  readonly versions: readonly (readonly [number, string])[];
  readonly days: readonly number[];
  /** Hour of day of the heartbeat on `day` (default 9 h plus 0.6 h a day: >= 24 h apart). */
  readonly hour?: (day: number) => number;
  /** Bucket and flag labels of the heartbeat on `day` (default `settings`). */
  readonly settings?: (day: number) => Record<string, string>;
}

/** Buckets and flags that change over the history (each change starts a new series). */
const settings = (day: number): Record<string, string> => ({
  quantity_servers: day < 20 ? '1-9' : '10-99',
  quantity_users: '10-99',
  quantity_checks_per_day: day % 3 === 0 ? '100-999' : '1k-9.9k',
  flag_sso_enabled: String(day % 2),
  flag_external_db: '0',
});

const range = (from: number, to: number, step = 1): number[] => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

const INSTALLS: Install[] = [
  { id: 'daily-a', versions: [[0, '1.4.0']], days: range(0, 39) },
  { id: 'daily-b', versions: [[0, '1.4.0'], [20, '1.5.0']], days: range(0, 39), hour: (d) => 22.5 + d * 0.03 },
  { id: 'upgrade-late', versions: [[0, '1.3.2'], [39, '1.5.0']], days: range(3, 39) },
  { id: 'every-other', versions: [[0, '1.4.0']], days: range(0, 39, 2), hour: (d) => 2 + (d % 3) },
  { id: 'weekly', versions: [[0, '1.3.2']], days: range(1, 39, 7), hour: () => 13 },
  { id: 'every-third', versions: [[0, '1.4.0']], days: range(0, 39, 3), hour: (d) => (d * 5) % 24 },
  { id: 'one-off-early', versions: [[5, '1.4.0']], days: [5] },
  { id: 'one-off-late', versions: [[33, '1.5.0']], days: [33], hour: () => 20 },
  { id: 'returns-after-33', versions: [[2, '1.3.2'], [36, '1.5.0']], days: [2, 3, 36] },
  { id: 'returns-after-29', versions: [[1, '1.4.0']], days: [1, 30], hour: () => 6 },
  { id: 'stops', versions: [[0, '1.4.0']], days: range(0, 10) },
  { id: 'stops-late', versions: [[0, '1.5.0']], days: range(25, 34) },
  { id: 'new-two-days', versions: [[38, '1.5.0']], days: [38, 39], hour: () => 1 },
  { id: 'new-today', versions: [[39, '1.5.0']], days: [39], hour: () => 22 },
  { id: 'other-product', job: 'other', versions: [[0, '2.0.0']], days: range(0, 39, 2) },
  {
    id: 'stops-reporting-servers',
    versions: [[0, '1.4.0']],
    days: range(0, 39),
    hour: () => 15,
    settings: (d) => {
      const { quantity_servers: servers, ...rest } = settings(d);
      return d < 35 ? { quantity_servers: servers!, ...rest } : rest;
    },
  },
  { id: 'reports-nothing', versions: [[0, '1.5.0']], days: range(0, 39), hour: () => 11, settings: () => ({}) },
];

describe.skipIf(!bins.ok)('carried per-install state gives the raw definitions\' numbers at every evaluation', () => {
  let prometheus: Prometheus;
  let dir: string;
  /** Midnight UTC of history day 0 (s). */
  let t0: number;
  let end: number;
  /** The last evaluation of the chain (s). */
  let lastStep: number;
  const rules = new Map<string, RecordingRule>();
  for (const rule of recordingRules(catalog)) rules.set(rule.record, rule);
  const stateRules = [RECORDED.lastSeen, RECORDED.previousSeen].map((r) => rules.get(r)!);
  /** The rules other rules read at the same evaluation (the state and the intermediates), in file order. */
  const sources = [...rules.values()].filter((r) => [...rules.values()].some((o) => o !== r && o.expr.includes(r.record)));
  /** Every rule whose live expression reads a source (and differs from its raw definition). */
  const readers = [...rules.values()].filter((r) => r.expr !== r.raw && !sources.includes(r));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'headcount-carried-'));
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, await demoPrometheusConfig(HISTORY_DAYS + 5, {}));
    prometheus = await startPrometheus(bins.ok ? bins.prometheus : '', { configFile: config, dataDir: join(dir, 'tsdb'), extraFlags: ['--web.enable-remote-write-receiver'] });
    const now = Math.floor(Date.now() / 1000);
    t0 = Math.floor(now / DAY) * DAY - HISTORY_DAYS * DAY;
    const samples: WriteSample[] = [];
    for (const install of INSTALLS) {
      let previous = -Infinity;
      for (const day of install.days) {
        const version = [...install.versions].reverse().find(([from]) => from <= day)![1];
        const hour = install.hour?.(day) ?? 9 + day * 0.6 / 24;
        samples.push({
          labels: { __name__: 'headcount_heartbeat', job: install.job ?? 'acme', instance: install.id, service_version: version, os_type: 'linux', ...(install.settings ?? settings)(day) },
          value: 1,
          timestampMs: Math.round((t0 + day * DAY + hour * HOUR) * 1000),
        });
        // The shape the rules assume: an install's heartbeats are >= 24 h apart.
        expect(samples.at(-1)!.timestampMs - previous, install.id).toBeGreaterThanOrEqual(DAY * 1000);
        previous = samples.at(-1)!.timestampMs;
      }
    }
    // In time order, so every sample is in order for its series.
    samples.sort((a, b) => a.timestampMs - b.timestampMs);
    expect(Math.max(...samples.map((s) => s.timestampMs)) / 1000).toBeLessThan(now);
    await remoteWrite(prometheus.url, samples);
    // State is written up to `end`: never in the future (Prometheus rejects that).
    end = Math.min(Math.max(...samples.map((s) => s.timestampMs)) / 1000 + 2 * HOUR, now - 60);
    const stored = await prometheus.query(`count(count by (instance) (count_over_time(headcount_heartbeat[${HISTORY_DAYS + 1}d])))`, end);
    expect(Number(stored[0]?.value[1])).toBe(INSTALLS.length);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const evaluate = async (expr: string, time: number) => prometheus.query(expr, time);
  const table = (rows: { metric: Record<string, string>; value: [number, string] }[]) =>
    Object.fromEntries(rows.map((r) => [JSON.stringify(Object.entries(r.metric).filter(([n]) => n !== '__name__').sort()), Number(r.value[1])]));

  it('state rules evaluated one after the other: every reader equals its raw definition at every step', async () => {
    expect(sources.map((r) => r.record)).toEqual([RECORDED.lastSeen, RECORDED.previousSeen, RECORDED.ages, RECORDED.environment, RECORDED.settings]);
    expect(readers.map((r) => r.record).sort()).toEqual(
      [
        ...[RECORDED.active('30d'), RECORDED.established, RECORDED.oneOff, RECORDED.new, RECORDED.stopped, RECORDED.firstSeen, RECORDED.active('7d')],
        ...[...catalog.quantities.keys()].map((n) => RECORDED.quantity(n)),
        ...[...catalog.flags.keys()].map((n) => RECORDED.flag(n)),
      ].sort(),
    );
    const carryS = Number(/^(\d+)h$/.exec(STATE_CARRY)![1]) * HOUR;
    const stepsH = [2.9, 2.5, 2.75, 0.25, 2.6, 2.8];
    expect(Math.max(...stepsH) * HOUR).toBeLessThan(carryS);
    const seen: Record<string, number> = {};
    let steps = 0;
    // Irregular steps of 15 min to 2.9 h (any gap shorter than STATE_CARRY must work), from
    // before the first heartbeat to the end. The first evaluation starts the state from the raw
    // definitions (what loading the backfill rules file for one evaluation does).
    for (let t = t0 - 3 * HOUR, i = 0; t <= end; t += stepsH[i % stepsH.length]! * HOUR, i++) {
      // The rule manager: rules in file order, each result stored at t before the next rule.
      for (const rule of sources) {
        // The raw state (30 day windows) is the costliest query here: checked every 3rd step;
        // every rule that reads a source is checked at every step below.
        const raw = i % 3 === 0 || rule.raw === rule.expr ? await evaluate(rule.raw, t) : undefined;
        // The first evaluation is the start rules file's: the state rules from their raw
        // definitions, every other rule as shipped.
        const live = (i === 0 && stateRules.includes(rule)) || rule.raw === rule.expr ? raw! : await evaluate(rule.expr, t);
        if (i > 0 && raw !== undefined) expect(table(live), `${rule.record} at day ${((t - t0) / DAY).toFixed(2)}`).toEqual(table(raw));
        await remoteWrite(prometheus.url, live.map((s) => ({ labels: { ...s.metric, __name__: rule.record }, value: Number(s.value[1]), timestampMs: Math.round(t * 1000) })));
      }
      for (const rule of readers) {
        const live = table(await evaluate(rule.expr, t));
        expect(live, `${rule.record} at day ${((t - t0) / DAY).toFixed(2)}`).toEqual(table(await evaluate(rule.raw, t)));
        const total = Object.entries(live).reduce((n, [k, v]) => n + (k === '[]' ? 0 : v), 0);
        seen[rule.record] = Math.max(seen[rule.record] ?? 0, total);
      }
      steps++;
      lastStep = t;
    }
    expect(steps).toBeGreaterThan(300);
    // Not vacuous: every class held installs at some step.
    for (const rule of readers) expect(seen[rule.record], rule.record).toBeGreaterThan(0);
  }, 1_800_000);

  it('a failed state rule gives the readers no data, never false zeros; a gap longer than STATE_CARRY stops the state', async () => {
    // Nothing was written at this instant (10 min after the last evaluation, beyond the 5 min
    // lookback): the readers find no state and write no sentinel.
    for (const rule of readers) expect(await evaluate(rule.expr, lastStep + 600), rule.record).toEqual([]);
    // Just within STATE_CARRY of the last evaluation the state carries on; past it, nothing.
    const carryS = Number(/^(\d+)h$/.exec(STATE_CARRY)![1]) * HOUR;
    for (const rule of stateRules) {
      expect((await evaluate(rule.expr, lastStep + carryS - 60)).length, rule.record).toBeGreaterThan(1);
      expect(await evaluate(rule.expr, lastStep + carryS + 60), rule.record).toEqual([]);
    }
  });
});

if (!bins.ok) {
  describe('carried per-install state', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
