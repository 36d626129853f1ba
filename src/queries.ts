/**
 * Every install-base question, asked once, in PromQL. The Grafana dashboards, `headcount report`
 * and the tests all use these definitions; nothing else writes install-base PromQL.
 *
 * Data model (collector-config/README.md): one `headcount_heartbeat` sample per install per
 * heartbeat (about one a day, at least 24 h apart, timestamped on receipt), labelled with the
 * install id (`instance`) and the install's resource and bucketed values; and
 * `headcount_feature_install_days_total`, one sample per collector batch counting the installs
 * that reported a feature for a UTC day in that batch (no install id; summed over time).
 *
 * Two layers:
 * - **Recording rules** (`recordingRules()`, written to collector-config/rules/ by
 *   `npm run dashboards`) store small aggregates every RULE_INTERVAL: installs per product and
 *   version for each window and class, per environment, per bucket of each quantity and flag.
 *   Answering from the raw history costs installs × days chunk reads per panel (seconds at 100k
 *   installs); the recorded series are a few hundred whatever the fleet size. The 30-day
 *   questions (install classes) read per-install state that two rules carry from one evaluation
 *   to the next (see "Carried per-install state"), so an evaluation reads at most 7 days of raw
 *   history whatever the retention; and most rules sum an intermediate recorded at the same
 *   evaluation instead of reading a series per install (see "One read of the per-install
 *   series, many aggregates"). Rules evaluate going forward only: a Prometheus that already
 *   holds history backfills them with `promtool tsdb create-blocks-from rules` and
 *   `backfillRulesFile()` (collector-config/README.md).
 * - **Panel queries** (`expr`) read the values of the newest complete evaluation (`rec()`) and
 *   sum them for the chosen product, versions and groups; features read their small counter raw.
 *
 * Rules every count follows:
 * - **Distinct installs.** An install has one series per label set, so an install that upgraded
 *   (or whose bucket changed) has several. The rules count each install once, under the product
 *   and version of its *latest* heartbeat in the window (`latest()`: `topk by (instance) (1,
 *   ts_of_last_over_time(...))`), so summing over versions never counts an upgrade twice and
 *   breakdown shares sum to 100 %. The `$version` filter therefore selects installs by their
 *   latest version. `ts_of_last_over_time` is experimental in Prometheus 3: it needs
 *   `--enable-feature=promql-experimental-functions` (prometheus.yml lists the flags).
 * - **One-off installs** (one heartbeat, never seen again: CI runs, throwaway containers) are
 *   kept apart: `established` needs two or more heartbeats in 30 days, `new` is a single
 *   heartbeat in the last 25 h (it may still become established), `one-off` is a single heartbeat
 *   older than that.
 * - **Suppression.** Every breakdown hides groups with fewer than `$k` installs (`>= $k`), so no
 *   single install can be singled out on a shared screen. Shares are still computed over all
 *   installs, so visible shares may sum to less than 100 %.
 * - **Daily data.** A heartbeat is older than Prometheus' 5-minute lookback most of the time, so
 *   every selector is a `*_over_time` range.
 * - **Freshness.** Counts are as of the newest complete rule evaluation: RULE_INTERVAL old plus
 *   the evaluation's duration at most (while one is in progress a panel may mix its rules' new
 *   values with the previous ones). With no complete evaluation in RECORDED_WINDOW, or when a
 *   panel's rule failed at the newest one, the panels show no data rather than a false 0.
 *
 * Known limitation: the install id rotates every 30 days (privacy), so a rotation looks like one
 * install stopping and one new install appearing. Net growth (active now vs. a week ago) is not
 * affected; `new` and `stopped` include about 1/30 of the fleet per day from rotation.
 *
 * Grafana variables: `$service` (regex on `job`, the product), `$version` (regex on
 * `service_version`), `$k` (suppression threshold). `renderQuery()` substitutes them.
 */
import { BUCKET_LABELS } from './bucket.ts';
import type { Catalog } from './catalog.ts';

export interface Query {
  /** Unique snake_case id, e.g. `active_installs_24h`. */
  readonly id: string;
  /** Panel title. */
  readonly title: string;
  /** One line: what it means and how it is counted. */
  readonly description: string;
  readonly unit: 'short' | 'percent' | 'percentunit' | 'dateTimeFromNow' | 's' | 'none';
  /** How it is best shown. */
  readonly kind: 'stat' | 'timeseries' | 'bars' | 'table';
  /** PromQL with the Grafana variables `$service`, `$version`, `$k`. */
  readonly expr: string;
  /** Grafana legendFormat. */
  readonly legend?: string;
  /** The label a breakdown groups by (the report's row label). */
  readonly groupBy?: string;
  /** Suggested range-query step for timeseries (Prometheus duration). */
  readonly step?: string;
}

export interface QueryVars {
  /** Regex on `job` (the product, `service.name`). */
  readonly service: string;
  /** Regex on `service_version`; default all. */
  readonly version?: string;
  /** Suppression threshold: groups with fewer installs are hidden. */
  readonly k: number;
}

/** The default of the `k` variable. */
export const DEFAULT_K = 5;

// ---------------------------------------------------------------------------------------------
// Building blocks: raw history (read by the recording rules only)

const HEARTBEAT = 'headcount_heartbeat';
const FEATURE_COUNTER = 'headcount_feature_install_days_total';

/** Feature counter selector, plus extra matchers. */
const feat = (...matchers: string[]): string => `${FEATURE_COUNTER}{${['job=~"$service"', 'service_version=~"$version"', ...matchers].join(', ')}}`;

/** One series per install seen in `window` (value: number of its series). */
const installsIn = (window: string, offset?: string): string =>
  `count by (instance) (last_over_time(${HEARTBEAT}[${window}]${offset === undefined ? '' : ` offset ${offset}`}))`;

