/**
 * The known scripted fleet of the query tests (4 simulated days, day 3 = today; acme's catalog):
 *   A ×4  days 0-3, 1.4.0, linux/amd64/container, servers 42, sso on; export_csv 3/day; A1-A2 also
 *         dashboard_shared 150/day from day 2
 *   B ×2  days 0-3, 1.4.0 → 1.5.0 on day 2 (an upgrade inside every window), linux/arm64/kubernetes,
 *         servers 500, sso off; export_csv 20/day from day 1
 *   C ×1  days 0-3, 1.3.2, windows/amd64/other, servers 5, sso on
 *   D ×2  day 1 only (one-off), 1.4.0, linux/amd64/container, servers 0, sso off
 *   E ×1  day 3 only (new), 1.5.0, darwin/arm64/other, servers 3000, sso on
 *   F ×1  days 0-1 then stops, 1.3.2, linux/amd64/other, servers 42, sso off, external_db on
 * (used by queries.test.ts and the engine-equality tests).
 */
import type { InstallPlan } from '../../src/simulate/fleet.ts';

const install = (p: Partial<InstallPlan> & Pick<InstallPlan, 'days' | 'versions' | 'host'>, servers: number, sso: boolean): InstallPlan => ({
  quantities: { servers },
  flags: { sso_enabled: sso },
  features: {},
  growthPerDay: 0,
  ...p,
});
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const host = (osType: string, hostArch: string, deployment: 'container' | 'kubernetes' | 'other') => ({ osType, hostArch, deployment, runtimeVersion: '22.23' });
const ALL = [0, 1, 2, 3];

export const FLEET_DAYS = 4;

export const FLEET: InstallPlan[] = [
  ...times(4, (i) =>
    install(
      {
        days: ALL,
        versions: [[0, '1.4.0']],
        host: host('linux', 'amd64', 'container'),
        features: { export_csv: { from: 0, uses: 3 }, dashboard_shared: { from: 2, uses: i < 2 ? 150 : 0 } },
      },
      42,
      true,
    ),
  ),
  ...times(2, () =>
    install({ days: ALL, versions: [[0, '1.4.0'], [2, '1.5.0']], host: host('linux', 'arm64', 'kubernetes'), features: { export_csv: { from: 1, uses: 20 } } }, 500, false),
  ),
  install({ days: ALL, versions: [[0, '1.3.2']], host: host('windows', 'amd64', 'other') }, 5, true),
  ...times(2, () => install({ days: [1], versions: [[1, '1.4.0']], host: host('linux', 'amd64', 'container') }, 0, false)),
  install({ days: [3], versions: [[3, '1.5.0']], host: host('darwin', 'arm64', 'other') }, 3000, true),
  { ...install({ days: [0, 1], versions: [[0, '1.3.2']], host: host('linux', 'amd64', 'other') }, 42, false), flags: { sso_enabled: false, external_db: true } },
];
