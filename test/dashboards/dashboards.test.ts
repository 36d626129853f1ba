/**
 * The Grafana dashboards, checked without Grafana:
 * - the committed dashboards/*.json are exactly what `npm run dashboards` generates;
 * - every dashboard validates against JSON schemas generated from Grafana's own types
 *   (@grafana/schema of the pinned Grafana), panel options and Prometheus targets included;
 * - every panel has a unique id, refIds, a one-line description, a unit, and goes through the
 *   `datasource` variable; the variables exist with the promised defaults;
 * - every PromQL expression parses, and is one of src/queries.ts's queries (never a copy
 *   that could drift): same expr, title, description and unit;
 * - the overview answers "how many, which versions, growing or not" above the fold.
 */
import { readdir, readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { DEFAULT_K, PROVISIONED_DATASOURCE_UID } from '../../dashboards/src/common.ts';
import { buildDashboards, toJson, type DashboardFile } from '../../dashboards/src/index.ts';
import { allQueries, renderQuery, type Query } from '../../src/queries.ts';
import { describeErrors, grafanaValidators, type SchemaType, type Validators } from './schema.ts';
import { promqlErrors, substitute } from './promql.ts';

const dashboardsDir = new URL('../../dashboards/', import.meta.url);

interface JsonPanel {
  readonly id?: number;
  readonly type: string;
  readonly title?: string;
  readonly description?: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly gridPos?: { x: number; y: number; w: number; h: number };
  readonly options?: Record<string, unknown>;
  readonly fieldConfig?: { defaults?: { unit?: string; custom?: Record<string, unknown> } };
  readonly targets?: { refId?: string; expr?: string; datasource?: { uid?: string } }[];
  readonly panels?: JsonPanel[];
}
interface JsonDashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: JsonPanel[];
  readonly templating: { list: { name: string; type: string; query?: unknown; current?: { value?: unknown }; skipUrlSync?: boolean; datasource?: { uid?: string } }[] };
}

const generated: DashboardFile[] = buildDashboards(catalog);
/** The committed files, parsed (tests below look at what Grafana will actually load). */
const committed = new Map<string, JsonDashboard>();

const allPanels = (panels: readonly JsonPanel[]): JsonPanel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const contentPanels = (d: JsonDashboard) => allPanels(d.panels).filter((p) => p.type !== 'row');

const knownQueries: readonly Query[] = allQueries(catalog);

beforeAll(async () => {
  for (const { file } of generated) {
    committed.set(file, JSON.parse(await readFile(new URL(file, dashboardsDir), 'utf8')) as JsonDashboard);
  }
});

describe('committed JSON', () => {
  it.each(generated.map((g) => [g.file, g] as const))('%s is what `npm run dashboards` generates', async (file, g) => {
    const onDisk = await readFile(new URL(file, dashboardsDir), 'utf8');
    expect(onDisk, `${file} is stale: run npm run dashboards`).toBe(toJson(g.dashboard));
  });

  it('dashboards/ holds no JSON that the generator does not write', async () => {
    const json = (await readdir(dashboardsDir)).filter((f) => f.endsWith('.json')).sort();
    expect(json).toEqual(generated.map((g) => g.file).sort());
  });

  it('dashboard uids are unique and stable', () => {
    const uids = [...committed.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^headcount-[a-z]+$/);
  });
});