/** Heartbeats per install in the last 30 days (summed over the install's series). */
const HEARTBEATS_30D = `sum by (instance) (count_over_time(${HEARTBEAT}[30d]))`;

/** Days `latest()` looks back: breakdowns are over installs active in 7 days. */
export const BREAKDOWN_DAYS = 7;

/**
 * Each install's latest heartbeat in `window`: of an install's series (one per label set: an
 * upgrade or a bucket change starts a new one), the one whose last sample is the newest. One
 * series per install, valued with that heartbeat's time (s). One pass over the window's samples;
 * an install's heartbeats are >= 24 h apart, so two of its series never share a last timestamp.
 */
export function latest(selector = HEARTBEAT, window = `${BREAKDOWN_DAYS}d`, offset?: string): string {
  return `topk by (instance) (1, ts_of_last_over_time(${selector}[${window}]${offset === undefined ? '' : ` offset ${offset}`}))`;
}

/** Installs counted once each, under the product and version of their latest heartbeat. */
const perVersion = (installs: string): string => `count by (job, service_version) (${installs})`;

/**
 * Every aggregate rule also records a label-less 0 (`job=""`, which no panel sums): proof that
 * this rule ran at that evaluation. A rule that failed (timeout, sample limit) writes nothing,
 * so its panels show no data instead of a false 0.
 */
const ran = (expr: string): string => `${expr} or vector(0)`;

// ---------------------------------------------------------------------------------------------
// Recording rules: the small aggregates every panel reads

/** How often Prometheus evaluates the rules (the group's `interval`). */
export const RULE_INTERVAL = '15m';
/**
 * How far back a panel looks for the newest recorded value: three intervals, so an evaluation
 * that starts late or a restart across a scheduled evaluation does not blank the panels (which
 * series are current is decided by the marker, not by this window).
 */
export const RECORDED_WINDOW = '45m';
/** The rule group's name in the generated rules file. */
export const RULE_GROUP = 'headcount';

export interface RecordingRule {
  /** Recorded metric name, `headcount:<what>:<window>` (per-install state: `headcount:install_<what>`). */
  readonly record: string;
  /** The PromQL Prometheus evaluates every RULE_INTERVAL (`rulesFile()`). */
  readonly expr: string;
  /**
   * The same series from the raw heartbeats alone, reading up to 30 days (`backfillRulesFile()`):
   * for backfill and to start the carried state. Equals `expr` for the rules that read only raw
   * history; the query tests check that both give the same values.
   */
  readonly raw: string;
}

const ENV_LABELS = 'headcount_channel, os_type, host_arch, process_runtime_name, process_runtime_version, headcount_deployment';

/** Recorded metric names. */
export const RECORDED = {
  /**
   * Marker, 1 at every evaluation, written last: tells "no installs" (0) from "rules not
   * evaluated" (no data), and dates the newest complete evaluation.
   */
  evaluated: 'headcount:rules_evaluated',
  /**
   * Per-install state (one series per install seen in 30 days, labels `instance`, `job`,
   * `service_version` of its latest heartbeat): the time (s) of its latest heartbeat.
   */
  lastSeen: 'headcount:install_last_heartbeat_seconds',
  /**
   * Per-install state (label `instance`): the time (s) of the heartbeat before the latest one,
   * only while it is within 30 days (i.e. the install sent two or more heartbeats in 30 days).
   */
  previousSeen: 'headcount:install_previous_heartbeat_seconds',
  active: (window: '1h' | '25h' | '7d' | '30d') => `headcount:installs_active:${window}`,
  established: 'headcount:installs_established:7d',
  oneOff: 'headcount:installs_one_off:7d',
  new: 'headcount:installs_new:25h',
  stopped: 'headcount:installs_stopped:7d',
  firstSeen: 'headcount:installs_first_seen:1d',
  /**
   * Intermediate (read by the class rules at the same evaluation): installs seen in 30 days per
   * product, version, whole hours since their latest heartbeat (`age_hours`, capped at
   * AGE_CAP_HOURS) and `established="1"` when they have an earlier heartbeat in 30 days.
   */
  ages: 'headcount:installs_by_age:30d',
  daily: 'headcount:installs_by_version:1d',
  environment: 'headcount:installs_by_environment:7d',
  /**
   * Intermediate (read by the quantity and flag rules at the same evaluation): installs active in
   * 7 days per product, version and the buckets and flags of their latest heartbeat.
   */
  settings: 'headcount:installs_by_settings:7d',
  quantity: (name: string) => `headcount:installs_by_quantity_${name}:7d`,
  flag: (name: string) => `headcount:installs_by_flag_${name}:7d`,
  lastHeartbeat: 'headcount:last_heartbeat_seconds:25h',
} as const;

// ---------------------------------------------------------------------------------------------
// Carried per-install state: what keeps a rule cycle's cost independent of the days stored
//
// The install classes (established, one-off, new, stopped, first seen) and the 30-day count
// depend on 30 days of each install's history. Read raw, that is one chunk per install per day
// per rule every cycle (each daily sample sits in a chunk of its own): the cost grew with the
// days stored and reached the query timeout near 250k installs x 30 days. Instead two rules
// carry each install's state from one evaluation to the next:
//   L = time of its latest heartbeat (labels of that heartbeat's product and version),
//   P = time of the heartbeat before it, kept while it is within 30 days.
// Each evaluation reads the state the previous evaluations recorded (the last STATE_CARRY) and the raw
// heartbeats of the last RECENT only, so its cost depends on the installs, not on the days
// stored. Every class is then a comparison of L and P with the evaluation time:
//   2+ heartbeats in 30 d <=> P exists;  active in window W <=> L > time() - W;
//   first seen (nothing in the 29 d before the last day) <=> L in the last day and no P.
// Exact (the query tests compare every class with its raw definition at every step of a
// 40-day history) as long as
// - an install's heartbeats are >= 24 h apart (the SDK's schedule; latest() relies on it too),
//   so a RECENT window holds at most one heartbeat per install;
// - no evaluation gap is longer than STATE_CARRY, and no heartbeat is stored more than RECENT
//   after its timestamp (Prometheus' out-of-order window is 1 d, so none can be).
// Without state (rules just added, or Prometheus down or the rules failing for longer than
// STATE_CARRY) the state rules write nothing and the class panels show no data. Start the state
// from the raw history: load `startRulesFile()` (the state rules' raw definitions) instead of the
// rules file for one evaluation, or backfill with it up to less than STATE_CARRY before the next
// evaluation (collector-config/README.md, "Recording rules").

