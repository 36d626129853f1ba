/**
 * Scale: how big installs are. One bucket distribution per declared quantity (servers, users,
 * ...) and one adoption figure per declared flag, straight from the product's catalog.
 */
import type { Catalog } from '../../src/catalog.ts';
import { flagQueries, quantityQueries, type Query } from '../../src/queries.ts';
import { finish, headcountDashboard, panelFor, row, sized } from './common.ts';

export const quantityDistribution = (q: Query) => sized(panelFor(q), 8, 9);
export const flagAdoption = (q: Query) => sized(panelFor(q), 6, 5);

export const scaleDashboard = (catalog: Catalog) => {
  const builder = headcountDashboard({
    uid: 'headcount-scale',
    title: 'Headcount / Scale',
    description: 'How large installs are (bucketed quantities) and which optional capabilities they turn on (flags).',
  });
  const quantities = quantityQueries(catalog);
  const flags = flagQueries(catalog);
  if (quantities.length > 0) builder.withRow(row('Quantities', quantities.map(quantityDistribution)));
  if (flags.length > 0) builder.withRow(row('Flags', flags.map(flagAdoption)));
  return finish(builder);
};
