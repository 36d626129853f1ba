/**
 * Runs in a fresh process: ns per `feature(name)` call (a declared name) against a `Map`
 * increment with the same access pattern, interleaved batch by batch. Telemetry is on or off
 * according to the environment the parent gives (BENCH_HOTPATH_MODE says which it expects).
 * Prints one JSON line: { featureNs: number[], mapNs: number[], enabled }.
 */
import type * as Api from '../src/index.ts';
import type { AppSpec } from './app-spec.ts';

const api = (await import(process.env['BENCH_DIST_URL']!)) as typeof Api;
const app = JSON.parse(process.env['BENCH_APP']!) as AppSpec;
const h = api.createHeadcount({
  product: app.product,
  version: app.version,
  catalog: api.defineCatalog(app.catalog),
  collect: () => app.report,
  ...(app.endpoint === undefined ? {} : { endpoint: app.endpoint }),
});
h.start();
const wantOn = process.env['BENCH_HOTPATH_MODE'] === 'on';
if (h.settings.enabled !== wantOn) throw new Error(`expected telemetry ${wantOn ? 'on' : 'off'}: ${h.settings.reason}`);
if (wantOn) await h.status(); // the active part is loaded, as in a running app

const names = Object.keys(app.catalog.features ?? {}).slice(0, 2);
if (names.length < 2) throw new Error('the app needs two declared features');
const BATCH = Number(process.env['BENCH_HOTPATH_BATCH'] ?? 2_000_000);
const BATCHES = Number(process.env['BENCH_HOTPATH_BATCHES'] ?? 15);

function timeFeature(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) h.feature(names[i & 1]!);
  return Number(process.hrtime.bigint() - t0) / n;
}

const map = new Map<string, number>();
function timeMap(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const k = names[i & 1]!;
    map.set(k, (map.get(k) ?? 0) + 1);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

for (let w = 0; w < 3; w++) {
  timeFeature(BATCH);
  timeMap(BATCH);
}
const featureNs: number[] = [];
const mapNs: number[] = [];
for (let b = 0; b < BATCHES; b++) {
  if (b % 2 === 0) {
    featureNs.push(timeFeature(BATCH));
    mapNs.push(timeMap(BATCH));
  } else {
    mapNs.push(timeMap(BATCH));
    featureNs.push(timeFeature(BATCH));
  }
}
await h.shutdown({ timeoutMs: 200 });
process.stdout.write(`${JSON.stringify({ featureNs, mapNs, enabled: h.settings.enabled })}\n`);
