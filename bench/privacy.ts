/**
 * Scrubber coverage (issue 8): pushes generated values through `scrubReason` (src/redact.ts) and
 * prints, per class, the share it misses, and the share of legitimate Headcount values it drops.
 * The generators are the suite's (test/redact-corpus.ts): many notations per class, in context,
 * truncated, encoded, spelled out, and fast-check's own email / inet_aton / IPv6 / domain
 * generators. The scrubber as it was before the classes were extended runs on the same values
 * in the same process, as the baseline, for misses and for time per value.
 *
 *   npm run bench:privacy [-- --per-class 100000] [--seed 20261202] [--rounds 3]
 *
 * Target: ≤ 1 % misses for every structured class and no legitimate value dropped. The figures
 * are informational: the process exits 0 unless the bench itself fails (the suite's
 * `test/redact.test.ts` is the check that fails).
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { scrubReason } from '../src/redact.ts';
import { hostname, legitimate, STRUCTURED } from '../test/redact-corpus.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '100000' },
    seed: { type: 'string', default: '20261202' },
    rounds: { type: 'string', default: '3' },
  },
});
const PER_CLASS = Number(args['per-class']);
const SEED = Number(args.seed);
const ROUNDS = Number(args.rounds);
const log = (line: string) => process.stderr.write(`[bench:privacy] ${line}\n`);

// ---- the scrubber before this change (src/redact.ts at 42a4114), kept verbatim as the baseline ----
const BEFORE_RULES: ReadonlyArray<readonly [string, RegExp]> = [
  // eslint-disable-next-line no-control-regex -- as it was
  ['control-chars', /[\u0000-\u001f\u007f]/],
  ['email', /[^\s@]+@[^\s@]+\.[^\s@]+/],
  ['url-credentials', /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]*@/i],
  ['url', /[a-z][a-z0-9+.-]*:\/\//i],
  ['jwt', /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./],
  ['ipv4', /(?:^|[^0-9.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![0-9])/],
  ['ipv6', /(?:^|[^0-9a-f:])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}(?![0-9a-z])|::(?:[0-9a-f]{1,4}|ffff:)|[0-9a-f]{1,4}::/i],
  ['api-key', /(?:gh[pousr]_|github_pat_|xox[abprs]-|sk_(?:live|test)_|rk_live_|sk-|AKIA|ASIA|AIza)[A-Za-z0-9_-]{8,}/],
  ['api-key', /[A-Za-z0-9_+/=]{32,}/],
  ['home-path', /(?:^|[\s"'=:])(?:~[/\\]|\/home\/|\/Users\/|\/root(?:\/|$)|[A-Za-z]:\\Users\\)/],
  ['hostname', /(?:^|[^A-Za-z0-9.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z-]{1,62}(?![A-Za-z0-9-])/],
];
function scrubBefore(value: string): string | undefined {
  if (value.length > 64) return 'too-long';
  for (const [reason, pattern] of BEFORE_RULES) if (pattern.test(value)) return reason;
  return undefined;
}

/** The reasons that name each class correctly (any reason drops the value; this is only a label check). */
const OWN: Readonly<Record<string, readonly string[]>> = {
  email: ['email'],
  ipv4: ['ipv4'],
  ipv6: ['ipv6'],
  mac: ['mac'],
  card: ['card'],
  phone: ['phone'],
  jwt: ['jwt'],
  'api-key': ['api-key', 'private-key', 'password', 'url-credentials'],
  'home-path': ['home-path'],
  hostname: ['hostname'],
};

const classes: Array<readonly [string, fc.Arbitrary<string>, boolean]> = [
  ...Object.entries(STRUCTURED).map(([name, arb]) => [name, arb, true] as const),
  ['hostname', hostname, false],
];

