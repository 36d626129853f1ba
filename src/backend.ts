/**
 * Talking to a multi-tenant metrics backend (Cortex, Mimir) instead of one Prometheus: the
 * tenant header and an optional Authorization header for `headcount report` and `headcount
 * erase`, and the one pipeline-health signal that tells a backend refusing the data.
 */
import type { Query } from './queries.ts';

export interface BackendAuth {
  /** Tenant id, sent as `X-Scope-OrgID` (Cortex answers 401 "no org id" without it). */
  readonly tenant?: string | undefined;
  /** Value of the `Authorization` header (e.g. `Bearer <token>`, `Basic <base64>`) for a gateway. */
  readonly authorization?: string | undefined;
}

/** Cortex 1.21 tenant ids: up to 150 of `a-z A-Z 0-9 ! - _ . * ' ( )`, not `.` or `..`. */
const TENANT = /^[A-Za-z0-9!\-_.*'()]{1,150}$/;

/** The request headers for `auth`; throws on a tenant id Cortex would refuse or a header with a line break. */
export function backendHeaders(auth: BackendAuth = {}): Record<string, string> {
  const headers: Record<string, string> = {};
  if (auth.tenant !== undefined) {
    if (!TENANT.test(auth.tenant) || auth.tenant === '.' || auth.tenant === '..') {
      throw new Error(`tenant ${JSON.stringify(auth.tenant)}: expected 1-150 characters of A-Z a-z 0-9 ! - _ . * ' ( ) (not "." or "..")`);
    }
    headers['X-Scope-OrgID'] = auth.tenant;
  }
  if (auth.authorization !== undefined) {
    if (auth.authorization === '' || /[\r\n]/.test(auth.authorization)) throw new Error('authorization: expected a non-empty header value on one line');
    headers['Authorization'] = auth.authorization;
  }
  return headers;
}

/**
 * Data points the collector's exporter failed to deliver since the collector started (its own
 * counter, scraped as `job="otelcol"`). A backend answering 4xx (a wrong path: 404; a missing
 * tenant: 401) is a permanent error for the otlp_http exporter: the batch is dropped at once,
 * so this counter - not the queue size, which stays 0 - is the only trace in the metrics. Read
 * as a total rather than an `increase()`: the counter first appears with the first failure's
 * value, and an `increase()` over one lost burst is 0. Any value above 0 means data was lost.
 * 0 while the collector is scraped and nothing failed; no data when it is not scraped.
 */
export const EXPORT_FAILED: Query = {
  id: 'collector_export_failed',
  title: 'Export failures since collector start',
  description: 'Data points the collector could not deliver (the backend answered an error the exporter does not retry, e.g. 404 for a wrong path): lost data; the collector log names the cause.',
  unit: 'short',
  kind: 'stat',
  expr: 'sum(otelcol_exporter_send_failed_metric_points{job="otelcol"}) or (0 * max(up{job="otelcol"} == 1))',
};
