/**
 * Overview: "how many, which versions, growing or not" above the fold.
 *   row 1  active installs 24 h / 7 d / 30 d, new per day, stopped, one-off (shown apart)
 *   row 2  installs over time | version shares (each install's latest version)
 */
import { finish, headcountDashboard, panelFor, pick, sized } from './common.ts';
import { QUERIES, type Query } from './queries-source.ts';

const q = (id: string): Query => pick(QUERIES, id);

export const activeInstalls24h = () => sized(panelFor(q('active_24h')), 4, 4);
export const activeInstalls7d = () => sized(panelFor(q('active_7d')), 4, 4);
export const activeInstalls30d = () => sized(panelFor(q('active_30d')), 4, 4);
export const installsOverTime = () => sized(panelFor(q('installs_over_time')), 16, 9);
export const versionShares = () => sized(panelFor(q('version_shares')), 8, 9);
export const lastHeartbeat = () => sized(panelFor(q('freshness')), 4, 4);

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
      .withPanel(lastHeartbeat())
      .withPanel(installsOverTime())
      .withPanel(versionShares()),
  );