log(`node ${process.version}; ${PER_CLASS} values per class, seed ${SEED}`);
const t0 = performance.now();
const samples = new Map<string, string[]>();
for (const [i, [name, arb]] of classes.entries()) samples.set(name, fc.sample(arb, { numRuns: PER_CLASS, seed: SEED + i }));
const legit = fc.sample(legitimate, { numRuns: PER_CLASS, seed: SEED - 1 });
const all = [...[...samples.values()].flat(), ...legit];
log(`generated ${all.length} values in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(3)} %`;
const rows: string[][] = [['class', 'values', 'missed', 'missed before', 'dropped only by the 64-char cap', 'named as its class', 'target', 'result', 'missed examples']];
for (const [name, , structured] of classes) {
  const values = samples.get(name)!;
  let missed = 0;
  let missedBefore = 0;
  let byLength = 0;
  let own = 0;
  const examples = new Set<string>();
  for (const v of values) {
    const reason = scrubReason(v);
    if (reason === undefined) {
      missed++;
      if (examples.size < 4) examples.add(JSON.stringify(v));
    } else if (reason === 'too-long') byLength++;
    else if (OWN[name]!.includes(reason)) own++;
    if (scrubBefore(v) === undefined) missedBefore++;
  }
  const ok = missed / values.length <= 0.01;
  rows.push([
    name,
    String(values.length),
    pct(missed, values.length),
    pct(missedBefore, values.length),
    pct(byLength, values.length),
    pct(own, values.length),
    structured ? '≤ 1 %' : 'none (free words: allow-list)',
    structured ? (ok ? 'PASS' : 'MISS') : 'info',
    [...examples].join(' '),
  ]);
}
let dropped = 0;
let droppedBefore = 0;
const fpExamples = new Set<string>();
for (const v of legit) {
  const reason = scrubReason(v);
  if (reason !== undefined) {
    dropped++;
    if (fpExamples.size < 4) fpExamples.add(`${JSON.stringify(v)}→${reason}`);
  }
  if (scrubBefore(v) !== undefined) droppedBefore++;
}
rows.push(['legitimate (dropped)', String(legit.length), pct(dropped, legit.length), pct(droppedBefore, legit.length), '', '', '0', dropped === 0 ? 'PASS' : 'MISS', [...fpExamples].join(' ')]);

// ---- time per value, new and old alternating, same values ----
// CPU time of this process (not wall time), so other load on the machine does not count.
function timePerValue(fn: (v: string) => unknown, values: readonly string[]): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (const v of values) if (fn(v) !== undefined) sink++;
  const used = process.cpuUsage(start);
  if (sink < 0) throw new Error('unreachable');
  return ((used.user + used.system) * 1000) / values.length;
}
const timings = { afterAll: [] as number[], beforeAll: [] as number[], afterLegit: [] as number[], beforeLegit: [] as number[] };
timePerValue(scrubReason, legit); // warm-up
timePerValue(scrubBefore, legit);
for (let r = 0; r < ROUNDS; r++) {
  timings.afterAll.push(timePerValue(scrubReason, all));
  timings.beforeAll.push(timePerValue(scrubBefore, all));
  timings.afterLegit.push(timePerValue(scrubReason, legit));
  timings.beforeLegit.push(timePerValue(scrubBefore, legit));
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
const print = (r: string[]) => process.stdout.write(`${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`);
process.stdout.write(`\nScrubber coverage: ${all.length} values (${PER_CLASS} per class, seed ${SEED}), node ${process.version}\n\n`);
print(rows[0]!);
for (const r of rows.slice(1)) print(r);
const m = (xs: number[]) => median(xs);
process.stdout.write(
  `\nCPU time per value (median of ${ROUNDS} rounds; before = the scrubber these classes replaced, same values, same process):\n` +
    `  all ${all.length} values: ${m(timings.afterAll).toFixed(0)} ns (before ${m(timings.beforeAll).toFixed(0)} ns, ×${(m(timings.afterAll) / m(timings.beforeAll)).toFixed(2)}); ` +
    `${(1e3 / m(timings.afterAll)).toFixed(2)} M values per CPU-second\n` +
    `  legitimate values only (what the send path sees): ${m(timings.afterLegit).toFixed(0)} ns (before ${m(timings.beforeLegit).toFixed(0)} ns, ×${(m(timings.afterLegit) / m(timings.beforeLegit)).toFixed(2)})\n`,
);
