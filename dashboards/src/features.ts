/**
 * Features: which declared features installs use, from the per-day feature counters.
 */
import type { Catalog } from '../../src/catalog.ts';
import { finish, headcountDashboard, panelFor, sized } from './common.ts';
import { featureQueries, type Query } from './queries-source.ts';

export const featurePanel = (q: Query) => sized(panelFor(q), q.kind === 'stat' ? 6 : 12, q.kind === 'stat' ? 5 : 8);

export const featuresDashboard = (catalog: Catalog) =>
  finish(
    featureQueries(catalog).reduce(
      (builder, q) => builder.withPanel(featurePanel(q)),
      headcountDashboard({
        uid: 'headcount-features',
        title: 'Headcount / Features',
        description: 'Installs using each declared feature per day, and the share of active installs that use it.',
      }),
    ),
  );
