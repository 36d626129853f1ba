/**
 * Locates (and if needed builds) the collector, Prometheus and promtool binaries through the cached build
 * scripts, all at once. A second call is instant: the scripts hash their inputs and reuse .cache/.
 *
 * Each build is one entry of BUILDS: a script under scripts/ that takes a flock, reuses or builds,
 * prints its progress on stderr (`<script>: step: <what it does now>`, `go: downloading ...`,
 * `<script>: compiling N packages; then linking <main packages>` and `go build -v` package lines) and the binary's absolute path as the
 * last line on stdout. `watchBuilds()` reports that progress; `formatBuilds()` renders it.
 *
 * Anything missing is a hard failure with the reason. Only a developer who sets
 * HEADCOUNT_ALLOW_SKIP=1 (and never in CI) gets `{ ok: false, reason }`, so the suites that need
 * the binaries report a skip with that reason instead.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const collectorConfig = `${repoRoot}collector-config/otelcol.yaml`;
export const prometheusConfig = `${repoRoot}collector-config/prometheus.yml`;

/** The builds, started together (the Go tool spreads each over the cores; downloads overlap compiles). */
export const BUILDS = [
  { name: 'collector', script: 'build-collector.sh' },
  { name: 'prometheus', script: 'fetch-prometheus.sh' },
] as const;

export type BuildName = (typeof BUILDS)[number]['name'];

/** A cold build on a loaded 2-core machine takes tens of minutes; only a true hang hits this. */
const BUILD_TIMEOUT_MS = 90 * 60_000;

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

export type BuildPhase = 'starting' | 'preparing' | 'compiling' | 'linking' | 'built' | 'cached' | 'failed';

export interface BuildProgress {
  readonly name: BuildName;
  readonly startedAt: number;
  phase: BuildPhase;
  /** What the script said it is doing while preparing (`installing the builder ...`). */
  step: string | undefined;
  /** `go: downloading` lines so far. */
  downloaded: number;
  /**
   * Packages compiled so far in this phase (`go build -v` lines; packages found in the Go build
   * cache are not listed). Counted from zero again at the `compiling N packages` line.
   */
  compiled: number;
  /** Packages the binaries depend on (an upper bound for `compiled`), once known. */
  total: number | undefined;
  /** The newest package compiled. */
  last: string | undefined;
  endedAt: number | undefined;
}

type Listener = (builds: readonly BuildProgress[]) => void;
const listeners = new Set<Listener>();
const progress: BuildProgress[] = [];
const notify = () => {
  for (const listener of listeners) listener(progress);
};

/** Calls `listener` on every change of any build's progress; returns the unsubscribe function. */
export function watchBuilds(listener: Listener): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

const PACKAGE_LINE = /^[\w.~-]+(?:\/[\w.~+-]+)*$/;

/** Applies one stderr line of a build script to its progress; true when something changed. */
export function applyBuildLine(p: BuildProgress, line: string, mains: Set<string>): boolean {
  let m: RegExpExecArray | null;
  if ((m = /^[\w-]+: compiling (\d+) packages; then linking (.+)$/.exec(line)) !== null) {
    p.total = Number(m[1]);
    p.compiled = 0;
    for (const main of m[2]!.trim().split(/\s+/)) mains.add(main);
    p.phase = 'compiling';
  } else if (line.startsWith('go: downloading ')) {
    p.downloaded++;
  } else if (/^[\w-]+: cached \(/.test(line)) {
    p.phase = 'cached';
  } else if (/^[\w-]+: built in \d+s/.test(line)) {
    p.phase = 'built';
  } else if ((m = /^[\w-]+: step: (.+)$/.exec(line)) !== null) {
    p.phase = 'preparing';
    p.step = m[1];
    p.compiled = 0;
  } else if (PACKAGE_LINE.test(line)) {
    p.compiled++;
    p.last = line;
    if (p.phase === 'compiling') {
      mains.delete(line);
      if (mains.size === 0) p.phase = 'linking';
    }
  } else {
    return false;
  }
  return true;
}

async function script(name: BuildName, file: string): Promise<string> {
  const p: BuildProgress = { name, startedAt: Date.now(), phase: 'starting', step: undefined, downloaded: 0, compiled: 0, total: undefined, last: undefined, endedAt: undefined };
  progress.push(p);
  notify();
  const mains = new Set<string>();
  const child = spawn('bash', [`${repoRoot}scripts/${file}`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: BUILD_TIMEOUT_MS });
  let stdout = '';
  const tail: string[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (applyBuildLine(p, line, mains)) changed = true;
    }
    if (changed) notify();
  });
  const code = await new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exit, signal) => resolve(exit ?? signal ?? 'unknown'));
  });
  if (partial !== '') tail.push(partial);
  p.endedAt = Date.now();
  const last = stdout.trim().split('\n').pop();
  if (code !== 0 || last === undefined || !last.startsWith('/')) {
    p.phase = 'failed';
    notify();
    const why = code === 0 ? 'printed no binary path' : `failed (${code === 'SIGTERM' ? `killed after ${BUILD_TIMEOUT_MS / 60_000} min` : `exit ${code}`})`;
    throw Object.assign(new Error(`scripts/${file} ${why}`), { stderr: tail.join('\n') });
  }
  if (p.phase !== 'cached') p.phase = 'built';
  notify();
  return last;
}

