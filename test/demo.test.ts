/**
 * The README's main command: `npm run demo` drives sample installs through the SDK into the real
 * Collector and Prometheus and prints the install base. Run small, with k=1 so nothing is hidden.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../scripts/stack/binaries.ts';

const bins = await collectorBinaries();

describe.skipIf(!bins.ok)('npm run demo', () => {
  it('prints the exact number of installs it sent, and a version breakdown summing to 100 %', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.ts', '--installs', '12', '--k', '1', '--seed', '3'], { timeout: 120_000 });
    expect(stdout).toMatch(/^12 heartbeats delivered/m);
    expect(stdout).toMatch(/^ {2}Active installs \(24 h\) +12$/m);
    const versions = stdout.split('Versions (latest per install)\n')[1]!.split('\n\n')[0]!;
    const shares = [...versions.matchAll(/^ {4}\S+ +([\d.]+) /gm)].map((m) => Number(m[1]));
    expect(shares.length).toBeGreaterThan(1);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
  }, 150_000);
});
