/**
 * Small-group suppression by default: k is 5 wherever no one chose another value (the
 * dashboards' `k` variable, `headcount report`). The queries' own `>= $k` are checked against a
 * real Prometheus in test/queries/queries.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { allQueries, DEFAULT_K, FRESHNESS, HEALTH, OVERVIEW, renderQuery } from '../../src/queries.ts';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { REPO } from '../helpers/child.ts';

it('the default k is 5, and every committed dashboard defaults its k variable to 5', () => {
  expect(DEFAULT_K).toBe(5);
  const dir = join(REPO, 'dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const dashboard = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { templating: { list: Array<{ name: string; query?: unknown }> } };
    expect(dashboard.templating.list.find((v) => v.name === 'k')?.query, f).toBe('5');
  }
});

it('every breakdown of people-countable groups suppresses below $k', () => {
  // Queries that show groups of installs (a label per group) must carry `>= $k`.
  const grouped = allQueries(catalog).filter((q) => q.groupBy !== undefined && !/^collector_/.test(q.id));
  expect(grouped.length).toBeGreaterThan(10);
  for (const q of grouped) expect(q.expr, q.id).toContain('>= $k');
  expect(renderQuery('x >= $k', { service: 'acme', k: DEFAULT_K })).toBe('x >= 5');
});

it('only totals go unsuppressed: every other query (breakdowns, versions over time, each feature) carries `>= $k`', () => {
  const totals = [...OVERVIEW, ...FRESHNESS, ...HEALTH].map((q) => q.id);
  expect(allQueries(catalog).filter((q) => !q.expr.includes('>= $k')).map((q) => q.id)).toEqual(totals);
  for (const id of ['version_adoption_over_time', 'feature_events_per_day', 'feature_export_csv_installs_per_day', 'feature_export_csv_events_per_day', 'feature_export_csv_share']) {
    expect(allQueries(catalog).find((q) => q.id === id)?.expr, id).toContain('>= $k');
  }
});
