/**
 * `headcount simulate --collector <url> --token <t>` (src/simulate/cli.ts) against the real
 * Collector (shipped otelcol.yaml) and Prometheus: the seeded fleet's installs all arrive, as the
 * plan for that seed says (distinct installs and versions), counted with src/queries.ts.
 */
import { describe, expect, it } from 'vitest';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { collectorBinaries, repoRoot } from '../../scripts/stack/binaries.ts';
import { FIXED_RULES, RECORDED } from '../../src/queries.ts';
import { runMaintainerCommand } from '../../src/simulate/cli.ts';
import { planFleet, versionOn } from '../../src/simulate/fleet.ts';
import { useStack } from '../helpers/stack-fixture.ts';

const bins = await collectorBinaries();
const TOKEN = 'simulate-cli-token-0123';
const INSTALLS = 25;
const SEED = 7;

describe.skipIf(!bins.ok)('headcount simulate (CLI) through the real collector into Prometheus', () => {
  const { p, c } = useStack(bins, TOKEN);

  it(`--installs ${INSTALLS} --days 1 --seed ${SEED}: every planned install is counted once, with its planned version`, async () => {
    const out: string[] = [];
    const err: string[] = [];
    const args = ['simulate', '--app', `${repoRoot}examples/acme-app/telemetry.ts`, '--installs', String(INSTALLS), '--days', '1', '--seed', String(SEED), '--collector', c().url, '--token', TOKEN];
    const code = await runMaintainerCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.at(-1)).toMatch(new RegExp(`^${INSTALLS} heartbeats, \\d+ feature records delivered; 0 failed$`));

    // Distinct installs, as the recording rule behind the dashboards and `headcount report`
    // counts them (this Prometheus holds only acme's data).
    const active = FIXED_RULES.find((r) => r.record === RECORDED.active('25h'));
    expect(active).toBeDefined();
    await p().waitFor('count by (instance) (last_over_time(headcount_heartbeat{job="acme"}[1h]))', INSTALLS, 30_000);
    const counted = await p().query(`sum(${active!.expr})`);
    expect(Number(counted[0]?.value[1])).toBe(INSTALLS);

    // The seed decided the fleet: versions in Prometheus are the plan's for that seed.
    const planned: Record<string, number> = {};
    for (const install of planFleet(INSTALLS, 1, SEED, catalog).installs) {
      const v = versionOn(install, 0);
      planned[v] = (planned[v] ?? 0) + 1;
    }
    const stored: Record<string, number> = {};
    for (const s of await p().query('count by (service_version) (count by (instance, service_version) (last_over_time(headcount_heartbeat{job="acme"}[1h])))')) {
      stored[s.metric['service_version'] ?? ''] = Number(s.value[1]);
    }
    expect(Object.keys(planned).length).toBeGreaterThan(1);
    expect(stored).toEqual(planned);

    // The collector counted them too, on its own metrics endpoint (a free port per collector).
    const metrics = await (await fetch(`http://${c().metricsTarget}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const accepted = [...metrics.matchAll(/^otelcol_receiver_accepted_metric_points\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(accepted).toBeGreaterThanOrEqual(INSTALLS);
  }, 120_000);
});