describe('schema (generated from @grafana/schema types)', () => {
  let validators: Validators;
  beforeAll(() => {
    validators = grafanaValidators();
  }, 120_000);

  const check = (type: SchemaType, value: unknown, where: string) => {
    const validate = validators[type];
    expect(validate(value), `${where} vs ${type}:\n${describeErrors(validate)}`).toBe(true);
  };

  const optionsType: Record<string, SchemaType> = {
    stat: 'StatPanelOptions',
    timeseries: 'TimeSeriesPanelOptions',
    bargauge: 'BarGaugePanelOptions',
    table: 'TablePanelOptions',
  };
  const customType: Record<string, SchemaType> = { timeseries: 'TimeSeriesFieldConfig', table: 'TableFieldConfig' };

  it.each(generated.map((g) => [g.file] as const))('%s validates: dashboard, panel options, field config, targets', (file) => {
    const d = committed.get(file);
    check('GrafanaDashboard', d, file);
    expect(d?.schemaVersion).toBe(42);
    for (const panel of contentPanels(d as JsonDashboard)) {
      const where = `${file} panel ${panel.id} "${panel.title}"`;
      const options = optionsType[panel.type];
      expect(options, `${where}: panel type ${panel.type} has no options schema here`).toBeDefined();
      check(options as SchemaType, panel.options, where);
      const custom = customType[panel.type];
      if (custom !== undefined && panel.fieldConfig?.defaults?.custom !== undefined) check(custom, panel.fieldConfig.defaults.custom, where);
      for (const t of panel.targets ?? []) check('PrometheusQuery', t, where);
    }
  });

  it('the schema is strict enough to catch mistakes', () => {
    const d = structuredClone(committed.get('headcount-overview.json')) as unknown as Record<string, unknown>;
    check('GrafanaDashboard', d, 'control');
    expect(validators.GrafanaDashboard({ ...d, schemaVersion: '42' })).toBe(false);
    expect(validators.GrafanaDashboard({ ...d, titel: 'typo' })).toBe(false);
    expect(validators.StatPanelOptions({ graphMode: 'sparkles' })).toBe(false);
    expect(validators.PrometheusQuery({ refId: 'A', expr: 1 })).toBe(false);
  });
});

