/**
 * TEMPORARY stand-in for src/queries.ts (being written concurrently). Same shape; the PromQL
 * here is a placeholder only so the dashboard machinery can be built and tested. Deleted when
 * src/queries.ts lands.
 */
import type { Catalog } from '../../src/catalog.ts';

export type Unit = 'short' | 'percent' | 'percentunit' | 'dateTimeFromNow' | 's' | 'none';
export type Kind = 'stat' | 'timeseries' | 'bars' | 'table';

export interface Query {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly unit: Unit;
  readonly kind: Kind;
  readonly expr: string;
  readonly legend?: string;
}

const q = (id: string, kind: Kind, unit: Unit, expr: string, legend?: string): Query => ({
  id,
  title: id,
  description: `Placeholder for ${id}.`,
  unit,
  kind,
  expr,
  ...(legend === undefined ? {} : { legend }),
});

const HB = 'headcount_heartbeat{job=~"$service", service_version=~"$version"}';

export const QUERIES: readonly Query[] = [
  q('active_24h', 'stat', 'short', `count(count by (instance) (last_over_time(${HB}[24h])))`),
  q('active_7d', 'stat', 'short', `count(count by (instance) (last_over_time(${HB}[7d])))`),
  q('active_30d', 'stat', 'short', `count(count by (instance) (last_over_time(${HB}[30d])))`),
  q('installs_over_time', 'timeseries', 'short', `count(count by (instance) (last_over_time(${HB}[25h])))`, 'installs'),
  q('version_shares', 'bars', 'percentunit', `count by (service_version) (last_over_time(${HB}[25h])) >= $k`, '{{service_version}}'),
  q('freshness', 'stat', 'dateTimeFromNow', `max(timestamp(${HB})) * 1000`),
];

export function quantityQueries(catalog: Catalog): Query[] {
  return [...catalog.quantities.keys()].map((name) =>
    q(`quantity_${name}`, 'bars', 'short', `count by (quantity_${name}) (last_over_time(${HB}[25h])) >= $k`, `{{quantity_${name}}}`),
  );
}

export function flagQueries(catalog: Catalog): Query[] {
  return [...catalog.flags.keys()].map((name) =>
    q(`flag_${name}`, 'stat', 'percentunit', `avg(last_over_time(${HB.replace('}', `, flag_${name}=~"0|1"}`)}[25h]))`),
  );
}

export function featureQueries(catalog: Catalog): Query[] {
  return [...catalog.features.keys()].map((name) =>
    q(
      `feature_${name}`,
      'timeseries',
      'short',
      `sum(increase(headcount_feature_install_days_total{job=~"$service", service_version=~"$version", feature_name="${name}"}[1d]))`,
    ),
  );
}
