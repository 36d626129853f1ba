/**
 * The README's main command: `npm run demo` starts the demo stack, simulates a fleet with history
 * through the SDK and prints the install base. Run small, with k=1 so nothing is hidden; CI=true
 * must not switch the simulated senders off (they set <PREFIX>_TELEMETRY_FORCE=1).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../scripts/stack/binaries.ts';

const bins = await collectorBinaries();

describe.skipIf(!bins.ok)('npm run demo', () => {
  it('delivers every simulated heartbeat, reports them and shows version shares summing to 100 %', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.ts', '--installs', '30', '--days', '3', '--k', '1', '--seed', '3'], {
      timeout: 120_000,
      env: { ...process.env, CI: 'true' },
    });
    const delivered = /^(\d+) heartbeats and (\d+) feature records delivered/m.exec(stdout);
    expect(delivered).not.toBeNull();
    expect(stdout).toMatch(/^ {2}Active installs \(30 d\) +30$/m);
    const versions = stdout.split('Versions (latest per install)\n')[1]!.split('\n\n')[0]!;
    const shares = [...versions.matchAll(/^ {4}\S+ +([\d.]+) %/gm)].map((m) => Number(m[1]));
    expect(shares.length).toBeGreaterThan(1);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
    expect(stdout).toContain('Prometheus API: http://127.0.0.1:');
    // How to use it: a connect line to paste, why the clock is shifted, when a heartbeat shows,
    // and a report command that runs on the Node npm scripts bring (not the host's).
    const collector = /^Collector (http:\/\/127\.0\.0\.1:\d+) /m.exec(stdout)?.[1];
    expect(stdout).toContain(`  ACME_TELEMETRY_ENDPOINT=${collector} ACME_TELEMETRY_TOKEN=demo-token-0123456789 npm run example\n`);
    expect(stdout).toMatch(/stamps what it receives 15 minutes in the past/);
    expect(stdout).toMatch(/after the next recording-rule evaluation \(every 15m/);
    expect(stdout).toMatch(/^Same report again \(with --keep\): npm run report -- --prometheus http:\/\/127\.0\.0\.1:\d+ --service acme --k 1$/m);
    expect(stdout).toMatch(/^ {2}collector (cached|built in \S+) · prometheus (cached|built in \S+)$/m);
  }, 150_000);
});
