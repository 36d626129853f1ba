/** `--seed` determinism of the fleet simulator's plan (src/simulate/fleet.ts). */
import { describe, expect, it } from 'vitest';
import { catalog } from '../../examples/acme-app/telemetry.ts';
import { planFleet } from '../../src/simulate/fleet.ts';

describe('planFleet', () => {
  it('the same seed gives a deep-equal plan', () => {
    const a = planFleet(200, 7, 42, catalog);
    const b = planFleet(200, 7, 42, catalog);
    expect(a.installs).toHaveLength(200);
    expect(b).toEqual(a);
    // Not trivially equal: the plan has variety (hosts, versions, first days).
    expect(new Set(a.installs.map((i) => `${i.host.osType}/${i.host.hostArch}`)).size).toBeGreaterThan(1);
    expect(new Set(a.installs.map((i) => i.days[0])).size).toBeGreaterThan(1);
  });

  it('a different seed gives a different plan', () => {
    const a = planFleet(200, 7, 42, catalog);
    expect(planFleet(200, 7, 43, catalog)).not.toEqual(a);
    expect(planFleet(200, 7, 7, catalog)).not.toEqual(a);
  });
});
