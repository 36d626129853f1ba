/**
 * `headcount report`: the install base in the terminal, from Prometheus, with the same query
 * definitions as the dashboards (src/queries.ts). Tables and small unicode bar charts; groups
 * with fewer than k installs are hidden exactly as on the dashboards.
 */
import { backendHeaders, EXPORT_FAILED, type BackendAuth } from './backend.ts';
import { BUCKET_LABELS } from './bucket.ts';
import type { Catalog } from './catalog.ts';
import {
  DEFAULT_K,
  ENVIRONMENT,
  FEATURES,
  FRESHNESS,
  HEALTH,
  OVERVIEW,
  VERSIONS,
  flagQueries,
  quantityQueries,
  RECORDED,
  RECORDED_WINDOW,
  renderQuery,
  type Query,
  type QueryVars,
} from './queries.ts';

export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Evaluates instant queries; `time` in seconds (default: now). */
export type Evaluate = (expr: string, time?: number) => Promise<Sample[]>;

/**
 * An `Evaluate` backed by Prometheus' HTTP API (`/api/v1/query`). For Cortex or Mimir, `baseUrl`
 * is the query-frontend's Prometheus API (`http://<frontend>/prometheus`) and `auth` names the
 * tenant (and an Authorization header for a gateway).
 */
export function prometheusApi(baseUrl: string, timeoutMs = 30_000, auth: BackendAuth = {}): Evaluate {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const headers = backendHeaders(auth);
  return async (expr, time) => {
    const body = new URLSearchParams({ query: expr });
    if (time !== undefined) body.set('time', String(time));
    const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.headers.get('content-type')?.includes('json')) throw new Error(`${url.href} answered ${res.status}: ${(await res.text()).trim().slice(0, 200)}`);
    const json = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (json.status !== 'success' || json.data === undefined) throw new Error(`Prometheus: ${json.error ?? `HTTP ${res.status}`} (query: ${expr.slice(0, 120)}…)`);
    if (json.data.resultType === 'scalar') {
      const v = json.data.result as unknown as [number, string];
      return [{ metric: {}, value: Number(v[1]) }];
    }
    return json.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
}

export interface ReportOptions extends QueryVars {
  readonly catalog?: Catalog;
  /** Evaluation time in seconds (default now). */
  readonly time?: number;
  /** When to read the collector's health (default `time`): the demo reads it live. */
  readonly healthTime?: number;
  /** Days shown in the "over time" charts (default 7). */
  readonly days?: number;
  /** Terminal width for bars (default 80). */
  readonly width?: number;
}

export interface ReportRow {
  readonly label: string;
  readonly value: number;
}

export interface ReportSection {
  readonly query: Query;
  /** A stat's value (undefined = no data), or a breakdown's rows. */
  readonly value?: number;
  readonly rows?: readonly ReportRow[];
}

export interface InstallBaseReport {
  readonly at: number;
  /** Time of the newest complete rule evaluation the numbers come from (s), if any. */
  readonly recordedAt?: number;
  /** When the feature counters were read (s): their newest sample, or `at`. */
  readonly featureAt?: number;
  readonly k: number;
  readonly sections: ReadonlyMap<string, ReportSection>;
  /** Daily active installs, oldest first: [time, value]; no value before the rules recorded any. */
  readonly overTime: readonly (readonly [number, number | undefined])[];
  readonly newPerDay: readonly (readonly [number, number | undefined])[];
}

const ORDER = new Map<string, number>(BUCKET_LABELS.map((b, i) => [b, i]));

function rowsOf(q: Query, samples: Sample[]): ReportRow[] {
  const labels = (q.groupBy ?? '').split(', ').filter(Boolean);
  const rows = samples.map((s) => ({ label: labels.map((l) => s.metric[l] ?? '-').join(' ') || '(all)', value: s.value }));
  const bucketed = rows.every((r) => ORDER.has(r.label));
  return bucketed ? rows.sort((a, b) => ORDER.get(a.label)! - ORDER.get(b.label)!) : rows.sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}

