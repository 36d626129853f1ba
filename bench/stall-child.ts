/**
 * Runs in a fresh process (telemetry on, sending to the bench's loopback sink) and probes the
 * event loop around sends with a setInterval(1 ms) lag probe. (perf_hooks.monitorEventLoopDelay
 * is not used: on this Node 22 it reported a 1.2 ms max across a 100 ms synchronous busy loop.)
 *   BENCH_STALL_VARIANT=cold:   idle window, sendNow() #1 (lazy import of the OTel SDK included), sendNow() #2
 *   BENCH_STALL_VARIANT=split:  start() + status() (the lazy import alone), then sendNow() #1
 * Prints one JSON line: window name → { stallMs, durMs, ok }.
 */
import type * as Api from '../src/index.ts';
import type { AppSpec } from './app-spec.ts';

export interface Window {
  /** Longest gap between 1 ms interval ticks, minus the 1 ms interval. */
  readonly stallMs: number;
  /** How long the action took (resolve time). */
  readonly durMs: number;
  readonly ok: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function probe(action: () => Promise<boolean>): Promise<Window> {
  let last = performance.now();
  let maxGap = 0;
  const tick = setInterval(() => {
    const t = performance.now();
    if (t - last > maxGap) maxGap = t - last;
    last = t;
  }, 1);
  await sleep(40); // let the probe settle
  maxGap = 0;
  last = performance.now();
  const t0 = performance.now();
  const ok = await action();
  const durMs = performance.now() - t0;
  await sleep(30); // work a send leaves behind (socket close, ledger append) counts too
  clearInterval(tick);
  return { stallMs: Math.max(0, maxGap - 1), durMs, ok };
}

const api = (await import(process.env['BENCH_DIST_URL']!)) as typeof Api;
const app = JSON.parse(process.env['BENCH_APP']!) as AppSpec;
const h = api.createHeadcount({
  product: app.product,
  version: app.version,
  catalog: api.defineCatalog(app.catalog),
  collect: () => app.report,
  ...(app.endpoint === undefined ? {} : { endpoint: app.endpoint }),
});
if (!h.settings.enabled) throw new Error(`telemetry is off: ${h.settings.reason}`);

const out: Record<string, Window> = {};
if (process.env['BENCH_STALL_VARIANT'] === 'split') {
  out['import'] = await probe(async () => {
    h.start();
    return (await h.status()).enabled;
  });
  out['send1'] = await probe(async () => (await h.sendNow()).sent);
} else {
  out['idle'] = await probe(async () => {
    await sleep(250);
    return true;
  });
  out['send1'] = await probe(async () => (await h.sendNow()).sent);
  out['send2'] = await probe(async () => (await h.sendNow()).sent);
}
await h.shutdown({ timeoutMs: 500 });
process.stdout.write(`${JSON.stringify(out)}\n`);