/**
 * How far back the state rules look for their previous values: a restart or up to 11 failed
 * evaluations in a row are bridged. After a longer gap the state rules stop (no data, see
 * `alive`) until the state is started again.
 */
export const STATE_CARRY = '3h';
/** Raw heartbeats each state evaluation reads: at most one per install (>= 24 h apart). */
const RECENT = '1d';
const DAY_S = 86_400;
/** The evaluation time minus `days` days (in the rule: `time()` is the evaluation time). */
const since = (days: number): string => `time() - ${Math.round(days * DAY_S)}`;

/**
 * What the rule wrote at the evaluations before this one, newest per series (the state only
 * grows, so max = newest). `offset 1s`: evaluated after the fact at an evaluation time, the
 * expression still reads the evaluations before it, as Prometheus does live.
 */
const carried = (metric: string): string => `max_over_time(${metric}{instance!=""}[${STATE_CARRY}] offset 1s)`;

/**
 * Only while the state is carried: the rule's own label-less 0 was written within STATE_CARRY.
 * Without it (rules just loaded, or a longer gap) the state rule writes nothing, the rules that
 * read the state give no data, and the panels say so instead of counting every install as new.
 */
const alive = (metric: string): string => `and on() count(max_over_time(${metric}{instance=""}[${STATE_CARRY}] offset 1s))`;

/** Each install's newest heartbeat in RECENT, by product and version. */
const RECENT_LATEST = `max by (instance, job, service_version) (ts_of_last_over_time(${HEARTBEAT}[${RECENT}]))`;

/**
 * L: of the recent heartbeats and the carried values, the newest per install (for one label
 * set a recent heartbeat is never older than the carried value, so `or` keeps the right one);
 * installs not seen for 30 days are dropped. A label-less 0 marks that the rule ran.
 */
const LAST_SEEN = `(topk by (instance) (1, ${RECENT_LATEST} or ${carried(RECORDED.lastSeen)}) > ${since(30)} or vector(0)) ${alive(RECORDED.lastSeen)}`;

/** L from the raw history alone (for backfill and to start the state). */
const LAST_RAW = `max by (instance, job, service_version) (${latest(HEARTBEAT, '30d')})`;
const LAST_SEEN_RAW = `${LAST_RAW} or vector(0)`;

/**
 * P: while the L values recorded in the last STATE_CARRY include one older than the L just
 * recorded (a new heartbeat arrived within STATE_CARRY), that older value is P; otherwise P is
 * carried. Evaluated after L (it reads this evaluation's L), and it keeps giving the same value
 * for STATE_CARRY, so one failed evaluation of this rule loses nothing. Dropped once older than
 * 30 days. A label-less 0 marks that the rule ran.
 */
const PREVIOUS_SEEN = (() => {
  const oldest = `min by (instance) (min_over_time(${RECORDED.lastSeen}{instance!=""}[${STATE_CARRY}] offset 1s))`;
  const now = `max by (instance) (${RECORDED.lastSeen}{instance!=""})`;
  return `(((${oldest} < on(instance) ${now}) or ${carried(RECORDED.previousSeen)}) > ${since(30)} or vector(0)) ${alive(RECORDED.previousSeen)}`;
})();

/**
 * P from the raw history alone: the second newest of each install's newest heartbeat per day
 * window (T-k-1 d, T-k d], k = 0..29 (one heartbeat per install and window at most).
 */
const PREVIOUS_RAW = (() => {
  const days = Array.from({ length: 30 }, (_, k) => `label_replace(max by (instance) (ts_of_last_over_time(${HEARTBEAT}[1d]${k === 0 ? '' : ` offset ${k}d`})), "day", "${k}", "", "")`);
  const perDay = `(${days.join(' or ')})`;
  return `(min by (instance) (topk by (instance) (2, ${perDay})) and on(instance) count by (instance) (${perDay}) > 1)`;
})();
const PREVIOUS_SEEN_RAW = `${PREVIOUS_RAW} or vector(0)`;

/** L and P as recorded at this evaluation (the state rules run first in the group, L then P). */
const L_NOW = `${RECORDED.lastSeen}{instance!=""}`;
const P_NOW = `${RECORDED.previousSeen}{instance!=""}`;

/**
 * `ran()` for the rule that reads the state: the label-less 0 only when both state rules ran at
 * this evaluation, so a failed state rule gives no data rather than false zeros. It reads only
 * the state rules' own label-less 0s, not the state.
 */
const ranOnState = (expr: string): string =>
  `${expr} or (vector(0) and on() count(${RECORDED.lastSeen}{instance=""}) and on() count(${RECORDED.previousSeen}{instance=""}))`;

const rule = (record: string, expr: string, raw = expr): RecordingRule => ({ record, expr, raw });
/** A rule over the raw history only (reads at most 7 days). */
const rawRule = (record: string, expr: string): RecordingRule => rule(record, ran(expr));

