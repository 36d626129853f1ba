/**
 * Shared pieces of every Headcount dashboard: the variables, the datasource reference, and one
 * panel builder per query kind. A panel is always made FROM a query object of src/queries.ts
 * (title, description, unit, kind, PromQL): the dashboards never hold PromQL of their own.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  ConstantVariableBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type Panel,
  type RowPanel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DEFAULT_K, VARIABLE_QUERIES, type Query } from '../../src/queries.ts';

/** The datasource uid provisioned by dashboards/provisioning/datasources/prometheus.yaml. */
export const PROVISIONED_DATASOURCE_UID = 'headcount-prometheus';
export const PROVISIONED_DATASOURCE_NAME = 'Headcount Prometheus';

/** Every panel and variable query goes through the `datasource` variable, never a fixed uid. */
export const datasourceRef = { type: 'prometheus', uid: '${datasource}' } as const;

/** Small-group suppression default (src/queries.ts): groups below k installs are hidden. */
export { DEFAULT_K };

/** All Headcount dashboards share this tag; the dashboard links list them. */
export const TAG = 'headcount';

type AnyPanelBuilder = StatBuilder | TimeseriesBuilder | BarGaugeBuilder | TableBuilder;

// ---------------------------------------------------------------------------------------------
// Variables
// ---------------------------------------------------------------------------------------------

export const datasourceVariable = () =>
  new DatasourceVariableBuilder('datasource')
    .label('Data source')
    .description('The Prometheus that the Headcount collector writes to.')
    .type('prometheus')
    .current({ selected: true, text: PROVISIONED_DATASOURCE_NAME, value: PROVISIONED_DATASOURCE_UID });

const allOption = { selected: true, text: 'All', value: '$__all' };

export const serviceVariable = () =>
  new QueryVariableBuilder('service')
    .label('Product')
    .description('Products (service.name, stored as the job label) with installs active in 30 days.')
    .datasource(datasourceRef)
    .query(VARIABLE_QUERIES.service)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current(allOption);

export const versionVariable = () =>
  new QueryVariableBuilder('version')
    .label('Version')
    .description('Latest versions (service_version) of installs of the selected products active in 30 days.')
    .datasource(datasourceRef)
    .query(VARIABLE_QUERIES.version)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.NaturalDesc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current(allOption);

/**
 * A constant, not a textbox: viewers (anonymous ones included) cannot lower it from the UI or
 * the URL to single an install out; an editor changes it in the dashboard settings.
 */
export const kVariable = () =>
  new ConstantVariableBuilder('k')
    .label('k (smallest group shown)')
    .description('Small-group suppression: breakdown groups with fewer than k installs are hidden.')
    .value(String(DEFAULT_K));

// ---------------------------------------------------------------------------------------------
// Panels, one builder per query kind
// ---------------------------------------------------------------------------------------------

/** The query target of a panel: the query's PromQL untouched (Grafana fills $service, ...). */
export const target = (q: Query, instant: boolean) => {
  const t = new DataqueryBuilder().datasource(datasourceRef).expr(q.expr).refId('A').legendFormat(q.legend ?? '__auto');
  if (q.kind === 'table') t.format(PromQueryFormat.Table);
  // Daily data: one point per step (e.g. 1d) instead of Grafana's auto interval.
  if (q.step !== undefined && !instant) t.interval(q.step);
  return instant ? t.instant() : t.range();
};

const instantReduce = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

export const statPanel = (q: Query) =>
  new StatBuilder()
    .title(q.title)
    .description(q.description)
    .datasource(datasourceRef)
    .withTarget(target(q, true))
    .unit(q.unit)
    .reduceOptions(instantReduce())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .textMode(common.BigValueTextMode.Value)
    .noValue('0')
    .height(4)
    .span(4);

export const timeseriesPanel = (q: Query) =>
  new TimeseriesBuilder()
    .title(q.title)
    .description(q.description)
    .datasource(datasourceRef)
    .withTarget(target(q, false))
    .unit(q.unit)
    .min(0)
    .lineWidth(2)
    .fillOpacity(10)
    .spanNulls(true)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .height(8)
    .span(12);

/** A count per day (`bars` with a step): a time series drawn as bars, one per step. */
export const dailyBarsPanel = (q: Query) =>
  timeseriesPanel(q).drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80).lineWidth(1).showPoints(common.VisibilityMode.Never);

/** Breakdowns (version shares, buckets, OS, ...): one horizontal bar per group. */
export const barsPanel = (q: Query) => {
  const panel = new BarGaugeBuilder()
    .title(q.title)
    .description(q.description)
    .datasource(datasourceRef)
    .withTarget(target(q, true))
    .unit(q.unit)
    .min(0)
    .reduceOptions(instantReduce())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .valueMode(common.BarGaugeValueMode.Text)
    .namePlacement(common.BarGaugeNamePlacement.Left)
    .showUnfilled(true)
    .height(8)
    .span(8);
  // Shares are 0-100: full bar = every install.
  return q.unit === 'percent' ? panel.max(100) : panel;
};