/** Runs every report query. Feature counters are read at their newest sample when it is recent (see `featureTime`). */
export async function collectReport(evaluate: Evaluate, o: ReportOptions): Promise<InstallBaseReport> {
  const at = o.time ?? Date.now() / 1000;
  const vars: QueryVars = { service: o.service, k: o.k, ...(o.version === undefined ? {} : { version: o.version }) };
  const catalog = o.catalog;
  const featureAt = await featureTime(evaluate, vars, at);
  const sections = new Map<string, ReportSection>();
  const healthAt = o.healthTime ?? at;
  const stats = [...OVERVIEW, ...FRESHNESS, ...HEALTH, EXPORT_FAILED].filter((q) => q.kind === 'stat');
  const breakdowns = [...VERSIONS, ...ENVIRONMENT, ...(catalog === undefined ? [] : [...quantityQueries(catalog), ...flagQueries(catalog)])].filter((q) => q.kind !== 'timeseries');
  // Shares are computed in renderReport from the printed counts (installs ÷ active in 24 h).
  const features = FEATURES.filter((q) => q.id !== 'feature_share');
  await Promise.all([
    ...stats.map(async (q) => {
      const s = await evaluate(renderQuery(q, vars), HEALTH.includes(q) || q === EXPORT_FAILED ? healthAt : at);
      sections.set(q.id, { query: q, ...(s[0] === undefined ? {} : { value: s[0].value }) });
    }),
    ...[...breakdowns, ...features].map(async (q) => {
      const s = await evaluate(renderQuery(q, vars), q.id.startsWith('feature') ? featureAt : at);
      if (q.kind === 'stat') sections.set(q.id, { query: q, ...(s[0] === undefined ? {} : { value: s[0].value }) });
      else sections.set(q.id, { query: q, rows: rowsOf(q, s) });
    }),
  ]);
  const days = o.days ?? 7;
  const series = async (id: string) => {
    const q = OVERVIEW.find((x) => x.id === id)!;
    const points: [number, number | undefined][] = [];
    for (let d = days - 1; d >= 0; d--) {
      const t = at - d * 86_400;
      points.push([t, (await evaluate(renderQuery(q, vars), t))[0]?.value]);
    }
    return points;
  };
  const recordedAt = (await evaluate(`max(ts_of_last_over_time(${RECORDED.evaluated}[${RECORDED_WINDOW}]))`, at))[0]?.value;
  return {
    at,
    ...(recordedAt === undefined ? {} : { recordedAt }),
    featureAt,
    k: o.k,
    sections,
    overTime: await series('installs_over_time'),
    newPerDay: await series('new_installs_per_day'),
  };
}

/**
 * When to read the feature counters. `increase()` extrapolates past a window's last sample; read
 * at the newest counter sample (if it is at most RECORDED_WINDOW old, as right after a
 * simulation) the streams updated by that last batch are exact. Otherwise: `at`.
 */