// ---------------------------------------------------------------------------------------------
// One read of the per-install series, many aggregates
//
// A rule that reads a series per install costs the installs (on Cortex, each such read streams
// every install's series from the ingesters); a rule that reads a recorded aggregate costs a few
// hundred series. So each evaluation reads the per-install series as few times as it can and
// derives the rest from two intermediates, recorded at the same evaluation just before the rules
// that read them:
// - `ages` (from L and P): installs per version, whole hours since their latest heartbeat and
//   whether they have an earlier one. Every install class is a range of hours, established or
//   not (L > time() - W  <=>  age < W  <=>  age_hours < W / 1 h, as W is whole hours), so the six
//   class rules sum cells instead of each joining L and P over every install.
// - `settings` (from 7 days of raw heartbeats): installs per version and the buckets and flags
//   of their latest heartbeat; each quantity and flag rule sums it. `installs_active:7d` sums the
//   environment rule the same way.
// Each derived rule's sentinel (its label-less 0) is written only when its source's was, so a
// failed source gives no data, never false zeros. The raw definitions read the raw history, as
// before; the query tests check both give the same series.

/** Hours since the latest heartbeat are counted up to 9 days: the oldest class boundary. */
export const AGE_CAP_HOURS = 9 * 24;

/**
 * `ages` from L and P: `count_values` turns each install's whole hours since its latest
 * heartbeat (plus .5 when it has an earlier heartbeat) into a label, then the .5 becomes
 * `established="1"`.
 */
function agesOf(last: string, previous: string): string {
  const hours = `clamp_max(floor((time() - ${last}) / 3600), ${AGE_CAP_HOURS})`;
  const cells = `count_values by (job, service_version) ("age_hours", (${hours} + 0.5 and on(instance) ${previous}) or ${hours})`;
  return `label_replace(label_replace(${cells}, "established", "1", "age_hours", ".+[.]5"), "age_hours", "$1", "age_hours", "(.+)[.]5")`;
}

/**
 * A rule summing the intermediate `source` recorded at this evaluation over `matchers`, by
 * product, version and `by`; its sentinel only when the source wrote its own.
 */
function derived(record: string, source: string, matchers: string, raw: string, by = ''): RecordingRule {
  const labels = `job, service_version${by === '' ? '' : `, ${by}`}`;
  return rule(record, `sum by (${labels}) (${source}{job!=""${matchers}}) or (vector(0) and on() count(${source}{job=""}))`, ran(raw));
}

/**
 * An install class from `ages`: latest heartbeat at least `fromHours` and less than `toHours`
 * ago (no upper bound: `undefined`, every install seen in 30 days), and an earlier heartbeat in
 * 30 days (`established` true), none (false), or either.
 */
function ageClass(record: string, fromHours: number, toHours: number | undefined, established: boolean | undefined, raw: string): RecordingRule {
  // A class boundary past the cap would silently count the capped cell as younger than it is.
  if ((toHours ?? 0) > AGE_CAP_HOURS) throw new Error(`${record}: ${String(toHours)} hours is past AGE_CAP_HOURS (${AGE_CAP_HOURS})`);
  const to = toHours ?? AGE_CAP_HOURS + 1;
  const hours = Array.from({ length: to - fromHours }, (_, i) => fromHours + i).join('|');
  const matchers = `${fromHours === 0 && toHours === undefined ? '' : `, age_hours=~"${hours}"`}${established === undefined ? '' : `, established="${established ? '1' : ''}"`}`;
  return derived(record, RECORDED.ages, matchers, perVersion(raw));
}

/**
 * The rules every product shares (catalog-independent): the two state rules and `ages` first
 * (the rules after them read what they wrote at this evaluation), then the aggregates, each with
 * its `ran` sentinel.
 */
export const FIXED_RULES: readonly RecordingRule[] = [
  rule(RECORDED.lastSeen, LAST_SEEN, LAST_SEEN_RAW),
  rule(RECORDED.previousSeen, PREVIOUS_SEEN, PREVIOUS_SEEN_RAW),
  rule(RECORDED.ages, ranOnState(agesOf(L_NOW, P_NOW)), ran(agesOf(LAST_RAW, PREVIOUS_RAW))),
  ...(['1h', '25h'] as const).map((w) => rawRule(RECORDED.active(w), perVersion(latest(HEARTBEAT, w)))),
  // Every install in the state was seen in 30 days (the state rules drop older ones): all cells.
  ageClass(RECORDED.active('30d'), 0, undefined, undefined, latest(HEARTBEAT, '30d')),
  ageClass(RECORDED.established, 0, 7 * 24, true, `${latest()} and on(instance) ${HEARTBEATS_30D} > 1`),
  ageClass(RECORDED.oneOff, 25, 7 * 24, false, `${latest()} and on(instance) ${HEARTBEATS_30D} == 1 unless on(instance) ${installsIn('25h')}`),
  ageClass(RECORDED.new, 0, 25, false, `${latest(HEARTBEAT, '25h')} and on(instance) ${HEARTBEATS_30D} == 1`),
  ageClass(RECORDED.stopped, 2 * 24, 9 * 24, true, `${latest(HEARTBEAT, '7d', '2d')} unless on(instance) ${installsIn('2d')} and on(instance) ${HEARTBEATS_30D} > 1`),
  ageClass(RECORDED.firstSeen, 0, 24, false, `${latest(HEARTBEAT, '1d')} unless on(instance) ${installsIn('29d', '1d')}`),
  rawRule(RECORDED.daily, perVersion(`count by (job, service_version, instance) (last_over_time(${HEARTBEAT}[1d]))`)),
  rawRule(RECORDED.environment, `count by (job, service_version, ${ENV_LABELS}) (${latest()})`),
  derived(RECORDED.active('7d'), RECORDED.environment, '', perVersion(latest())),
  rawRule(RECORDED.lastHeartbeat, `max by (job, service_version) (ts_of_last_over_time(${HEARTBEAT}[25h]))`),
];

