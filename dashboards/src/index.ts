/**
 * Every Headcount dashboard, by file name. Catalog-dependent dashboards (scale, features) get
 * one panel per declared quantity, flag and feature.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Catalog } from '../../src/catalog.ts';
import { featuresDashboard } from './features.ts';
import { healthDashboard } from './health.ts';
import { overviewDashboard } from './overview.ts';
import { scaleDashboard } from './scale.ts';
import { versionsDashboard } from './versions.ts';

export interface DashboardFile {
  /** File name under dashboards/, e.g. `headcount-overview.json`. */
  readonly file: string;
  readonly dashboard: Dashboard;
}

export function buildDashboards(catalog: Catalog): DashboardFile[] {
  return [
    { file: 'headcount-overview.json', dashboard: overviewDashboard() },
    { file: 'headcount-versions.json', dashboard: versionsDashboard() },
    { file: 'headcount-scale.json', dashboard: scaleDashboard(catalog) },
    { file: 'headcount-features.json', dashboard: featuresDashboard(catalog) },
    { file: 'headcount-health.json', dashboard: healthDashboard() },
  ];
}

/** The committed form: key order from the builders, 2-space indent, final newline. */
export const toJson = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;
