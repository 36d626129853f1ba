/**
 * Where the state dir is by default (headcount.ts `userStateDir`, `stateDirFor`) on each platform
 * family: XDG on Linux and the BSDs, Application Support on macOS, LocalAppData on Windows.
 * `process.platform` is swapped for the test; paths are built with this machine's `path`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stateDirFor, userStateDir } from '../../src/headcount.ts';

const realPlatform = Object.getOwnPropertyDescriptor(process, 'platform')!;
const onPlatform = (platform: string) => Object.defineProperty(process, 'platform', { ...realPlatform, value: platform });
afterEach(() => {
  Object.defineProperty(process, 'platform', realPlatform);
});

describe('userStateDir', () => {
  it('macOS: ~/Library/Application Support/<product>, whatever XDG says', () => {
    onPlatform('darwin');
    expect(userStateDir('acme', { XDG_STATE_HOME: '/xdg' })).toBe(join(homedir(), 'Library', 'Application Support', 'acme'));
  });

  it('Windows: %LOCALAPPDATA%\\<product>\\State, or ~/AppData/Local when it is unset or empty', () => {
    onPlatform('win32');
    expect(userStateDir('acme', { LOCALAPPDATA: '/lad' })).toBe(join('/lad', 'acme', 'State'));
    expect(userStateDir('acme', {})).toBe(join(homedir(), 'AppData', 'Local', 'acme', 'State'));
    expect(userStateDir('acme', { LOCALAPPDATA: '' })).toBe(join(homedir(), 'AppData', 'Local', 'acme', 'State'));
  });

  it('Linux and others: $XDG_STATE_HOME/<product>, or ~/.local/state when it is unset or empty', () => {
    onPlatform('linux');
    expect(userStateDir('acme', { XDG_STATE_HOME: '/xdg' })).toBe(join('/xdg', 'acme'));
    expect(userStateDir('acme', { XDG_STATE_HOME: '' })).toBe(join(homedir(), '.local', 'state', 'acme'));
    onPlatform('freebsd');
    expect(userStateDir('acme', {})).toBe(join(homedir(), '.local', 'state', 'acme'));
  });
});

describe('stateDirFor', () => {
  it('the option first, then <PREFIX>_TELEMETRY_STATE_DIR (trimmed, ignored when blank), then <user state dir>/telemetry', () => {
    onPlatform('linux');
    const env = { ACME_TELEMETRY_STATE_DIR: '  /from-env  ', XDG_STATE_HOME: '/xdg' };
    expect(stateDirFor('acme', env, 'ACME_', '/option')).toBe('/option');
    expect(stateDirFor('acme', env)).toBe('/from-env');
    expect(stateDirFor('acme', { ...env, ACME_TELEMETRY_STATE_DIR: '   ' })).toBe(join('/xdg', 'acme', 'telemetry'));
    expect(stateDirFor('acme', { XDG_STATE_HOME: '/xdg' })).toBe(join('/xdg', 'acme', 'telemetry'));
  });
});
