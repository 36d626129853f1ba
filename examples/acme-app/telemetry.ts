/**
 * Acme Monitor's telemetry declaration: the catalog (what may be reported, and why) and the
 * options. `headcount <command> --app examples/acme-app/telemetry.ts` reads this module.
 */
import { defineCatalog, type HeadcountOptions, type Report } from '../../src/index.ts';

export const catalog = defineCatalog({
  quantities: {
    servers: { purpose: 'How many servers an install monitors, to size performance work.', unit: 'servers' },
    users: { purpose: 'How many user accounts exist, to know whether multi-user features matter.', unit: 'accounts' },
    checks_per_day: { purpose: 'Check volume, to prioritise scheduler and storage work.', unit: 'checks' },
  },
  flags: {
    sso_enabled: { purpose: 'Whether single sign-on is configured, to decide how much to invest in it.' },
    external_db: { purpose: 'Whether an external database is used instead of the embedded one.' },
  },
  features: {
    export_csv: { purpose: 'Whether CSV export is used, to decide whether to keep maintaining it.' },
    dashboard_shared: { purpose: 'Whether shared dashboards are used, to prioritise their roadmap.' },
  },
});

/** In the real product these come from its database. */
export function collect(): Report {
  return {
    quantities: { servers: 42, users: 7, checks_per_day: 18_500 },
    flags: { sso_enabled: true, external_db: false },
  };
}

const options: HeadcountOptions = {
  product: 'acme',
  version: '1.4.0',
  catalog,
  collect,
  endpoint: 'https://telemetry.acme.example',
};

export default options;