/**
 * Every rule for a product's catalog: the fixed ones, one per quantity and flag, and the marker
 * last. Prometheus evaluates a group's rules one after the other in file order (unless
 * `--enable-feature=concurrent-rule-eval`, which Headcount does not use; Mimir's ruler: keep
 * `max_independent_rule_evaluation_concurrency` at its default 0), so the marker's time is that
 * of the newest evaluation whose every rule has been written.
 */
export function recordingRules(catalog: Catalog): RecordingRule[] {
  const labels = [...[...catalog.quantities.keys()].map((n) => `quantity_${n}`), ...[...catalog.flags.keys()].map((n) => `flag_${n}`)];
  // Installs whose latest heartbeat in 7 days reports `label`, by its value.
  const byLabel = (record: string, label: string) =>
    derived(record, RECORDED.settings, `, ${label}!=""`, `count by (job, service_version, ${label}) (${latest()}) unless on(${label}) vector(1)`, label);
  return [
    ...FIXED_RULES,
    ...(labels.length === 0 ? [] : [rawRule(RECORDED.settings, `count by (job, service_version, ${labels.join(', ')}) (${latest()})`)]),
    ...[...catalog.quantities.keys()].map((name) => byLabel(RECORDED.quantity(name), `quantity_${name}`)),
    ...[...catalog.flags.keys()].map((name) => byLabel(RECORDED.flag(name), `flag_${name}`)),
    rule(RECORDED.evaluated, 'vector(1)'),
  ];
}

function renderRules(catalog: Catalog, header: readonly string[], pick: (rule: RecordingRule) => string): string {
  const lines = [...header, 'groups:', `  - name: ${RULE_GROUP}`, `    interval: ${RULE_INTERVAL}`, '    rules:'];
  for (const rule of recordingRules(catalog)) lines.push(`      - record: ${rule.record}`, `        expr: ${JSON.stringify(pick(rule))}`);
  return `${lines.join('\n')}\n`;
}

/** The Prometheus rules file (YAML) for a catalog: one group, evaluated every RULE_INTERVAL. */
export function rulesFile(catalog: Catalog): string {
  return renderRules(
    catalog,
    [
      '# Generated from src/queries.ts by `npm run dashboards` (scripts/generate-dashboards.ts --rules);',
      '# do not edit. The Headcount dashboards and `headcount report` read these recorded aggregates.',
      '# The first two rules carry per-install state from one evaluation to the next: start it with',
      '# ../rules-start/headcount.rules.yml (collector-config/README.md, "Recording rules").',
    ],
    (rule) => rule.expr,
  );
}

/**
 * The same series from the raw history alone (`RecordingRule.raw`), for `promtool tsdb
 * create-blocks-from rules` (which evaluates each rule over the whole range before the next, so a
 * rule cannot read its own earlier output) and to start the carried state. Never load it next to
 * `rulesFile()`: both write the same series.
 */
export function backfillRulesFile(catalog: Catalog): string {
  return renderRules(
    catalog,
    [
      '# Generated from src/queries.ts by `npm run dashboards` (scripts/generate-dashboards.ts --backfill-rules);',
      '# do not edit. The series of ../rules/headcount.rules.yml computed from the raw history alone (slow:',
      '# reads 30 days per install): for promtool backfill, or loaded INSTEAD of that file for one',
      '# evaluation to start its carried state (collector-config/README.md, "Recording rules").',
    ],
    (rule) => rule.raw,
  );
}

/**
 * The rules file with the two state rules replaced by their raw definitions: loaded INSTEAD of
 * `rulesFile()` for one evaluation, it starts the carried state (collector-config/README.md,
 * "Recording rules"). Every other rule is the shipped one, reading what the state rules just
 * wrote, so only they read 30 days per install; `backfillRulesFile()` does the same job at the
 * cost of reading the raw history in every rule.
 */
export function startRulesFile(catalog: Catalog): string {
  const state = new Set<string>([RECORDED.lastSeen, RECORDED.previousSeen]);
  return renderRules(
    catalog,
    [
      '# Generated from src/queries.ts by `npm run dashboards` (scripts/generate-dashboards.ts --start-rules);',
      '# do not edit. ../rules/headcount.rules.yml with its two state rules computed from the raw history',
      '# (30 days per install): load it INSTEAD of that file for one evaluation to start the carried',
      '# state, then switch back (collector-config/README.md, "Recording rules").',
    ],
    (rule) => (state.has(rule.record) ? rule.raw : rule.expr),
  );
}

/**
 * The dashboards' `service` and `version` variables: label values of a recorded metric (a few
 * series per product and version), not of the raw heartbeats (a series per install).
 */
export const VARIABLE_QUERIES = {
  service: `label_values(${RECORDED.active('30d')}, job)`,
  version: `label_values(${RECORDED.active('30d')}{job=~"$service"}, service_version)`,
} as const;

/**
 * The values `metric` got at the newest rule evaluation, for the chosen product and versions.
 * `last_over_time` alone would also return, for up to RECORDED_WINDOW, a group the newest
 * evaluation no longer produced (range selectors skip staleness markers, and backfilled blocks
 * have none): only series written at or after the newest complete evaluation (the marker's
 * time) count. `>=`, not `==`: while an evaluation is in progress, the rules already evaluated
 * are newer than the marker and the rest are as old as it, and both are current.
 */
function rec(metric: string): string {
  return current(`${metric}{job=~"$service", job!="", service_version=~"$version"}`);
}

