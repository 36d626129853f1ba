/**
 * What a hostile collect() result or a crafted local file costs the host: the longest event-loop
 * stall (1 ms lag probe) and the process CPU time around one `preview()` (collect + build, no
 * network) or `start()` + `shutdown()`, next to a baseline measured in the same run
 * (`Object.keys` of the same object: what walking the host's own object costs at the least).
 * On a loaded machine the wall-clock stall is inflated by waiting for a core; CPU time is not.
 *
 *   nice -n 10 node bench/hostile-local.ts   (1,000,000 keys, 150,000 days; BENCH_KEYS, BENCH_PENDING_DAYS to change)
 *
 * Prints one line per case and a JSON line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHeadcount, type HeadcountOptions } from '../src/index.ts';
import options from '../examples/acme-app/telemetry.ts';

const KEYS = Number(process.env['BENCH_KEYS'] ?? 1_000_000);
const DAYS = Number(process.env['BENCH_PENDING_DAYS'] ?? 150_000);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Cost {
  readonly stallMs: number;
  readonly cpuMs: number;
}

async function stall(action: () => Promise<unknown>): Promise<Cost> {
  let last = performance.now();
  let worst = 0;
  const tick = setInterval(() => {
    const t = performance.now();
    worst = Math.max(worst, t - last);
    last = t;
  }, 1);
  await sleep(20);
  worst = 0;
  last = performance.now();
  const cpu0 = process.cpuUsage();
  await action();
  const cpu = process.cpuUsage(cpu0);
  await sleep(20);
  clearInterval(tick);
  return { stallMs: Math.max(0, worst - 1), cpuMs: (cpu.user + cpu.system) / 1000 };
}

const base = (extra: Partial<HeadcountOptions>): HeadcountOptions => ({
  ...options,
  env: { ACME_TELEMETRY_TOKEN: 'bench-token-0123456789', ACME_TELEMETRY_ENDPOINT: 'http://127.0.0.1:9' },
  ci: { isCI: false, name: null },
  stateDir: mkdtempSync(join(tmpdir(), 'headcount-bench-')),
  log: () => undefined,
  ...extra,
});

// Measured first, before the large object below exists (its garbage collection would count).
// Warm-up: the first preview loads the OTel SDK in steps; measure later ones only.
await createHeadcount(base({})).preview();

// A crafted pending-features.json of DAYS day entries (150,000: ~3.5 MB), then start() + shutdown().
const pendingStall: Record<string, Cost> = {};
const crafted = base({ schedule: { firstDelayMs: [3_600_000, 3_600_000] } });
const day = 86_400_000;
const today = Date.now() - (Date.now() % day);
writeFileSync(join(crafted.stateDir!, 'pending-features.json'), JSON.stringify(Array.from({ length: DAYS }, (_, i) => [today - (i + 1) * day, { export_csv: 3 }])));
pendingStall[`start() + shutdown() with a ${DAYS}-day pending-features.json`] = await stall(async () => {
  const h = createHeadcount(crafted);
  h.start();
  await h.status();
  await h.shutdown({ timeoutMs: 500 }).catch((error: unknown) => console.log(`shutdown() rejected: ${String(error)}`));
});

const plain: Record<string, number> = { users: 7 };
for (let i = 0; i < KEYS; i++) plain[`k${i}`] = i;
const t0 = performance.now();
const c0 = process.cpuUsage();
Object.keys(plain);
const c1 = process.cpuUsage(c0);
const keys: Cost = { stallMs: performance.now() - t0, cpuMs: (c1.user + c1.system) / 1000 };
const proxy = new Proxy(plain, {});

const results: Record<string, Cost> = {
  ...pendingStall,
  [`Object.keys of the ${KEYS}-key object (baseline, host-side cost)`]: keys,
  'preview(), collect() returns a small object': await stall(() => createHeadcount(base({})).preview()),
  [`preview(), collect() returns ${KEYS} undeclared keys`]: await stall(() => createHeadcount(base({ collect: () => ({ quantities: plain }) })).preview()),
  [`preview(), collect() returns a proxy of ${KEYS} keys`]: await stall(() => createHeadcount(base({ collect: () => ({ quantities: proxy }) })).preview()),
};

console.log('  stall ms     CPU ms  case');
for (const [name, c] of Object.entries(results)) console.log(`${c.stallMs.toFixed(1).padStart(10)} ${c.cpuMs.toFixed(1).padStart(10)}  ${name}`);
console.log(JSON.stringify(results));