export const tablePanel = (q: Query) =>
  new TableBuilder()
    .title(q.title)
    .description(q.description)
    .datasource(datasourceRef)
    .withTarget(target(q, true))
    .unit(q.unit)
    .cellOptions({ type: common.TableCellDisplayMode.Auto })
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } })
    .height(8)
    .span(12);

/** The panel for a query, by its kind. */
export function panelFor(q: Query): AnyPanelBuilder {
  switch (q.kind) {
    case 'stat':
      return statPanel(q);
    case 'timeseries':
      return timeseriesPanel(q);
    case 'bars':
      return q.step === undefined ? barsPanel(q) : dailyBarsPanel(q);
    case 'table':
      return tablePanel(q);
  }
}

/** Sets the panel's width and height on the 24-column grid. */
export const sized = <T extends AnyPanelBuilder>(panel: T, span: number, height: number): T => {
  panel.span(span).height(height);
  return panel;
};

// ---------------------------------------------------------------------------------------------
// Dashboards
// ---------------------------------------------------------------------------------------------

/** Finds a query by id; a missing id is a programming error, found when generating. */
export function pick(queries: readonly Query[], id: string): Query {
  const q = queries.find((x) => x.id === id);
  if (q === undefined) throw new Error(`dashboards: no query with id ${JSON.stringify(id)} in src/queries.ts`);
  return q;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly time?: string;
}

/** A dashboard with Headcount's variables, time range, links and tags. */
export const headcountDashboard = (spec: DashboardSpec) =>
  new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([TAG])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .timezone('utc')
    .time({ from: spec.time ?? 'now-30d', to: 'now' })
    .refresh('5m')
    .link(new DashboardLinkBuilder('Headcount').type(DashboardLinkType.Dashboards).tags([TAG]).asDropdown(false).includeVars(true).keepTime(true))
    .withVariable(datasourceVariable())
    .withVariable(serviceVariable())
    .withVariable(versionVariable())
    .withVariable(kVariable());

/** An expanded row holding `panels` (the SDK collapses a row as soon as it has panels). */
export const row = (title: string, panels: readonly AnyPanelBuilder[]) =>
  panels.reduce((r, panel) => r.withPanel(panel), new RowBuilder(title)).collapsed(false);

/**
 * Places panels left to right on the 24-column grid, keeping each panel's width and height; a
 * panel that does not fit on the current line starts the next one, a row always does. (The
 * SDK's own placement lets a panel hang over the right edge.)
 */
function layout(panels: readonly (Panel | RowPanel)[]): void {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  for (const panel of panels) {
    const pos = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 8 };
    if (panel.type === 'row' || x + pos.w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    panel.gridPos = { ...pos, x, y };
    x += pos.w;
    lineHeight = Math.max(lineHeight, pos.h);
  }
}

/**
 * Builds the dashboard and numbers it: panel ids 1..n in reading order (rows included), and
 * refIds A, B, ... per panel. The SDK leaves both out; Grafana needs unique ids for links,
 * and refIds to tell queries apart.
 */
export function finish(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  let id = 0;
  const number = (panel: Panel | RowPanel) => {
    panel.id = ++id;
    // SDK 0.0.21 still writes the pre-12 table footer ({show: false}); Grafana 13.2's table
    // options (@grafana/schema) have none: footers are per-field reducers now.
    if (panel.type === 'table' && 'options' in panel && panel.options !== undefined) delete (panel.options as Record<string, unknown>)['footer'];
    if ('targets' in panel && panel.targets !== undefined) {
      panel.targets.forEach((t, i) => {
        (t as { refId?: string }).refId = String.fromCharCode(65 + i);
      });
    }
    if ('panels' in panel) panel.panels.forEach(number);
  };
  // An expanded row's panels follow it at the top level (the SDK nests them, which is the
  // form Grafana uses for collapsed rows only).
  dashboard.panels = (dashboard.panels ?? []).flatMap((panel) =>
    'panels' in panel && panel.collapsed !== true ? [{ ...panel, panels: [] }, ...panel.panels] : [panel],
  );
  layout(dashboard.panels);
  dashboard.panels.forEach(number);
  // k is not taken from the URL either (`?var-k=1` would undo the suppression).
  // The SDK writes the interval-variable fields auto/auto_min/auto_count on every variable;
  // Grafana 13's VariableModel (@grafana/schema) has none of them, so they go.
  dashboard.templating.list = (dashboard.templating.list ?? []).map((variable) => {
    const rest: typeof variable & Record<string, unknown> = { ...variable };
    for (const key of ['auto', 'auto_min', 'auto_count']) delete rest[key];
    return variable.name === 'k' ? { ...rest, skipUrlSync: true } : rest;
  });
  return dashboard;
}
