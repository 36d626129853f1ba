/**
 * The few facts about the install that leave it, each reduced to a closed set of values.
 * No OTel resource detectors: they add host.name, host.id, process.owner, command lines.
 */
import { fs } from './builtins.ts';
import type { Env } from './config.ts';
import { VERSION_PATTERN } from './patterns.ts';

export { SERVICE_NAME_PATTERN, VERSION_PATTERN } from './patterns.ts';

export type Channel = 'stable' | 'rc' | 'dev';
export type Deployment = 'container' | 'kubernetes' | 'other';


/** `1.4.0` → stable; `1.4.0-rc.1`, `-beta`, `-alpha` → rc; anything else with a suffix → dev. */
export function channelOf(version: string): Channel {
  const pre = /^[^-+]+-([^+]*)/.exec(version)?.[1];
  if (pre === undefined) return 'stable';
  return /^(rc|beta|alpha|pre)/i.test(pre) ? 'rc' : 'dev';
}

/** Build metadata (`+sha`) is dropped: it can carry a commit or a hostname. */
export function normaliseVersion(version: string): string | undefined {
  const v = version.trim().replace(/^v/, '').replace(/\+.*$/, '');
  return VERSION_PATTERN.test(v) ? v : undefined;
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
    return undefined;
  }
}
