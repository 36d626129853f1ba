/**
 * The host apps the benchmarks use, as plain JSON so a fresh child process can rebuild them
 * with the BUILT package (`dist/`): the Acme example (read from examples/acme-app, so the bench
 * follows it) and a catalog of 10 quantities + 5 flags for the heartbeat-size target.
 */
import type { Catalog, CatalogSpec, HeadcountOptions, Report } from '../src/index.ts';

export interface AppSpec {
  readonly product: string;
  readonly version: string;
  readonly endpoint?: string;
  readonly catalog: CatalogSpec;
  /** What `collect()` returns (a constant). */
  readonly report: Report;
}

function specOf(catalog: Catalog): CatalogSpec {
  return {
    quantities: Object.fromEntries(catalog.quantities),
    flags: Object.fromEntries(catalog.flags),
    features: Object.fromEntries(catalog.features),
  };
}

/** The options of examples/acme-app/telemetry.ts, as JSON. */
export async function acmeSpec(): Promise<AppSpec> {
  const mod = (await import('../examples/acme-app/telemetry.ts')) as { default: HeadcountOptions };
  const o = mod.default;
  const report = o.collect === undefined ? {} : await o.collect();
  return {
    product: o.product,
    version: o.version,
    ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
    catalog: specOf(o.catalog),
    report,
  };
}

/** 10 quantities + 5 flags (+ 2 features), with realistic values. */
export function catalog10x5(): AppSpec {
  const q = (purpose: string, unit: string) => ({ purpose, unit });
  const f = (purpose: string) => ({ purpose });
  return {
    product: 'acme',
    version: '1.4.0',
    endpoint: 'https://telemetry.acme.example',
    catalog: {
      quantities: {
        servers: q('How many servers an install monitors, to size performance work.', 'servers'),
        users: q('How many user accounts exist, to know whether multi-user features matter.', 'accounts'),
        checks_per_day: q('Check volume, to prioritise scheduler and storage work.', 'checks'),
        dashboards: q('How many dashboards exist, to size the dashboard store.', 'dashboards'),
        alert_rules: q('How many alert rules exist, to size the rule engine.', 'rules'),
        notification_channels: q('How many notification channels are configured.', 'channels'),
        retention_days: q('How long data is kept, to plan storage formats.', 'days'),
        db_size_gib: q('How big the database is, to plan migrations.', 'GiB'),
        api_tokens: q('How many API tokens exist, to know whether the API matters.', 'tokens'),
        plugins: q('How many plugins are installed, to prioritise the plugin API.', 'plugins'),
      },
      flags: {
        sso_enabled: f('Whether single sign-on is configured, to decide how much to invest in it.'),
        external_db: f('Whether an external database is used instead of the embedded one.'),
        ha_mode: f('Whether several replicas run, to prioritise high-availability work.'),
        tls_enabled: f('Whether the web UI is served over TLS by the app itself.'),
        ldap_enabled: f('Whether LDAP directory sync is configured.'),
      },
      features: {
        export_csv: f('Whether CSV export is used, to decide whether to keep maintaining it.'),
        dashboard_shared: f('Whether shared dashboards are used, to prioritise their roadmap.'),
      },
    },
    report: {
      quantities: {
        servers: 42,
        users: 7,
        checks_per_day: 18_500,
        dashboards: 12,
        alert_rules: 130,
        notification_channels: 3,
        retention_days: 90,
        db_size_gib: 24,
        api_tokens: 5,
        plugins: 0,
      },
      flags: { sso_enabled: true, external_db: false, ha_mode: false, tls_enabled: true, ldap_enabled: false },
    },
  };
}
