/**
 * Versions and platforms: which releases installs run (each install's latest version, so shares
 * sum to 100 %), how fast a release is adopted, release channels, and the OS / architecture /
 * runtime / deployment mix. Every breakdown hides groups under k installs.
 */
import { ENVIRONMENT, VERSIONS, type Query } from '../../src/queries.ts';
import { finish, headcountDashboard, panelFor, pick, row, sized } from './common.ts';

const v = (id: string): Query => pick(VERSIONS, id);

export const versionShare = () => sized(panelFor(v('version_share')), 12, 9);
export const versionInstalls = () => sized(panelFor(v('version_installs')), 12, 9);
export const versionAdoption = () => sized(panelFor(v('version_adoption_over_time')), 16, 9);
export const channelShare = () => sized(panelFor(v('channel_share')), 8, 9);
export const environmentShare = (q: Query) => sized(panelFor(q), 6, 8);

export const versionsDashboard = () =>
  finish(
    headcountDashboard({
      uid: 'headcount-versions',
      title: 'Headcount / Versions and platforms',
      description: 'Version adoption (latest version per install), release channels, and the platform mix of active installs.',
    })
      .withPanel(versionShare())
      .withPanel(versionInstalls())
      .withPanel(versionAdoption())
      .withPanel(channelShare())
      .withRow(row('Platforms', ENVIRONMENT.map(environmentShare))),
  );
