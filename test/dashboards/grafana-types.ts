/**
 * Entry point for the JSON schemas the dashboard tests validate against: Grafana's own types
 * from @grafana/schema (the version of the pinned Grafana image), plus the Prometheus query
 * type from the foundation SDK (@grafana/schema 13 no longer carries it).
 * test/dashboards/schema.ts turns these into JSON schemas with ts-json-schema-generator.
 */
import type { Dashboard } from '@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen';
import type { Options as BarGaugeOptions } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { FieldConfig as TableCustom, Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { FieldConfig as TimeSeriesCustom, Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type { Dataquery } from '@grafana/grafana-foundation-sdk/prometheus';

export type GrafanaDashboard = Dashboard;
export type StatPanelOptions = StatOptions;
export type TimeSeriesPanelOptions = TimeSeriesOptions;
export type BarGaugePanelOptions = BarGaugeOptions;
export type TablePanelOptions = TableOptions;
export type PrometheusQuery = Dataquery;
export type TimeSeriesFieldConfig = TimeSeriesCustom;
export type TableFieldConfig = TableCustom;