async function featureTime(evaluate: Evaluate, vars: QueryVars, at: number): Promise<number> {
  const newest = await evaluate(
    renderQuery(`max(ts_of_last_over_time(headcount_feature_install_days_total{job=~"$service", service_version=~"$version"}[${RECORDED_WINDOW}]))`, vars),
    at,
  );
  const t = newest[0]?.value;
  return t !== undefined && Number.isFinite(t) && t <= at ? t : at;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of `value / max` of `width` cells, with eighth-cell precision. */
export function bar(value: number, max: number, width: number): string {
  if (!(max > 0) || !(value > 0)) return '';
  const eighths = Math.round((Math.min(value, max) / max) * width * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + BLOCKS[eighths % 8]!;
}

const SPARK = '▁▂▃▄▅▆▇█';
export function sparkline(values: readonly number[]): string {
  const max = Math.max(...values, 0);
  return values.map((v) => (max > 0 ? SPARK[Math.min(7, Math.round((v / max) * 7))]! : SPARK[0]!)).join('');
}

export function formatValue(value: number | undefined, unit: Query['unit']): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  switch (unit) {
    case 'percent':
      return `${value.toFixed(1)} %`;
    case 'percentunit':
      return `${(value * 100).toFixed(1)} %`;
    case 'dateTimeFromNow':
      return new Date(value).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    case 's':
      return `${value.toFixed(1)} s`;
    default:
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  }
}

const day = (t: number) => new Date(t * 1000).toISOString().slice(5, 10);

export function renderReport(r: InstallBaseReport, width = 80): string {
  const out: string[] = [];
  const s = (id: string) => r.sections.get(id);
  const stat = (id: string, label?: string) => {
    const sec = s(id);
    if (sec === undefined) return;
    out.push(`  ${(label ?? sec.query.title).padEnd(34)} ${formatValue(sec.value, sec.query.unit).padStart(12)}`);
  };
  const table = (id: string, heading?: string) => {
    const sec = s(id);
    if (sec?.rows === undefined) return;
    out.push('', `  ${heading ?? sec.query.title}`);
    if (sec.rows.length === 0) {
      out.push(`    (no group with ${r.k} or more installs)`);
      return;
    }
    const labelWidth = Math.min(24, Math.max(8, ...sec.rows.map((x) => x.label.length)));
    const max = sec.query.unit === 'percent' ? 100 : Math.max(...sec.rows.map((x) => x.value));
    const barWidth = Math.max(10, width - labelWidth - 20);
    for (const row of sec.rows) out.push(`    ${row.label.padEnd(labelWidth)} ${formatValue(row.value, sec.query.unit).padStart(9)}  ${bar(row.value, max, barWidth)}`);
  };
  const heading = (title: string) => out.push('', title, '─'.repeat(Math.min(width, title.length)));

  const minute = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const recorded = r.recordedAt === undefined ? `no recording-rule evaluation in the last ${RECORDED_WINDOW}: counts unavailable` : `rules evaluated ${minute(r.recordedAt).slice(11)}`;
  out.push(`Install base at ${minute(r.at)} UTC (${recorded}; groups under k=${r.k} installs hidden)`);
  heading('How many');
  stat('established_installs_7d', 'Established installs (7 d) ◀');
  stat('active_installs_24h');
  stat('active_installs_7d');
  stat('active_installs_30d');
  stat('new_installs_24h');
  stat('one_off_installs_7d', 'One-off installs (7 d, not counted)');
  stat('stopped_installs_7d');
  out.push('', `  Active installs per day  ${r.overTime.map(([t]) => day(t)).join(' ')}`);
  const cells = (points: InstallBaseReport['overTime']) => `${points.map(([, v]) => (v === undefined ? '-' : String(v)).padStart(5)).join(' ')}  ${sparkline(points.map(([, v]) => v ?? 0))}`;
  out.push(`                           ${cells(r.overTime)}`);
  out.push(`  New installs per day     ${cells(r.newPerDay)}`);

  heading('Which versions (shares of installs active in 7 d, by their latest heartbeat)');
  table('version_share');
  table('channel_share');
  heading('Where it runs (shares of installs active in 7 d)');
  for (const id of ['os_share', 'arch_share', 'runtime_share', 'deployment_share']) table(id);

  const quantities = [...r.sections.keys()].filter((id) => id.startsWith('quantity_'));
  if (quantities.length > 0) {
    heading('At what scale (installs active in 7 d, per bucket of their latest heartbeat)');
    for (const id of quantities.sort()) table(id);
  }
  const flags = [...r.sections.keys()].filter((id) => id.startsWith('flag_')).sort();
  if (flags.length > 0) {
    heading('Flags (share of installs active in 7 d and reporting it, with it on)');
    for (const id of flags) {
      const sec = s(id)!;
      out.push(`    ${sec.query.title.replace(/ \(adoption\)$/, '').padEnd(24)} ${formatValue(sec.value, 'percent').padStart(9)}  ${bar(sec.value ?? 0, 100, Math.max(10, width - 44))}`);
    }
  }
  // Feature counters come from increase() over a day, which Prometheus extrapolates at the
  // window's edges: whole installs and whole estimated uses are shown, and each share divides the
  // installs shown by the active-installs count shown in the heading.
  const active24h = s('active_installs_24h')?.value;
  const featureRows = s('feature_installs_per_day')?.rows;
  const uses = new Map((s('feature_events_per_day')?.rows ?? []).map((row) => [row.label, Math.round(row.value)]));
  const activeText = active24h === undefined ? 'no active-installs count' : `shares of the ${formatValue(Math.round(active24h), 'short')} installs active in 24 h`;
  heading(`Features (the 24 h up to ${r.featureAt === undefined ? minute(r.at) : minute(r.featureAt)} UTC; ${activeText})`);
  if (featureRows !== undefined) {
    out.push(`    ${'feature'.padEnd(24)} ${'installs'.padStart(9)} ${'share'.padStart(8)}  ${'uses (estimate)'.padStart(15)}`);
    if (featureRows.length === 0) out.push(`    (no feature used by ${r.k} or more installs)`);
    for (const row of featureRows) {
      const installs = Math.round(row.value);
      const share = active24h !== undefined && active24h > 0 ? (100 * installs) / Math.round(active24h) : undefined;
      const used = uses.get(row.label);
      out.push(
        `    ${row.label.padEnd(24)} ${formatValue(installs, 'short').padStart(9)} ${formatValue(share, 'percent').padStart(8)}  ${(used === undefined ? '-' : `~${formatValue(used, 'short')}`).padStart(15)}  ${bar(share ?? 0, 100, Math.max(10, width - 66))}`,
      );
    }
  }

  heading('Freshness and pipeline');
  stat('last_heartbeat');
  stat('installs_heard_1h');
  stat('collector_scraped');
  stat('collector_queue_size');
  stat(EXPORT_FAILED.id);
  const failed = s(EXPORT_FAILED.id)?.value;
  if (failed !== undefined && failed > 0) {
    out.push('', `  !! DATA LOST: the collector failed to deliver ${formatValue(failed, 'short')} data point(s) since it started: the backend`);
    out.push('  !! answered an error it does not retry (a wrong URL or path: 404, a missing tenant: 401). See its log.');
  }
  return `${out.join('\n')}\n`;
}

/** Collects and renders in one call (what `headcount report` does). */
export async function installBaseReport(prometheusUrl: string, o: Partial<ReportOptions> & { service: string; auth?: BackendAuth }): Promise<string> {
  const r = await collectReport(prometheusApi(prometheusUrl, 30_000, o.auth), { k: DEFAULT_K, ...o });
  return renderReport(r, o.width ?? 80);
}
