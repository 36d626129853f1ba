/**
 * The fast load generator (bench/otlp-load.ts) sends the SDK's own bytes: for installs of a
 * planned fleet, the template with an install's id written in equals the body the SDK renders
 * for that install (its `preview()`, what `sendNow()` sends), byte for byte.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import app from '../../examples/acme-app/telemetry.ts';
import { patched, sdkBody, template } from '../../bench/otlp-load.ts';
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
});