/** Newest values of `selector`'s series written at or after the newest complete evaluation. */
function current(selector: string): string {
  const range = `${selector}[${RECORDED_WINDOW}]`;
  return `(last_over_time(${range}) and ts_of_last_over_time(${range}) >= scalar(ts_of_last_over_time(${RECORDED.evaluated}[${RECORDED_WINDOW}])))`;
}

/** Installs recorded in `metric` for the chosen product and versions; 0 when the rule ran and
 * found none, no data when it has not run (or failed) at the newest evaluation. */
const total = (metric: string): string => `(sum(${rec(metric)}) or 0 * max(${current(`${metric}{job=""}`)}))`;

/** Installs per value of `labels` (by their latest heartbeat). */
function breakdownCount(labels: string, metric: string = RECORDED.environment): string {
  return `sum by (${labels}) (${rec(metric)})`;
}

/** Share (%) of installs per value of `labels`, groups under k hidden. */
function breakdownShare(labels: string, metric: string = RECORDED.environment): string {
  return `100 * (${breakdownCount(labels, metric)} >= $k) / scalar(sum(${rec(metric)}))`;
}

/** Representative uses per `feature_uses` bucket, for the events-per-day estimate. */
export const USES_ESTIMATE: Readonly<Record<string, number>> = {
  '1-9': 5,
  '10-99': 50,
  '100-999': 500,
  '1k-9.9k': 5_000,
  '10k-99k': 50_000,
  '100k-999k': 500_000,
  '1M+': 1_000_000,
};

/**
 * Installs reporting the feature(s) per day: the sum of the counts stored in the last 24 h.
 * Each counter sample is the count of one collector batch (otelcol.yaml `transform/counters`),
 * not a running total, so this is exact on every engine: no extrapolation to the window's
 * edges (whole installs, never 65.5), no counter resets to detect, and no reliance on the 0
 * Prometheus writes at a counter's start time (created-timestamp-zero-ingestion; 0 adds
 * nothing to the sum), which Cortex and Mimir do not write.
 */
const featureInstalls = (by: string, selector: string): string => `sum by (${by}) (sum_over_time(${selector}[1d]))`;

/** Estimated events per day: installs per uses bucket × the bucket's representative value. */
function featureEvents(by: string, matchers: string[]): string {
  const parts = Object.entries(USES_ESTIMATE).map(([bucket, n]) => `sum_over_time(${feat(...matchers, `feature_uses="${bucket}"`)}[1d]) * ${n}`);
  return `sum by (${by}) (${parts.join(' or ')})`;
}

// ---------------------------------------------------------------------------------------------
// Fixed queries

export const OVERVIEW: readonly Query[] = [
  {
    id: 'active_installs_24h',
    title: 'Active installs (24 h)',
    description: 'Distinct install ids with a heartbeat in the last 25 h (one daily heartbeat + 1 h jitter); an upgrade inside the window counts once.',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.active('25h')),
  },
  {
    id: 'active_installs_7d',
    title: 'Active installs (7 d)',
    description: 'Distinct install ids with a heartbeat in the last 7 days (includes one-off and new installs).',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.active('7d')),
  },
  {
    id: 'active_installs_30d',
    title: 'Active installs (30 d)',
    description: 'Distinct install ids with a heartbeat in the last 30 days (ids rotate every 30 days, so this slightly over-counts).',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.active('30d')),
  },
  {
    id: 'established_installs_7d',
    title: 'Established installs (7 d)',
    description: 'The headline: installs active in 7 days that sent two or more heartbeats in 30 days; one-off and brand-new installs are not in it.',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.established),
  },
  {
    id: 'one_off_installs_7d',
    title: 'One-off installs (7 d)',
    description: 'Installs with a single heartbeat in 30 days, sent 25 h to 7 days ago and never again (CI runs, throwaway containers).',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.oneOff),
  },
  {
    id: 'new_installs_24h',
    title: 'New installs (24 h)',
    description: 'Installs whose first and only heartbeat in 30 days arrived in the last 25 h; they become established or one-off tomorrow.',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.new),
  },
  {
    id: 'stopped_installs_7d',
    title: 'Stopped reporting (7 d)',
    description: 'Established installs (2+ heartbeats in 30 d) seen 2-9 days ago but not in the last 2 days (includes 30-day id rotations).',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.stopped),
  },
  {
    id: 'installs_over_time',
    title: 'Active installs over time',
    description: 'Distinct installs with a heartbeat in the 25 h before each point.',
    unit: 'short',
    kind: 'timeseries',
    expr: `sum(${rec(RECORDED.active('25h'))})`,
    legend: 'active installs',
    step: '1d',
  },
  {
    id: 'established_over_time',
    title: 'Established installs over time',
    description: 'Installs active in the 7 days before each point with two or more heartbeats in the 30 days before it.',
    unit: 'short',
    kind: 'timeseries',
    expr: `sum(${rec(RECORDED.established)})`,
    legend: 'established installs',
    step: '1d',
  },
  {
    id: 'new_installs_per_day',
    title: 'New installs per day',
    description: 'Install ids first seen in the day before each point (nothing in the 29 days before); includes one-off installs and id rotations.',
    unit: 'short',
    kind: 'bars',
    expr: total(RECORDED.firstSeen),
    legend: 'new installs',
    step: '1d',
  },
];

const breakdown = (id: string, title: string, labels: string, what: string): Query => ({
  id,
  title,
  description: `Share of installs active in 7 days by ${what}, from each install's latest heartbeat; groups under k installs hidden.`,
  unit: 'percent',
  kind: 'bars',
  expr: breakdownShare(labels),
  legend: labels
    .split(', ')
    .map((l) => `{{${l}}}`)
    .join(' '),
  groupBy: labels,
});

