/** `eraseInstall` removes every series of one install through the admin API; others remain. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eraseInstall } from '../../src/erase.ts';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { useStack } from '../helpers/stack-fixture.ts';
import { heartbeatJson, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';

const bins = await collectorBinaries();
const TOKEN = 'erase-token';

describe.skipIf(!bins.ok)('erase an install (real collector + Prometheus)', () => {
  const { p, c } = useStack(bins, TOKEN);

  it('removes all series of the install, keeps the others', async () => {
    const victim = newInstallId();
    const others = [newInstallId(), newInstallId()];
    for (const round of [1, 2]) {
      const body = heartbeatJson(...[victim, ...others].map((id) => ({ resource: sdkResource(id, { 'service.name': 'erase_me', 'service.version': `1.${round}.0` }), points: [{ 'flag.sso': '1' }] })));
      expect((await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN })).status).toBe(200);
      await p().waitFor(`count(count by (instance) (headcount_heartbeat{job="erase_me",service_version="1.${round}.0"})) == 3`);
    }
    // Prometheus holds the collector's keyed pseudonym of the id, never the id.
    const stored = c().pseudonym(victim);
    expect((await p().allSeries()).filter((s) => s['instance'] === victim)).toEqual([]);
    const before = (await p().allSeries()).filter((s) => s['instance'] === stored);
    // The 2 heartbeat versions; no target_info (otelcol.yaml transform/labels).
    expect(before.map((s) => s['__name__'])).toEqual(['headcount_heartbeat', 'headcount_heartbeat']);

    const result = await eraseInstall(p().url, victim.toUpperCase(), c().pseudonymKey);
    expect(result).toEqual({ seriesDeleted: before.length, pseudonym: stored });

    // No sample of the install is readable any more. (Prometheus keeps the bare series entry in
    // its in-memory head index until the next head compaction; see collector-config/README.md.)
    expect(await p().query(`last_over_time({instance="${stored}"}[1h])`)).toEqual([]);
    expect(await p().query(`count_over_time({instance="${stored}"}[1h])`)).toEqual([]);
    expect(await p().query(`count(last_over_time(headcount_heartbeat{job="erase_me"}[1h])) by (instance)`)).toHaveLength(2);
    for (const id of others) {
      expect((await p().query(`headcount_heartbeat{instance="${c().pseudonym(id)}"}`)).length).toBe(2);
    }
    // erasing again is harmless
    await expect(eraseInstall(p().url, victim, c().pseudonymKey)).resolves.toBeDefined();
  });

  it('`headcount erase <install-id> --prometheus <url> --key-file <file>` erases through the CLI', async () => {
    const target = newInstallId();
    const body = heartbeatJson({ resource: sdkResource(target, { 'service.name': 'erase_me', 'service.version': '1.9.0' }), points: [{ 'flag.sso': '1' }] });
    expect((await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN })).status).toBe(200);
    const stored = c().pseudonym(target);
    await p().waitFor(`headcount_heartbeat{instance="${stored}"}`);
    const { stdout } = await promisify(execFile)(process.execPath, ['src/cli.ts', 'erase', target, '--prometheus', p().url, '--key-file', c().pseudonymKeyFile]);
    expect(stdout).toMatch(new RegExp(`erased install ${target} \\(stored as ${stored}\\): [1-9]\\d* series deleted`));
    expect(await p().query(`last_over_time({instance="${stored}"}[1h])`)).toEqual([]);
    const noKey = await promisify(execFile)(process.execPath, ['src/cli.ts', 'erase', target, '--prometheus', p().url], { env: { PATH: process.env['PATH'] ?? '' } }).catch((e: { code: number; stderr: string }) => e);
    expect(noKey).toMatchObject({ code: 2 });
    expect((noKey as { stderr: string }).stderr).toMatch(/--key-file/);
    const bad = await promisify(execFile)(process.execPath, ['src/cli.ts', 'erase', 'not-an-id', '--prometheus', p().url, '--key-file', c().pseudonymKeyFile]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(/not an install id/);
  });

  it('refuses anything that is not an install id (no PromQL injection)', async () => {
    await expect(eraseInstall(p().url, '.+', c().pseudonymKey)).rejects.toThrow(/not an install id/);
    await expect(eraseInstall(p().url, `${newInstallId()}"} or {job=~".+`, c().pseudonymKey)).rejects.toThrow(/not an install id/);
    await expect(eraseInstall(p().url, newInstallId(), 'short')).rejects.toThrow(/pseudonym key/);
    expect((await p().query('headcount_heartbeat{job="erase_me"}')).length).toBeGreaterThan(0);
  });
});

if (!bins.ok) {
  describe('erase an install', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