/** A missing prerequisite may be a skip only when a developer asks for it, and never in CI. */
export function skipAllowed(): boolean {
  return process.env['HEADCOUNT_ALLOW_SKIP'] === '1' && process.env['CI'] !== 'true';
}

let cached: Promise<Binaries | MissingBinaries> | undefined;

export function collectorBinaries(): Promise<Binaries | MissingBinaries> {
  cached ??= (async () => {
    const results = await Promise.allSettled(BUILDS.map((b) => script(b.name, b.script)));
    const paths = new Map<BuildName, string>();
    const failures: string[] = [];
    results.forEach((r, i) => {
      const build = BUILDS[i]!;
      if (r.status === 'fulfilled') paths.set(build.name, r.value);
      else {
        const error = r.reason as { message?: unknown; stderr?: unknown };
        const stderr = typeof error.stderr === 'string' ? error.stderr.trim().split('\n').slice(-3).join(' | ') : '';
        failures.push(`${build.name}: ${stderr === '' ? String(error.message ?? r.reason) : stderr}`);
      }
    });
    const collector = paths.get('collector');
    const prometheus = paths.get('prometheus');
    if (failures.length === 0 && collector !== undefined && prometheus !== undefined) {
      return { ok: true, collector, prometheus, promtool: join(dirname(prometheus), 'promtool') } as const;
    }
    const reason = `collector/Prometheus binaries unavailable: ${failures.join('; ')}`;
    if (!skipAllowed()) throw new Error(`${reason} (a failure, not a skip; HEADCOUNT_ALLOW_SKIP=1 skips outside CI)`);
    return { ok: false, reason } as const;
  })();
  return cached;
}

/** For suites that must have the binaries: throws with the reason otherwise. */
export async function requireBinaries(): Promise<Binaries> {
  const bins = await collectorBinaries();
  if (!bins.ok) throw new Error(bins.reason);
  return bins;
}

const clock = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

/** One build's state in a few words: `collector 3m05s compiling 412/1007 packages`. */
export function formatBuild(p: BuildProgress, now = Date.now()): string {
  const took = clock((p.endedAt ?? now) - p.startedAt);
  const downloads = p.downloaded > 0 ? `, ${p.downloaded} modules downloaded` : '';
  switch (p.phase) {
    case 'starting':
      return `${p.name} ${took} starting`;
    case 'preparing':
      return `${p.name} ${took} ${p.step ?? 'preparing'}${p.compiled > 0 ? `, ${p.compiled} packages compiled` : ''}${downloads}`;
    case 'compiling':
      return `${p.name} ${took} compiling ${p.compiled}/${p.total ?? '?'} packages`;
    case 'linking':
      return `${p.name} ${took} linking (${p.compiled} packages compiled)`;
    case 'built':
      return `${p.name} built in ${took}`;
    case 'cached':
      return `${p.name} cached`;
    case 'failed':
      return `${p.name} FAILED after ${took}`;
  }
}

/** Every build's state on one line. */
export function formatBuilds(builds: readonly BuildProgress[], now = Date.now()): string {
  return builds.map((b) => formatBuild(b, now)).join(' · ');
}
