/**
 * Overview: "how many, which versions, growing or not" above the fold (first 13 grid rows).
 *   active installs 24 h / 7 d / 30 d, established, new, last heartbeat
 *   active installs over time | versions (each install's latest)
 * below: growth and churn, with one-off installs (CI, throwaway containers) shown apart so
 * they never inflate the headline numbers.
 */
import { OVERVIEW, FRESHNESS, VERSIONS, type Query } from '../../src/queries.ts';
import { finish, headcountDashboard, panelFor, pick, row, sized } from './common.ts';

const q = (id: string): Query => pick([...OVERVIEW, ...VERSIONS, ...FRESHNESS], id);
const headline = (id: string) => sized(panelFor(q(id)), 4, 4);

export const activeInstalls24h = () => headline('active_installs_24h');
export const activeInstalls7d = () => headline('active_installs_7d');
export const activeInstalls30d = () => headline('active_installs_30d');
export const establishedInstalls = () => headline('established_installs_7d');
export const newInstalls = () => headline('new_installs_24h');
export const lastHeartbeat = () => headline('last_heartbeat');
export const installsOverTime = () => sized(panelFor(q('installs_over_time')), 12, 9);
export const versionShare = () => sized(panelFor(q('version_share')), 12, 9);

export const establishedOverTime = () => sized(panelFor(q('established_over_time')), 8, 8);
export const newInstallsPerDay = () => sized(panelFor(q('new_installs_per_day')), 8, 8);
export const oneOffInstalls = () => sized(panelFor(q('one_off_installs_7d')), 4, 8);
export const stoppedInstalls = () => sized(panelFor(q('stopped_installs_7d')), 4, 8);

export const overviewDashboard = () =>
  finish(
    headcountDashboard({
      uid: 'headcount-overview',
      title: 'Headcount / Overview',
      description: 'How many installs report, on which versions, and whether the install base grows.',
    })
      .withPanel(activeInstalls24h())
      .withPanel(activeInstalls7d())
      .withPanel(activeInstalls30d())
      .withPanel(establishedInstalls())
      .withPanel(newInstalls())
      .withPanel(lastHeartbeat())
      .withPanel(installsOverTime())
      .withPanel(versionShare())
      .withRow(row('Growth and churn', [establishedOverTime(), newInstallsPerDay(), oneOffInstalls(), stoppedInstalls()])),
  );
