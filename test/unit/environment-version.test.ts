/**
 * src/environment.ts, the version as the wire carries it: the whole trimmed string must be a
 * version (nothing before, nothing after but `-pre` and `+build`), at most 200 characters before
 * trimming; the channel comes from the pre-release, never from build metadata, and only a
 * pre-release that starts with rc/beta/alpha/pre is `rc`.
 */
import { describe, expect, it } from 'vitest';
import { channelOf, versionFacts } from '../../src/environment.ts';

describe('versionFacts: the whole string', () => {
  it('surrounding blanks are trimmed', () => {
    expect(versionFacts('  1.2.3\t\n')).toEqual({ version: '1.2.3', channel: 'stable', cut: false });
    expect(versionFacts(' v1.2.3-rc.1 ')).toEqual({ version: '1.2.3-rc.1', channel: 'rc', cut: false });
  });

  it.each(['x1.2.3', 'release-1.2.3', '=1.2.3', '1.2.3.4', '1.2.3 final', '1.2.3_rc', '1.2.3x'])('%j is not a version', (raw) => {
    expect(versionFacts(raw)).toBeUndefined();
  });

  it('200 characters is still a version; 201 is not (checked before trimming)', () => {
    const at200 = `1.0.0+${'a'.repeat(194)}`;
    expect(at200).toHaveLength(200);
    expect(versionFacts(at200)).toEqual({ version: '1.0.0', channel: 'stable', cut: false });
    expect(versionFacts(`${at200}a`)).toBeUndefined();
    expect(versionFacts(`1.0.0${' '.repeat(196)}`)).toBeUndefined();
    expect(versionFacts(`1.0.0${' '.repeat(195)}`)).toEqual({ version: '1.0.0', channel: 'stable', cut: false });
  });
});

describe('channelOf', () => {
  it('build metadata never makes a channel: a dash after `+` is no pre-release', () => {
    expect(channelOf('1.0.0+build-rc')).toBe('stable');
    expect(channelOf('1.0.0+ci-beta.2')).toBe('stable');
    expect(channelOf('1.0.0-rc+build-dev')).toBe('rc');
  });

  it('rc only when the pre-release starts with rc, beta, alpha or pre (any case)', () => {
    expect(channelOf('1.0.0-RC.1')).toBe('rc');
    expect(channelOf('1.0.0-preview')).toBe('rc');
    expect(channelOf('1.0.0-dev.rc')).toBe('dev');
    expect(channelOf('1.0.0-nightly-beta')).toBe('dev');
    expect(channelOf('1.0.0-xalpha')).toBe('dev');
  });
});
