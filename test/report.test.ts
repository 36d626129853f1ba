/**
 * The terminal report's numbers are whole and consistent: installs are whole counts even when
 * Prometheus' increase() extrapolates to halves, every share divides the installs printed by the
 * active count printed beside it, and every section names its window. (Against a real Prometheus:
 * test/queries/queries.test.ts, "the terminal report shows the same numbers".)
 */
import { describe, expect, it } from 'vitest';
import { FEATURES, OVERVIEW, type Query } from '../src/queries.ts';
import { renderReport, type InstallBaseReport, type ReportSection } from '../src/report.ts';

const query = (id: string): Query => [...OVERVIEW, ...FEATURES].find((q) => q.id === id)!;
const at = Date.UTC(2026, 11, 2, 14, 30) / 1000;

function report(sections: Record<string, Omit<ReportSection, 'query'>>): InstallBaseReport {
  return {
    at,
    recordedAt: at - 600,
    featureAt: at - 900,
    k: 5,
    sections: new Map(Object.entries(sections).map(([id, sec]) => [id, { query: query(id), ...sec }])),
    overTime: [[at, 269]],
    newPerDay: [[at, 3]],
  };
}

describe('renderReport', () => {
  const text = renderReport(
    report({
      active_installs_24h: { value: 269 },
      feature_installs_per_day: {
        rows: [
          { label: 'export_csv', value: 95.4 },
          { label: 'dashboard_shared', value: 65.5 },
        ],
      },
      feature_events_per_day: {
        rows: [
          { label: 'export_csv', value: 980.2 },
          { label: 'dashboard_shared', value: 2_207.5 },
        ],
      },
    }),
  );
  const features = text.split(/^Features /m)[1]!.split('\n\n')[0]!;

  it('names the window and the denominator of the feature shares', () => {
    expect(features).toMatch(/^\(the 24 h up to 2026-12-02 14:15 UTC; shares of the 269 installs active in 24 h\)$/m);
  });

  it('prints whole installs and whole estimated uses, never halves', () => {
    expect(features).toMatch(/^ {4}export_csv +95 +35\.3 % +~980 /m);
    expect(features).toMatch(/^ {4}dashboard_shared +66 +24\.5 % +~2,208 /m);
    expect(features).not.toMatch(/\d\.5(?! %)/);
  });

  it('every share is the printed installs divided by the printed active count', () => {
    const active = Number(/shares of the ([\d,]+) installs active in 24 h/.exec(features)![1]!.replace(/,/g, ''));
    const rows = [...features.matchAll(/^ {4}(\w+) +([\d,]+) +([\d.]+) %/gm)];
    expect(rows.length).toBe(2);
    for (const [, , installs, share] of rows) expect(Number(share)).toBeCloseTo((100 * Number(installs!.replace(/,/g, ''))) / active, 1);
  });

  it('names the window of every breakdown', () => {
    expect(text).toMatch(/^Which versions \(shares of installs active in 7 d/m);
    expect(text).toMatch(/^Where it runs \(shares of installs active in 7 d\)/m);
  });
});