describe('panels', () => {
  it.each(generated.map((g) => [g.file] as const))('%s: unique ids, refIds, one-line description, unit, datasource variable', (file) => {
    const d = committed.get(file) as JsonDashboard;
    const ids = allPanels(d.panels).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && (id ?? 0) > 0), `${file}: ids ${ids.join(',')}`).toBe(true);
    expect(new Set(ids).size, `${file}: duplicate panel ids`).toBe(ids.length);
    const panels = contentPanels(d);
    expect(panels.length).toBeGreaterThan(0);
    for (const p of panels) {
      const where = `${file} panel ${p.id} "${p.title}"`;
      expect(p.title, where).toMatch(/\S/);
      expect(p.description, `${where}: description`).toMatch(/^[^\n]{10,200}$/);
      expect(p.fieldConfig?.defaults?.unit, `${where}: unit`).toMatch(/\S/);
      expect(p.datasource, `${where}: datasource`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, `${where}: targets`).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(refIds.every((r) => typeof r === 'string' && /^[A-Z]$/.test(r)), `${where}: refIds ${refIds.join(',')}`).toBe(true);
      expect(new Set(refIds).size, `${where}: duplicate refIds`).toBe(refIds.length);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, where).toBe('${datasource}');
      expect(p.gridPos, where).toBeDefined();
      const g = p.gridPos as NonNullable<JsonPanel['gridPos']>;
      expect(g.x + g.w, `${where}: wider than the grid`).toBeLessThanOrEqual(24);
    }
  });

  it.each(generated.map((g) => [g.file] as const))('%s: panels do not overlap', (file) => {
    const boxes = allPanels((committed.get(file) as JsonDashboard).panels).map((p) => ({ id: p.id, ...(p.gridPos as NonNullable<JsonPanel['gridPos']>) }));
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${file}: panels ${a.id} and ${b.id} overlap`).toBe(false);
      }
    }
  });

  it.each(generated.map((g) => [g.file] as const))('%s: every datasource reference is the variable; no uid is hard-coded', (file) => {
    const refs: unknown[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          if (key === 'datasource') refs.push(child);
          walk(child);
        }
      }
    };
    const d = committed.get(file) as JsonDashboard;
    walk(d);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: '${datasource}' });
    // The provisioned uid appears only as the datasource variable's default selection.
    expect(JSON.stringify({ ...d, templating: undefined })).not.toContain(PROVISIONED_DATASOURCE_UID);
  });
});

describe('overview', () => {
  it('answers "how many, which versions, growing or not" above the fold (first 13 grid rows)', () => {
    const d = committed.get('headcount-overview.json') as JsonDashboard;
    const above = contentPanels(d)
      .filter((p) => (p.gridPos?.y ?? 99) + (p.gridPos?.h ?? 0) <= 13)
      .flatMap((p) => (p.targets ?? []).map((t) => knownQueries.find((q) => q.expr === t.expr)?.id));
    expect(above).toEqual(expect.arrayContaining(['active_installs_24h', 'active_installs_7d', 'active_installs_30d', 'installs_over_time', 'version_share']));
  });

  it('one-off installs are shown apart, below the headline numbers', () => {
    const d = committed.get('headcount-overview.json') as JsonDashboard;
    const oneOff = contentPanels(d).find((p) => p.targets?.some((t) => t.expr === knownQueries.find((q) => q.id === 'one_off_installs_7d')?.expr));
    expect(oneOff?.gridPos?.y).toBeGreaterThanOrEqual(13);
  });
});

describe('variables', () => {
  it.each(generated.map((g) => [g.file] as const))('%s: datasource, service, version and k', (file) => {
    const list = (committed.get(file) as JsonDashboard).templating.list;
    const byName = new Map(list.map((v) => [v.name, v]));
    expect(list.map((v) => v.name)).toEqual(['datasource', 'service', 'version', 'k']);
    expect(byName.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: PROVISIONED_DATASOURCE_UID } });
    expect(byName.get('service')).toMatchObject({ type: 'query', query: 'label_values(headcount:installs_active:30d, job)', datasource: { uid: '${datasource}' } });
    expect(byName.get('version')).toMatchObject({
      type: 'query',
      query: 'label_values(headcount:installs_active:30d{job=~"$service"}, service_version)',
      datasource: { uid: '${datasource}' },
    });
    expect(byName.get('k')).toMatchObject({ type: 'constant', query: String(DEFAULT_K), skipUrlSync: true });
  });
});

describe('PromQL', () => {
  const exprs = () =>
    [...committed.entries()].flatMap(([file, d]) =>
      contentPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${file} panel ${p.id} "${p.title}"`, expr: t.expr ?? '', panel: p }))),
    );

  it('every expression parses (Lezer PromQL grammar) after substituting the variables', () => {
    const failures = exprs().flatMap(({ where, expr }) => promqlErrors(substitute(expr)).map((e) => `${where}: ${e}\n  ${expr}`));
    expect(failures).toEqual([]);
  });

  it('the substitution checked here is the one `headcount report` evaluates (renderQuery)', () => {
    for (const q of knownQueries) expect(substitute(q.expr), q.id).toBe(renderQuery(q, { service: '.*', version: '.*', k: 5 }));
  });

  it('the parser check catches broken PromQL (control)', () => {
    expect(promqlErrors(substitute('sum(rate(headcount_heartbeat{job=~"$service"}[5m])'))).not.toEqual([]);
    expect(() => substitute('up{job=~"$unknown"}')).toThrow(/unknown Grafana variable/);
  });

  it('every panel is a src/queries.ts query: same expr, title, description, unit, legend', () => {
    for (const { where, expr, panel } of exprs()) {
      const q = knownQueries.find((k) => k.expr === expr);
      expect(q, `${where}: its PromQL is not one of src/queries.ts's queries:\n  ${expr}`).toBeDefined();
      if (q === undefined) continue;
      expect(panel.title, where).toBe(q.title);
      expect(panel.description, where).toBe(q.description);
      expect(panel.fieldConfig?.defaults?.unit, where).toBe(q.unit);
      const target = panel.targets?.find((t) => t.expr === expr) as { legendFormat?: string; interval?: string; instant?: boolean } | undefined;
      expect(target?.legendFormat, where).toBe(q.legend ?? '__auto');
      if (q.step !== undefined && target?.instant !== true) expect(target?.interval, where).toBe(q.step);
    }
  });

  it('every query of src/queries.ts (and of the example catalog) is on a dashboard', () => {
    const shown = new Set(exprs().map((e) => e.expr));
    const missing = knownQueries.filter((q) => !shown.has(q.expr)).map((q) => q.id);
    expect(missing).toEqual([]);
  });
});
