/**
 * The fast load generator (bench/otlp-load.ts) sends the SDK's own bytes: for installs of a
 * planned fleet, the template with an install's id written in equals the body the SDK renders
 * for that install (its `preview()`, what `sendNow()` sends), byte for byte.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import app from '../../examples/acme-app/telemetry.ts';
import { installIdFor, patched, sdkBody, template, templateRenderer } from '../../bench/otlp-load.ts';
import { planFleet } from '../../src/simulate/fleet.ts';

describe('fast OTLP load generator', () => {
  it('sends bodies identical to the SDK\'s for the same install', async () => {
    const plan = planFleet(40, 3, 9, app.catalog);
    const o = { app, endpoint: 'http://127.0.0.1:9', token: 'a-token-0123456789' };
    let compared = 0;
    for (const install of plan.installs.filter((p) => p.days.includes(2)).slice(0, 8)) {
      const id = randomUUID();
      const fast = patched(await template(o, install, 2), id);
      const sdk = await sdkBody(o, install, 2, id);
      expect(fast.equals(sdk)).toBe(true);
      expect(fast.includes(id)).toBe(true);
      compared++;
    }
    expect(compared).toBe(8);
  }, 60_000);

  it('renders the same bytes with one reused handle per version and host', async () => {
    const plan = planFleet(60, 3, 11, app.catalog);
    const o = { app, endpoint: 'http://127.0.0.1:9', token: 'a-token-0123456789' };
    const render = templateRenderer(o);
    // Several installs per (version, host), with different values, rendered in turn.
    const installs = plan.installs.filter((p) => p.days.includes(2)).slice(0, 20);
    const hosts = new Set(installs.map((p) => JSON.stringify(p.host)));
    expect(hosts.size).toBeLessThan(installs.length);
    for (const install of installs) {
      const id = installIdFor(11, plan.installs.indexOf(install));
      expect(patched(await render(install, 2), id).equals(await sdkBody(o, install, 2, id))).toBe(true);
    }
  }, 60_000);

  it('gives each install of a fleet one stable UUID v4', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => installIdFor(42, i));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(1000);
    expect(installIdFor(42, 7)).toBe(ids[7]);
    expect(installIdFor(43, 7)).not.toBe(ids[7]);
  });
});