export const VERSIONS: readonly Query[] = [
  breakdown('version_share', 'Versions (latest per install)', 'service_version', 'the version of its latest heartbeat (sums to 100 %)'),
  {
    id: 'version_installs',
    title: 'Installs per version',
    description: "Installs active in 7 days by the version of their latest heartbeat; groups under k installs hidden.",
    unit: 'short',
    kind: 'table',
    expr: `${breakdownCount('service_version')} >= $k`,
    legend: '{{service_version}}',
    groupBy: 'service_version',
  },
  {
    id: 'version_adoption_over_time',
    title: 'Version adoption over time',
    description: 'Installs per version among heartbeats of the day before each point (one heartbeat per install per day); groups under k hidden.',
    unit: 'short',
    kind: 'timeseries',
    expr: `${breakdownCount('service_version', RECORDED.daily)} >= $k`,
    legend: '{{service_version}}',
    groupBy: 'service_version',
    step: '1d',
  },
  breakdown('channel_share', 'Release channel', 'headcount_channel', 'release channel (stable / rc / dev)'),
];

export const ENVIRONMENT: readonly Query[] = [
  breakdown('os_share', 'Operating system', 'os_type', 'operating system'),
  breakdown('arch_share', 'CPU architecture', 'host_arch', 'CPU architecture'),
  breakdown('runtime_share', 'Runtime', 'process_runtime_name, process_runtime_version', 'runtime and its major.minor version'),
  breakdown('deployment_share', 'Deployment kind', 'headcount_deployment', 'deployment kind (container / kubernetes / other)'),
];

export const FEATURES: readonly Query[] = [
  {
    id: 'feature_installs_per_day',
    title: 'Installs using each feature per day',
    description: 'Installs that reported using the feature in the 24 h before each point (one count per install and UTC day reported); under k hidden.',
    unit: 'short',
    kind: 'timeseries',
    expr: `${featureInstalls('feature_name', feat())} >= $k`,
    legend: '{{feature_name}}',
    groupBy: 'feature_name',
    step: '1d',
  },
  {
    id: 'feature_events_per_day',
    title: 'Feature uses per day (estimate)',
    description: 'Estimated uses per day: installs per daily-uses bucket × the bucket\'s representative value (1-9 → 5, 10-99 → 50, …, 1M+ → 1M); right within about ×2.',
    unit: 'short',
    kind: 'timeseries',
    expr: `${featureEvents('feature_name', [])} and on(feature_name) (${featureInstalls('feature_name', feat())} >= $k)`,
    legend: '{{feature_name}}',
    groupBy: 'feature_name',
    step: '1d',
  },
  {
    id: 'feature_share',
    title: 'Share of active installs using each feature',
    description: 'Installs that used the feature in the last day ÷ installs active in 24 h; features used by under k installs hidden.',
    unit: 'percent',
    kind: 'bars',
    expr: `100 * (${featureInstalls('feature_name', feat())} >= $k) / scalar(${total(RECORDED.active('25h'))})`,
    legend: '{{feature_name}}',
    groupBy: 'feature_name',
  },
];

export const FRESHNESS: readonly Query[] = [
  {
    id: 'last_heartbeat',
    title: 'Last heartbeat received',
    description: 'Time of the newest heartbeat stored in the last 25 h (the sample timestamp, to the millisecond), as of the last rule evaluation.',
    unit: 'dateTimeFromNow',
    kind: 'stat',
    expr: `max(${rec(RECORDED.lastHeartbeat)}) * 1000`,
  },
  {
    id: 'installs_heard_1h',
    title: 'Installs heard from (1 h)',
    description: 'Distinct installs with a heartbeat in the hour before the last rule evaluation: zero for hours means the pipeline is stuck.',
    unit: 'short',
    kind: 'stat',
    expr: total(RECORDED.active('1h')),
  },
];

/**
 * Pipeline health from the collector's own metrics (otelcol.yaml serves them; Prometheus scrapes
 * them as `job="otelcol"` through collector-config/prometheus.scrape-otelcol.yml, which
 * docker-compose mounts, and the demo stack once its history is loaded). Names as the collector
 * v0.161 serves them (no `_total` suffix).
 *
 * A counter the collector has not created yet (nothing filtered so far) reads 0 only while the
 * collector is being scraped; without a working scrape the health queries return no data
 * instead of a healthy-looking 0, and `collector_scraped` says why.
 */
const SCRAPED = `(0 * max(up{job="otelcol"} == 1))`;

/** `sum(increase(m[1h]))`; 0 when the metric is absent but the collector is scraped. */
const sumIncrease = (metric: string): string => `(sum(increase(${metric}[1h])) or ${SCRAPED})`;

