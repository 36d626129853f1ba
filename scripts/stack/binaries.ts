/**
 * Locates (and if needed builds) the collector, Prometheus and promtool binaries through the cached build
 * scripts. A second call is instant: the scripts hash their inputs and reuse .cache/.
 *
 * Anything missing is a hard failure with the reason. Only a developer who sets
 * HEADCOUNT_ALLOW_SKIP=1 (and never in CI) gets `{ ok: false, reason }`, so the suites that need
 * the binaries report a skip with that reason instead.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const collectorConfig = `${repoRoot}collector-config/otelcol.yaml`;
export const prometheusConfig = `${repoRoot}collector-config/prometheus.yml`;

export interface Binaries {
  readonly ok: true;
  readonly collector: string;
  readonly prometheus: string;
  /** promtool next to prometheus (recording-rule backfill). */
  readonly promtool: string;
}

export interface MissingBinaries {
  readonly ok: false;
  readonly reason: string;
}

async function script(name: string): Promise<string> {
  const { stdout } = await run('bash', [`${repoRoot}scripts/${name}`], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20 * 60_000,
  });
  const lines = stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  if (last === undefined || !last.startsWith('/')) throw new Error(`scripts/${name} printed no binary path`);
  return last;
}

/** A missing prerequisite may be a skip only when a developer asks for it, and never in CI. */
export function skipAllowed(): boolean {
  return process.env['HEADCOUNT_ALLOW_SKIP'] === '1' && process.env['CI'] !== 'true';
}

let cached: Promise<Binaries | MissingBinaries> | undefined;

export function collectorBinaries(): Promise<Binaries | MissingBinaries> {
  cached ??= (async () => {
    try {
      const [collector, prometheus] = [await script('build-collector.sh'), await script('fetch-prometheus.sh')];
      return { ok: true, collector, prometheus, promtool: join(dirname(prometheus), 'promtool') } as const;
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      const reason = `collector/Prometheus binaries unavailable: ${typeof stderr === 'string' && stderr !== '' ? stderr.trim().split('\n').slice(-3).join(' | ') : String(error)}`;
      if (!skipAllowed()) throw new Error(`${reason} (a failure, not a skip; HEADCOUNT_ALLOW_SKIP=1 skips outside CI)`, { cause: error });
      return { ok: false, reason } as const;
    }
  })();
  return cached;
}

/** For suites that must have the binaries: throws with the reason otherwise. */
export async function requireBinaries(): Promise<Binaries> {
  const bins = await collectorBinaries();
  if (!bins.ok) throw new Error(bins.reason);
  return bins;
}
