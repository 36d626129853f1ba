/**
 * Erasure of one install's data from Prometheus (`headcount erase <install-id>`).
 *
 * Every per-install series carries the install's pseudonym as the `instance` label (Prometheus
 * maps service.instance.id to `instance`): the heartbeats (the collector leaves nothing else on the
 * resource, so there is no target_info). Feature counters and the recording rules' aggregates
 * are counts per product/version/group and never carry it. Erasure = admin API
 * `delete_series` for {instance="<pseudonym>"} over all time, then `clean_tombstones` so the samples
 * are removed from disk, not only hidden. Needs Prometheus started with --web.enable-admin-api.
 *
 * What "removed" means in Prometheus 3.9 (tsdb/db.go CleanTombstones): samples are unreadable
 * at once; persisted blocks are rewritten without the series; samples still in the in-memory
 * head (the last ~2-3 h) are tombstoned and physically dropped at the next head compaction and
 * WAL checkpoint, until which the bare series entry can still appear in /api/v1/series.
 *
 * The collector stores a keyed pseudonym of the install id, never the id itself
 * (collector-config/otelcol.yaml, transform/sanitize): the first 32 hex digits of
 * SHA-256("<key file's bytes>:<install id>"). Erasure computes the same pseudonym from the same
 * key file, so the maintainer needs the id the user gives them and the collector's key file.
 *
 * Multi-tenant backends (`--tenant`, and `--authorization` for a gateway): the series are listed
 * through the query-frontend (`<url>` = `http://<frontend>/prometheus`) as that tenant. Cortex
 * 1.21 (blocks storage) serves no per-series deletion: `delete_series` answers 404 there, and
 * the only deletions it offers are a whole tenant (`POST /purger/delete_tenant`, experimental)
 * and retention (`-compactor.blocks-retention-period`). Erase then fails with that explanation
 * and the number of series left in place: nothing is reported as erased that was not.
 *
 * CLI: headcount erase <install-id> --prometheus <url> --key-file <file> [--tenant <id>] [--authorization <value>]
 */
import { backendHeaders, type BackendAuth } from './backend.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Install ids are UUID v4, lowercase (the SDK's format); nothing else reaches PromQL. */
const INSTALL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What the collector accepts as a key (the same test as its pseudonymise statement). */
const PSEUDONYM_KEY = /^[0-9a-f]{32,}\s*$/;

/**
 * The pseudonym the collector stores as `instance` for `installId` under `key` (the key file's
 * exact content, trailing newline included, as the collector reads it).
 */
export function installPseudonym(installId: string, key: string): string {
  if (!PSEUDONYM_KEY.test(key)) throw new Error('the pseudonym key must be at least 32 lowercase hex digits (openssl rand -hex 32)');
  const id = installId.trim().toLowerCase();
  if (!INSTALL_ID.test(id)) throw new Error(`not an install id (expected a UUID v4): ${JSON.stringify(installId)}`);
  return createHash('sha256').update(`${key}:${id}`).digest('hex').slice(0, 32);
}

/** Reads a pseudonym key file as the collector does (its exact bytes). */
export async function readPseudonymKey(file: string): Promise<string> {
  const key = await readFile(file, 'utf8');
  if (!PSEUDONYM_KEY.test(key)) throw new Error(`${file}: not a pseudonym key (at least 32 lowercase hex digits on one line, e.g. openssl rand -hex 32)`);
  return key;
}

async function call(url: URL, method: 'GET' | 'POST', timeoutMs: number, headers: Record<string, string> = {}, multiTenant = false): Promise<Response> {
  const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    const text = await res.text();
    const hint = res.status === 405 || res.status === 404 || /admin apis disabled/i.test(text) ? (multiTenant ? '' : ' (is Prometheus running with --web.enable-admin-api?)') : '';
    throw new Error(`Prometheus ${method} ${url.pathname} answered ${res.status}: ${text.trim().slice(0, 200)}${hint}`);
  }
  return res;
}

export interface EraseResult {
  /** Series listed for the install before deletion (0 = nothing stored for this install). */
  readonly seriesDeleted: number;
  /** The stored pseudonym that was erased. */
  readonly pseudonym: string;
}

/** Erases the install's series: `key` is the collector's pseudonym key (see readPseudonymKey). */
export async function eraseInstall(prometheusUrl: string, installId: string, key: string, options: { timeoutMs?: number; auth?: BackendAuth } = {}): Promise<EraseResult> {
  const id = installPseudonym(installId, key);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const base = prometheusUrl.endsWith('/') ? prometheusUrl : `${prometheusUrl}/`;
  const matcher = `{instance="${id}"}`;
  const headers = backendHeaders(options.auth);
  const multiTenant = options.auth?.tenant !== undefined;

  const seriesUrl = new URL('api/v1/series', base);
  seriesUrl.searchParams.set('match[]', matcher);
  seriesUrl.searchParams.set('start', '0');
  const series = (await (await call(seriesUrl, 'GET', timeoutMs, headers, multiTenant)).json()) as { data?: unknown[] };
  const seriesDeleted = Array.isArray(series.data) ? series.data.length : 0;

  const deleteUrl = new URL('api/v1/admin/tsdb/delete_series', base);
  deleteUrl.searchParams.set('match[]', matcher);
  try {
    await (await call(deleteUrl, 'POST', timeoutMs, headers, multiTenant)).body?.cancel();
  } catch (error) {
    if (!multiTenant || !/answered 40[45]/.test((error as Error).message)) throw error;
    throw new Error(
      `this backend serves no per-series deletion (${(error as Error).message.slice(0, 120)}): nothing was erased; ${seriesDeleted} series of install ${installId.trim().toLowerCase()} (stored as ${id}) remain for tenant ${options.auth?.tenant ?? ''}. ` +
        'Cortex 1.21 blocks storage deletes only by retention (-compactor.blocks-retention-period) or a whole tenant (POST /purger/delete_tenant); see collector-config/README.md, "Past one machine: Cortex".',
      { cause: error },
    );
  }
  await (await call(new URL('api/v1/admin/tsdb/clean_tombstones', base), 'POST', timeoutMs, headers, multiTenant)).body?.cancel();
  return { seriesDeleted, pseudonym: id };
}