export const HEALTH: readonly Query[] = [
  {
    id: 'collector_scraped',
    title: 'Collector metrics scraped',
    description: "1 when Prometheus scrapes the collector's own metrics (job otelcol), 0 when that scrape fails; no data: not scraped, collector panels empty.",
    unit: 'none',
    kind: 'stat',
    expr: 'max(up{job="otelcol"})',
  },
  {
    id: 'collector_accepted_per_hour',
    title: 'Accepted by the collector (per hour)',
    description: 'Heartbeat data points plus feature records the collector accepted in the last hour (after authentication).',
    unit: 'short',
    kind: 'timeseries',
    expr: `${sumIncrease('otelcol_receiver_accepted_metric_points')} + ${sumIncrease('otelcol_receiver_accepted_log_records')}`,
    legend: 'accepted',
  },
  {
    id: 'collector_refused_per_hour',
    title: 'Refused by the collector (per hour)',
    description: 'Data points and log records the receiver refused in the last hour (memory limiter, malformed input); 401s are not counted.',
    unit: 'short',
    kind: 'timeseries',
    expr: `${sumIncrease('otelcol_receiver_refused_metric_points')} + ${sumIncrease('otelcol_receiver_refused_log_records')}`,
    legend: 'refused',
  },
  {
    id: 'collector_dropped_per_hour',
    title: 'Dropped by the schema filter or failed exports (per hour)',
    description: 'Data points and records dropped by filter/schema (outside the model) plus points the exporter failed to deliver, in the last hour.',
    unit: 'short',
    kind: 'timeseries',
    expr: `${sumIncrease('otelcol_processor_filter_datapoints_filtered')} + ${sumIncrease('otelcol_processor_filter_logs_filtered')} + ${sumIncrease('otelcol_exporter_send_failed_metric_points')}`,
    legend: 'dropped',
  },
  {
    id: 'collector_queue_size',
    title: 'Export queue (batches waiting)',
    description: "Batches in the collector's disk queue waiting for Prometheus; growing means Prometheus is down or slow.",
    unit: 'short',
    kind: 'stat',
    expr: `max(otelcol_exporter_queue_size) or ${SCRAPED}`,
  },
];

// ---------------------------------------------------------------------------------------------
// Catalog-dependent queries

/** Each quantity's bucket distribution (installs per bucket, latest heartbeat, under k hidden). */
export function quantityQueries(catalog: Catalog): Query[] {
  return [...catalog.quantities.keys()].map((name) => {
    const label = `quantity_${name}`;
    return {
      id: `quantity_${name}_buckets`,
      title: `${name} (installs per bucket)`,
      description: `Installs active in 7 days by the ${name} bucket of their latest heartbeat (installs whose latest heartbeat does not report ${name} are left out); buckets under k installs hidden.`,
      unit: 'short',
      kind: 'bars',
      expr: `${breakdownCount(label, RECORDED.quantity(name))} >= $k`,
      legend: `{{${label}}}`,
      groupBy: label,
    } satisfies Query;
  });
}

/** Each flag's adoption: % of installs reporting the flag whose latest value is 1. */
export function flagQueries(catalog: Catalog): Query[] {
  return [...catalog.flags.keys()].map((name) => {
    const label = `flag_${name}`;
    const metric = RECORDED.flag(name);
    return {
      id: `flag_${name}_adoption`,
      title: `${name} (adoption)`,
      description: `% of installs active in 7 days whose latest heartbeat reports ${name} that have it on; hidden when under k installs have it on.`,
      unit: 'percent',
      kind: 'stat',
      expr: `${breakdownShare(label, metric)} and on(${label}) label_replace(vector(1), "${label}", "1", "", "")`,
      groupBy: label,
    } satisfies Query;
  });
}

/** Per feature: installs per day, estimated uses per day, share of active installs. */
export function featureQueries(catalog: Catalog): Query[] {
  return [...catalog.features.keys()].flatMap((name): Query[] => {
    const m = `feature_name="${name}"`;
    const installs = `${featureInstalls('feature_name', feat(m))} >= $k`;
    return [
      {
        id: `feature_${name}_installs_per_day`,
        title: `${name}: installs per day`,
        description: `Installs that reported using ${name} in the 24 h before each point; hidden under k installs.`,
        unit: 'short',
        kind: 'timeseries',
        expr: installs,
        legend: name,
        step: '1d',
      },
      {
        id: `feature_${name}_events_per_day`,
        title: `${name}: uses per day (estimate)`,
        description: `Estimated uses of ${name} per day from the daily-uses buckets (bucket × representative value); hidden under k installs.`,
        unit: 'short',
        kind: 'timeseries',
        expr: `${featureEvents('feature_name', [m])} and on(feature_name) (${installs})`,
        legend: name,
        step: '1d',
      },
      {
        id: `feature_${name}_share`,
        title: `${name}: share of active installs`,
        description: `Installs that used ${name} in the last day ÷ installs active in 24 h; hidden under k installs.`,
        unit: 'percent',
        kind: 'stat',
        expr: `100 * (${installs}) / scalar(${total(RECORDED.active('25h'))})`,
      },
    ];
  });
}

/** Every fixed query, in dashboard order. */
export const QUERIES: readonly Query[] = [...OVERVIEW, ...VERSIONS, ...ENVIRONMENT, ...FEATURES, ...FRESHNESS, ...HEALTH];

/** Every query for a product's catalog: the fixed ones, then quantities, flags, features. */
export function allQueries(catalog: Catalog): Query[] {
  return [...QUERIES, ...quantityQueries(catalog), ...flagQueries(catalog), ...featureQueries(catalog)];
}

/** Display order of a breakdown's groups (buckets in size order, others as given). */
export const BUCKET_ORDER: readonly string[] = BUCKET_LABELS;

// ---------------------------------------------------------------------------------------------
// Rendering

/** Escapes a value for a double-quoted PromQL string (the variables sit inside `"..."`). */
function promString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Substitutes `$service`, `$version` and `$k` (also `${service}` forms), as Grafana would for a
 * single-valued variable. `service` and `version` are regexes (anchored by PromQL's `=~`).
 */
export function renderQuery(q: Query | string, vars: QueryVars): string {
  if (!Number.isFinite(vars.k) || vars.k < 0) throw new RangeError('k must be a finite number >= 0');
  const values: Record<string, string> = {
    service: promString(vars.service),
    version: promString(vars.version ?? '.*'),
    k: String(vars.k),
  };
  const expr = typeof q === 'string' ? q : q.expr;
  return expr.replace(/\$\{(service|version|k)\}|\$(service|version|k)\b/g, (_, a: string | undefined, b: string | undefined) => values[(a ?? b)!]!);
}
