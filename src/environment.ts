/**
 * The few facts about the install that leave it, each reduced to a closed set of values.
 * No OTel resource detectors: they add host.name, host.id, process.owner, command lines.
 */
import { fs } from './builtins.ts';
import type { Env } from './config.ts';
import { MAX_VERSION_COMPONENT, PRERELEASE_PATTERN, VERSION_PATTERN } from './patterns.ts';

export { PRERELEASE_PATTERN, PRERELEASE_WORDS, SERVICE_NAME_PATTERN, VERSION_PATTERN } from './patterns.ts';

export type Channel = 'stable' | 'rc' | 'dev';
export type Deployment = 'container' | 'kubernetes' | 'other';

/** `1.4.0` → stable; `-rc.1`, `-beta`, `-alpha`, `-pre` → rc; `-dev`, `-canary`, `-nightly` or a cut pre-release → dev. */
export function channelOf(version: string): Channel {
  const pre = /^[^-+]+-([^+]*)/.exec(version)?.[1];
  if (pre === undefined) return 'stable';
  return /^(rc|beta|alpha|pre)/i.test(pre) ? 'rc' : 'dev';
}

export interface VersionFacts {
  /** What leaves the install: `x.y.z`, plus a pre-release only from `PRERELEASE_WORDS`. */
  readonly version: string;
  readonly channel: Channel;
  /** A pre-release outside the vocabulary was cut off (it is never sent nor shown). */
  readonly cut: boolean;
}

/**
 * The product version as the wire carries it. Build metadata (`+sha`) is dropped: it can carry a
 * commit or a host name. A pre-release outside the closed vocabulary is cut (`1.4.0-jdoe.7` →
 * `1.4.0`, channel dev): a free-form tag is a channel for anything. Not a version: undefined.
 */
export function versionFacts(version: unknown): VersionFacts | undefined {
  if (typeof version !== 'string' || version.length > 200) return undefined;
  const m = /^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:-([^+]*))?(?:\+.*)?$/.exec(version.trim());
  if (m === null) return undefined;
  // Leading zeros are dropped (2024.01.05 -> 2024.1.5); a component above 9999 is not a version.
  const parts = [m[1], m[2], m[3]].map(Number);
  if (parts.some((n) => n > MAX_VERSION_COMPONENT)) return undefined;
  const core = parts.join('.');
  const pre = m[4]?.toLowerCase();
  if (pre === undefined) return { version: core, channel: 'stable', cut: false };
  const kept = PRERELEASE_PATTERN.test(pre) ? `${core}-${pre}` : undefined;
  if (kept === undefined) return { version: core, channel: 'dev', cut: true };
  return VERSION_PATTERN.test(kept) ? { version: kept, channel: channelOf(kept), cut: false } : undefined;
}

/** The version the wire carries (see `versionFacts`), or undefined when it is not a version. */
export function normaliseVersion(version: unknown): string | undefined {
  return versionFacts(version)?.version;
}

const OS_TYPES: Readonly<Record<string, string>> = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' };
const ARCHES: Readonly<Record<string, string>> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm32', ia32: 'x86', ppc64: 'ppc64', s390x: 's390x',
};

export function osType(): string {
  return OS_TYPES[process.platform] ?? 'other';
}

export function hostArch(): string {
  return ARCHES[process.arch] ?? 'other';
}

/** `v22.23.3` → `22.23`. */
export function runtimeVersion(): string {
  // Stryker disable next-line Regex: equivalent, process.version has a single `v`, its first character
  return process.version.replace(/^v/, '').split('.').slice(0, 2).join('.');
}

/** Kubernetes from its service env var, container from runtime marker files or cgroup. */
export function deploymentKind(env: Env, fileExists = (p: string) => fs().existsSync(p), readText = readSmallFile): Deployment {
  if (env['KUBERNETES_SERVICE_HOST']) return 'kubernetes';
  if (fileExists('/.dockerenv') || fileExists('/run/.containerenv')) return 'container';
  const cgroup = readText('/proc/1/cgroup');
  if (cgroup !== undefined && /docker|containerd|kubepods|libpod|lxc/.test(cgroup)) return 'container';
  return 'other';
}

function readSmallFile(path: string): string | undefined {
  try {
    return fs().readFileSync(path, 'utf8').slice(0, 4096);
  } catch {
    // Unreadable: no cgroup.
  }
  return undefined;
}
