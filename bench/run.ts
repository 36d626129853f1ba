/**
 * Headcount benchmarks against the performance targets of issue #2. Run with `npm run bench`
 * (builds dist/ first; import costs are measured on the BUILT package). Every figure is shown
 * absolute and against a baseline measured in the same run; the targets are informational and
 * the process exits 0 unless the bench itself fails.
 *
 * Knobs (environment): BENCH_ROUNDS (startup process spawns per mode, default 25),
 * BENCH_STALL_RUNS (fresh processes per stall variant, default 9), BENCH_DIST (path of another
 * build's index.js to measure instead of dist/index.js).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Api from '../src/index.ts';
import { acmeSpec, catalog10x5 } from './app-spec.ts';
import { headcountSizes, naiveOtelSizes, sentWireBytes } from './bytes.ts';
import { cleanEnv, runChild } from './child.ts';
import { startSink } from './sink-server.ts';
import { iqr, KIB_PER_MIB, median } from './stats.ts';
import { measureStartup, type StartupMode, type StartupSample } from './startup.ts';
import type { Window } from './stall-child.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_DIST points the bench at another build of the package (e.g. a bundled candidate).
const distIndex = process.env['BENCH_DIST'] ?? join(root, 'dist', 'index.js');
const distUrl = pathToFileURL(distIndex).href;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 25);
const WARMUP = 3;
const STALL_RUNS = Number(process.env['BENCH_STALL_RUNS'] ?? 9);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (!existsSync(distIndex)) {
  process.stderr.write('dist/index.js is missing: run `npm run bench` (it builds first) or `npm run build`.\n');
  process.exit(1);
}
const staleDist = process.env['BENCH_DIST'] === undefined && newestMtime(join(root, 'src')) > statSync(distIndex).mtimeMs;
if (staleDist) log('warning: src/ is newer than dist/index.js; the figures are for the last build');

interface Row {
  readonly id: string;
  readonly figure: string;
  readonly value: string;
  readonly baseline: string;
  readonly delta: string;
  readonly target: string;
  readonly result: 'PASS' | 'MISS' | 'info';
}

const rows: Row[] = [];
const details: string[] = [];
const verdict = (ok: boolean): Row['result'] => (ok ? 'PASS' : 'MISS');
const ratio = (a: number, b: number) => `×${(a / b).toFixed(2)}`;
const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

const sink = await startSink();
try {
  const acme = await acmeSpec();
  const c10 = catalog10x5();
  log(`node ${process.version}, ${cpus().length} CPUs; sink at ${sink.url}`);

  // 1 + 2. Startup, telemetry off and on, in fresh processes.
  log(`startup: ${WARMUP} warm-up + ${ROUNDS} rounds × (bare, empty, off, on) process spawns…`);
  const t0 = performance.now();
  const s = await measureStartup({
    distUrl,
    app: acme,
    sink,
    rounds: ROUNDS,
    warmup: WARMUP,
    onProgress: (done, total) => {
      if (done % 5 === 0 || done === total) log(`  startup round ${done}/${total}`);
    },
  });
  const startupSec = (performance.now() - t0) / 1000;
  const med = (mode: StartupMode, key: 'wallMs' | 'innerMs' | 'sinceStartMs' | 'maxRssKiB') => median(s[mode].map((x: StartupSample) => x[key]));
  const bareWall = med('bare', 'wallMs');
  const bareRss = med('bare', 'maxRssKiB') / KIB_PER_MIB;
  for (const [mode, id, label, msTarget, mibTarget] of [
    ['off', '1', 'Off: import + create + start()', 5, 2],
    ['on', '2', 'On: import + start() + 1st heartbeat', 60, 12],
  ] as const) {
    const wall = med(mode, 'wallMs');
    const rss = med(mode, 'maxRssKiB') / KIB_PER_MIB;
    rows.push({
      id: `${id}a`,
      figure: `${label}, wall (process)`,
      value: `${wall.toFixed(1)} ms`,
      baseline: `${bareWall.toFixed(1)} ms bare`,
      delta: `${signed(wall - bareWall, 1)} ms ${ratio(wall, bareWall)}`,
      target: `≤ +${msTarget} ms`,
      result: verdict(wall - bareWall <= msTarget),
    });
    rows.push({
      id: `${id}b`,
      figure: `${label}, max RSS`,
      value: `${rss.toFixed(1)} MiB`,
      baseline: `${bareRss.toFixed(1)} MiB bare`,
      delta: `${signed(rss - bareRss, 1)} MiB ${ratio(rss, bareRss)}`,
      target: `≤ +${mibTarget} MiB`,
      result: verdict(rss - bareRss <= mibTarget),
    });
  }
  for (const mode of ['bare', 'empty', 'off', 'on'] as const) {
    details.push(
      `startup ${mode.padEnd(5)}: wall median ${med(mode, 'wallMs').toFixed(1)} ms (IQR ${iqr(s[mode].map((x) => x.wallMs), 1)}), ` +
        `in-process measured part ${med(mode, 'innerMs').toFixed(1)} ms, done at ${med(mode, 'sinceStartMs').toFixed(1)} ms after process start, ` +
        `max RSS ${(med(mode, 'maxRssKiB') / KIB_PER_MIB).toFixed(1)} MiB (IQR ${iqr(s[mode].map((x) => x.maxRssKiB / KIB_PER_MIB), 1)})`,
    );
  }
  details.push(
    `startup "empty" = bare + import of one empty .mjs file: ${signed(med('empty', 'wallMs') - bareWall, 1)} ms, ` +
      `${signed((med('empty', 'maxRssKiB') / KIB_PER_MIB) - bareRss, 1)} MiB over bare (ESM loader cost any ESM host app already pays)`,
  );
  details.push(`startup: ${ROUNDS} measured rounds per mode (+${WARMUP} warm-up), ${startupSec.toFixed(1)} s`);

  // 3. feature() hot path, in fresh processes (off, then on).
  const stateRoot = mkdtempSync(join(tmpdir(), 'headcount-bench-run-'));
  try {
    const base = { BENCH_DIST_URL: distUrl, BENCH_APP: JSON.stringify(acme) };
    const onEnv = (stateDir: string) => ({
      ACME_TELEMETRY_TOKEN: 'bench-token-123',
      ACME_TELEMETRY_ENDPOINT: sink.url,
      ACME_TELEMETRY_FORCE: '1',
      ACME_TELEMETRY_STATE_DIR: stateDir,
    });
    for (const mode of ['off', 'on'] as const) {
      log(`feature() hot path, telemetry ${mode}…`);
      const stateDir = mkdtempSync(join(stateRoot, `hot-${mode}-`));
      const env = cleanEnv({ ...base, BENCH_HOTPATH_MODE: mode, ...(mode === 'on' ? onEnv(stateDir) : { ACME_TELEMETRY_STATE_DIR: stateDir }) });
      const { out } = await runChild<{ featureNs: number[]; mapNs: number[] }>([join(root, 'bench', 'hotpath-child.ts')], env, 120_000);
      const f = median(out.featureNs);
      const m = median(out.mapNs);
      rows.push({
        id: mode === 'off' ? '3a' : '3b',
        figure: `feature(declared name), telemetry ${mode}`,
        value: `${f.toFixed(1)} ns/call`,
        baseline: `${m.toFixed(1)} ns Map++`,
        delta: `${signed(f - m, 1)} ns ${ratio(f, m)}`,
        target: '≤ 50 ns',
        result: verdict(f <= 50),
      });
      details.push(
        `feature() ${mode}: ${out.featureNs.length} batches of ${process.env['BENCH_HOTPATH_BATCH'] ?? 2_000_000} calls, IQR ${iqr(out.featureNs, 1)} ns; Map++ IQR ${iqr(out.mapNs, 1)} ns`,
      );
    }

    // 4. Heartbeat size.
    log('heartbeat size…');
    const api = (await import(distUrl)) as typeof Api;
    const hc = await headcountSizes(api, c10);
    const naive = await naiveOtelSizes(c10, hc.resource);
    const sent = await sentWireBytes(api, c10, sink);
    rows.push({
      id: '4a',
      figure: 'Heartbeat, 10 quantities + 5 flags, deflate (preview)',
      value: `${hc.wireBytes} B`,
      baseline: `${naive.wireBytes} B OTel gauges`,
      delta: `${signed(hc.wireBytes - naive.wireBytes, 0)} B ${ratio(hc.wireBytes, naive.wireBytes)}`,
      target: '≤ 400 B',
      result: verdict(hc.wireBytes <= 400),
    });
    rows.push({
      id: '4b',
      figure: 'Heartbeat, same, deflate as received (real id)',
      value: `${sent} B`,
      baseline: `${naive.wireBytes} B OTel gauges`,
      delta: `${signed(sent - naive.wireBytes, 0)} B ${ratio(sent, naive.wireBytes)}`,
      target: '≤ 400 B',
      result: verdict(sent <= 400),
    });
    rows.push({
      id: '4c',
      figure: 'Heartbeat, same, protobuf (uncompressed)',
      value: `${hc.protobufBytes} B`,
      baseline: `${naive.protobufBytes} B OTel gauges`,
      delta: `${signed(hc.protobufBytes - naive.protobufBytes, 0)} B ${ratio(hc.protobufBytes, naive.protobufBytes)}`,
      target: '—',
      result: 'info',
    });
    details.push(
      'heartbeat baseline: stock @opentelemetry/sdk-metrics, one observable gauge per quantity/flag with its raw value, the same resource, ' +
        'ProtobufMetricsSerializer, deflate level 9 (as Headcount); it uses the preview\'s resource (all-zero placeholder install id)',
    );
    if (hc.logsWireBytes !== undefined) details.push(`feature events request (2 features used that day): ${hc.logsWireBytes} B deflate on the wire`);
    const acmeSizes = await headcountSizes(api, acme);
    details.push(`heartbeat of the Acme example (3 quantities + 2 flags): ${acmeSizes.wireBytes} B deflate, ${acmeSizes.protobufBytes} B protobuf`);

    // 5. Event-loop stall around sends, fresh process per run.
    log(`event-loop stall: ${STALL_RUNS} runs × 2 variants…`);
    const windows: Record<string, Window[]> = {};
    for (let i = 0; i < STALL_RUNS; i++) {
      for (const variant of i % 2 === 0 ? ['cold', 'split'] : ['split', 'cold']) {
        const stateDir = mkdtempSync(join(stateRoot, `stall-${variant}-`));
        const env = cleanEnv({ ...base, ...onEnv(stateDir), BENCH_STALL_VARIANT: variant });
        const { out } = await runChild<Record<string, Window>>([join(root, 'bench', 'stall-child.ts')], env, 60_000);
        for (const [name, w] of Object.entries(out)) {
          if (!w.ok) throw new Error(`stall ${variant}/${name}: send failed`);
          (windows[`${variant}/${name}`] ??= []).push(w);
        }
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
    const stall = (key: string) => median((windows[key] ?? []).map((w) => w.stallMs));
    const idle = stall('cold/idle');
    const stallRow = (id: string, key: string, label: string, result: boolean): Row => {
      const v = stall(key);
      return {
        id,
        figure: label,
        value: `${v.toFixed(1)} ms`,
        baseline: `${idle.toFixed(1)} ms idle`,
        delta: `${signed(v - idle, 1)} ms ${ratio(v, Math.max(idle, 0.05))}`,
        target: '≤ 10 ms',
        result: result ? verdict(v <= 10) : 'info',
      };
    };
    rows.push(stallRow('5a', 'cold/send1', 'Max loop stall, 1st sendNow() (+lazy SDK import)', true));
    rows.push(stallRow('5b', 'cold/send2', 'Max loop stall, 2nd sendNow()', true));
    rows.push(stallRow('5c', 'split/import', '  …of which: start() lazy import alone', false));
    rows.push(stallRow('5d', 'split/send1', '  …and: 1st sendNow() after the import', true));
    for (const [key, ws] of Object.entries(windows)) {
      details.push(
        `stall ${key.padEnd(12)}: max stall median ${median(ws.map((w) => w.stallMs)).toFixed(1)} ms (IQR ${iqr(ws.map((w) => w.stallMs), 1)}, ` +
          `max of runs ${Math.max(...ws.map((w) => w.stallMs)).toFixed(1)}), resolves in ${median(ws.map((w) => w.durMs)).toFixed(1)} ms`,
      );
    }
    details.push(`stall: ${STALL_RUNS} fresh processes per variant; stall = longest gap between setInterval(1 ms) ticks minus 1 ms`);
  } finally {
    rmSync(stateRoot, { recursive: true, force: true });
  }
  details.push(`loopback sink received ${[...sink.hits].map(([p, n]) => `${n} × ${p}`).join(', ')}`);
} finally {
  await sink.close();
}

// The table.
const header: Row = { id: '#', figure: 'Figure (median)', value: 'Value', baseline: 'Baseline (same run)', delta: 'Δ / ratio', target: 'Target', result: 'PASS' };
const cols = ['id', 'figure', 'value', 'baseline', 'delta', 'target', 'result'] as const;
const widths = cols.map((c) => Math.max(...[header, ...rows].map((r) => (c === 'result' && r === header ? 6 : r[c].length))));
const line = (r: Row) => cols.map((c, i) => (r === header && c === 'result' ? 'Result' : r[c]).padEnd(widths[i]!)).join(' | ');
const out: string[] = [];
out.push(`Headcount benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${process.platform}/${process.arch}`);
out.push('Command: npm run bench   (= npm run build && node bench/run.ts)');
if (process.env['BENCH_DIST'] !== undefined) out.push(`Package measured: BENCH_DIST=${distIndex} (not dist/)`);
if (staleDist) out.push('WARNING: src/ changed after the last build; run `npm run bench` to rebuild.');
out.push('');
out.push(line(header));
out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) out.push(line(r));
out.push('');
out.push('Details:');
for (const d of details) out.push(`  ${d}`);
out.push('');
out.push('Targets (issue #2) are informational: this bench exits 0 whether they pass or miss.');
process.stdout.write(`${out.join('\n')}\n`);
