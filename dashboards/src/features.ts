/**
 * Features: which declared features installs use. All features side by side first, then one
 * row per feature of the catalog (installs per day, estimated uses per day, share of active
 * installs). Features used by fewer than k installs are hidden.
 */
import type { Catalog } from '../../src/catalog.ts';
import { FEATURES, featureQueries, type Query } from '../../src/queries.ts';
import { finish, headcountDashboard, panelFor, pick, row, sized } from './common.ts';

const f = (id: string): Query => pick(FEATURES, id);

export const featureInstallsPerDay = () => sized(panelFor(f('feature_installs_per_day')), 12, 9);
export const featureEventsPerDay = () => sized(panelFor(f('feature_events_per_day')), 12, 9);
export const featureShare = () => sized(panelFor(f('feature_share')), 24, 8);
/** Per-feature panels: the two time series side by side, the share as a stat. */
export const featurePanel = (q: Query) => (q.kind === 'stat' ? sized(panelFor(q), 4, 8) : sized(panelFor(q), 10, 8));

export const featuresDashboard = (catalog: Catalog) => {
  const builder = headcountDashboard({
    uid: 'headcount-features',
    title: 'Headcount / Features',
    description: 'Installs using each declared feature per day, estimated uses, and the share of active installs that use it.',
  })
    .withPanel(featureInstallsPerDay())
    .withPanel(featureEventsPerDay())
    .withPanel(featureShare());
  for (const name of catalog.features.keys()) {
    const queries = featureQueries(catalog).filter((q) => q.id.startsWith(`feature_${name}_`));
    builder.withRow(row(name, queries.map(featurePanel)));
  }
  return finish(builder);
};
