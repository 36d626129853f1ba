/**
 * src/environment.ts: the host facts that leave an install, each from a closed set: an unknown
 * platform or architecture is `other`; a deployment is `kubernetes`, `container` (marker files or
 * the init process's cgroup, of which only the first 4 KiB are read) or `other`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fs } from '../../src/builtins.ts';
import { deploymentKind, hostArch, osType } from '../../src/environment.ts';

const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
const arch = Object.getOwnPropertyDescriptor(process, 'arch')!;
afterEach(() => {
  Object.defineProperty(process, 'platform', platform);
  Object.defineProperty(process, 'arch', arch);
  vi.restoreAllMocks();
});

describe('osType / hostArch', () => {
  it('map the known values', () => {
    Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
    Object.defineProperty(process, 'arch', { ...arch, value: 'x64' });
    expect(osType()).toBe('windows');
    expect(hostArch()).toBe('amd64');
  });

  it('anything else is `other`', () => {
    Object.defineProperty(process, 'platform', { ...platform, value: 'aix' });
    Object.defineProperty(process, 'arch', { ...arch, value: 'mips' });
    expect(osType()).toBe('other');
    expect(hostArch()).toBe('other');
  });
});

describe('deploymentKind', () => {
  const none = () => false;
  const noCgroup = () => undefined;

  it('Kubernetes from its service variable', () => {
    expect(deploymentKind({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, none, noCgroup)).toBe('kubernetes');
    expect(deploymentKind({ KUBERNETES_SERVICE_HOST: '' }, none, noCgroup)).toBe('other');
  });

  it('a container from either marker file', () => {
    expect(deploymentKind({}, (p) => p === '/.dockerenv', noCgroup)).toBe('container');
    expect(deploymentKind({}, (p) => p === '/run/.containerenv', noCgroup)).toBe('container');
    expect(deploymentKind({}, (p) => p === '/somewhere/else', noCgroup)).toBe('other');
  });

  it('a container from the init process cgroup, read from /proc/1/cgroup', () => {
    const read: string[] = [];
    const cgroup = (text: string | undefined) => (p: string) => {
      read.push(p);
      return text;
    };
    for (const word of ['docker', 'containerd', 'kubepods', 'libpod', 'lxc']) {
      expect(deploymentKind({}, none, cgroup(`0::/system.slice/${word}-abc.scope\n`)), word).toBe('container');
    }
    expect(deploymentKind({}, none, cgroup('0::/init.scope\n'))).toBe('other');
    expect(deploymentKind({}, none, cgroup(undefined))).toBe('other');
    expect(new Set(read)).toEqual(new Set(['/proc/1/cgroup']));
  });

  it('by default the cgroup file is read, its first 4 KiB only, and a read error means no cgroup', () => {
    const f = fs();
    const paths: unknown[] = [];
    let text = 'docker';
    vi.spyOn(f, 'readFileSync').mockImplementation(((p: unknown) => {
      paths.push(p);
      return text;
    }));
    expect(deploymentKind({}, none)).toBe('container');
    expect(paths).toEqual(['/proc/1/cgroup']);
    text = `${'x'.repeat(4096)}docker`;
    expect(deploymentKind({}, none)).toBe('other');
    text = `${'x'.repeat(4090)}docker`;
    expect(deploymentKind({}, none)).toBe('container');
    vi.spyOn(f, 'readFileSync').mockImplementation(() => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    });
    expect(deploymentKind({}, none)).toBe('other');
  });

  it('by default the marker files are looked up with existsSync', () => {
    const f = fs();
    vi.spyOn(f, 'existsSync').mockImplementation((p) => p === '/run/.containerenv');
    expect(deploymentKind({}, undefined, () => undefined)).toBe('container');
  });
});
