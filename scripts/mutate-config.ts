/**
 * Config mutation testing for the collector's privacy stages (`npm run mutation:config`).
 *
 * Removes, one at a time, every privacy processor from the pipelines, every statement and
 * condition of those processors, every entry of the redaction lists and the receiver's auth
 * (and sets the receiver's include_metadata to true), and
 * runs the privacy probes of test/collector/gate-probes.ts against the mutated config: first the
 * mutated gate alone with its own probes, then (if that noticed nothing) the whole mutated
 * config with every probe. A mutation is noticed when a probe's needle reaches the queue file, a
 * request without a token is accepted, or a valid marker does not arrive (over-tightening).
 * A removal nothing notices fails the run unless collector-config/mutation-equivalents.yaml
 * lists it with the reason it changes nothing a probe can see.
 *
 *   node scripts/mutate-config.ts [--jobs 2] [--only <substring>]
 *
 * Needs the collector binary (scripts/build-collector.sh); no Prometheus: the exporter points at
 * a closed port, so everything that passed the gates stays in the queue file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { collectorConfig, repoRoot } from './stack/binaries.ts';
import { exampleCatalogLists, startCollector, stopAll } from './stack/processes.ts';
import { freePort } from './stack/ports.ts';
import { GATE_PROCESSORS, gateAlone, parseConfig, PROBES, renderConfig, runProbes, type Gate } from '../test/collector/gate-probes.ts';

type Config = ReturnType<typeof parseConfig>;

interface Mutation {
  /** Stable description, also the key in the equivalents file. */
  readonly id: string;
  readonly gate: Gate;
  readonly apply: (config: Config) => void;
}

const PRIVACY_PROCESSORS = GATE_PROCESSORS;
const TOKEN = 'mutation-token';

type Statements = { context: string; statements?: string[]; conditions?: string[] }[];

/** Every removal the script tries, read from the shipped config. */
function mutations(config: Config): Mutation[] {
  const out: Mutation[] = [];
  const processors = config.processors as Record<string, Record<string, unknown>>;
  // A YAML anchor makes one list appear in two places (metric and log resource statements):
  // it is one line of the file, so one mutation, named after its first place.
  const firstPlace = new Map<unknown, string>();
  for (const name of PRIVACY_PROCESSORS) {
    out.push({
      id: `remove processor ${name} from every pipeline`,
      gate: name,
      apply: (c) => {
        for (const p of Object.values(c.service.pipelines)) p.processors = (p.processors ?? []).filter((x) => x !== name);
      },
    });
    const proc = processors[name] ?? {};
    for (const field of ['metric_statements', 'log_statements', 'metric_conditions', 'log_conditions'] as const) {
      const groups = (proc[field] as Statements | undefined) ?? [];
      groups.forEach((group, g) => {
        const list = group.statements ?? group.conditions ?? [];
        const kind = group.statements ? 'statements' : 'conditions';
        if (!firstPlace.has(list)) firstPlace.set(list, `${field}[${group.context}]`);
        const place = firstPlace.get(list) ?? '';
        list.forEach((text, i) => {
          out.push({
            id: `remove ${name} ${place}: ${text}`,
            gate: name,
            apply: (c) => {
              const target = ((c.processors as Record<string, Record<string, unknown>>)[name]?.[field] as Statements)[g];
              const arr = target?.[kind];
              if (arr) arr.splice(i, 1);
            },
          });
        });
      });
    }
  }
  const redaction = processors['redaction'] ?? {};
  for (const list of ['allowed_keys', 'ignored_key_patterns', 'blocked_values'] as const) {
    ((redaction[list] as string[] | undefined) ?? []).forEach((entry, i) => {
      out.push({ id: `remove redaction ${list} entry: ${entry}`, gate: 'redaction', apply: (c) => ((c.processors as Record<string, Record<string, string[]>>)['redaction']?.[list])?.splice(i, 1) });
    });
  }
  out.push({ id: 'remove the receiver auth', gate: 'auth', apply: (c) => delete c.receivers.otlp.protocols.http['auth'] });
  out.push({ id: 'set the receiver include_metadata: true', gate: 'auth', apply: (c) => void (c.receivers.otlp.protocols.http['include_metadata'] = true) });
  // Dedupe: YAML anchors make the resource and scope statements one list in two places.
  const seen = new Set<string>();
  return out.filter((m) => (seen.has(m.id) ? false : (seen.add(m.id), true)));
}

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '1' }, only: { type: 'string' } } });
const jobs = Math.max(1, Number(values.jobs));
// Only the collector is needed (no Prometheus): build or reuse it through the cached script.
const collectorBinary = await new Promise<string>((resolve, reject) =>
  execFile('bash', [`${repoRoot}scripts/build-collector.sh`], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
    const last = stdout.trim().split('\n').at(-1) ?? '';
    if (error !== null || !last.startsWith('/')) reject(new Error(`scripts/build-collector.sh failed: ${error?.message ?? 'no binary path'}`));
    else resolve(last);
  }),
);
const shipped = parseConfig(await readFile(collectorConfig, 'utf8'));
const equivalents = new Map(((parseYaml(await readFile(`${repoRoot}collector-config/mutation-equivalents.yaml`, 'utf8')) as { mutation: string; reason: string }[] | null) ?? []).map((e) => [e.mutation, e.reason]));
const lists = exampleCatalogLists();
const dir = await mkdtemp(join(tmpdir(), 'headcount-mutate-'));
const deadPort = await freePort();

async function probe(config: Config, probes: typeof PROBES, name: string): Promise<string[]> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, renderConfig(config));
  const pseudonymised = Object.values(config.service.pipelines).some((p) => p.processors?.includes('transform/sanitize'));
  let col;
  try {
    col = await startCollector(collectorBinary, { prometheusUrl: `http://127.0.0.1:${deadPort}`, tokens: [TOKEN], allowLists: lists, config: file });
  } catch (error) {
    return [`the collector did not start: ${(error as Error).message.split('\n')[0] ?? ''}`];
  }
  try {
    const outcome = await runProbes(col, probes, lists, TOKEN, { pseudonymised, timeoutMs: 15_000 });
    return [...outcome.broken, ...outcome.found];
  } finally {
    await stopAll(col);
  }
}

const all = mutations(shipped).filter((m) => values.only === undefined || m.id.includes(values.only));
const started = Date.now();
const results: { m: Mutation; noticed: string[] }[] = [];
let next = 0;
async function worker(w: number): Promise<void> {
  while (next < all.length) {
    const index = next++;
    const m = all[index];
    if (m === undefined) return;
    const mutated = structuredClone(shipped);
    m.apply(mutated);
    const own = PROBES.filter((p) => p.gate === m.gate);
    let noticed = await probe(gateAlone(mutated, m.gate === 'auth' ? undefined : m.gate), own, `w${w}-alone`);
    if (noticed.length === 0) noticed = await probe(mutated, PROBES.filter((p) => p.aloneOnly !== true), `w${w}-full`);
    results.push({ m, noticed });
    const mark = noticed.length > 0 ? 'noticed  ' : equivalents.has(m.id) ? 'equivalent' : 'UNNOTICED';
    process.stdout.write(`[${results.length}/${all.length}] ${mark} ${m.id}${noticed[0] ? `\n      by: ${noticed[0]}` : ''}\n`);
  }
}
try {
  await Promise.all(Array.from({ length: jobs }, (_, w) => worker(w)));
} finally {
  await rm(dir, { recursive: true, force: true });
}

const unnoticed = results.filter((r) => r.noticed.length === 0 && !equivalents.has(r.m.id));
const equivalent = results.filter((r) => r.noticed.length === 0 && equivalents.has(r.m.id));
const staleEquivalents = results.filter((r) => r.noticed.length > 0 && equivalents.has(r.m.id));
console.log(`\nconfig mutations: ${results.length} tried, ${results.length - unnoticed.length - equivalent.length} noticed, ${equivalent.length} listed as equivalent, ${unnoticed.length} unnoticed (${Math.round((Date.now() - started) / 1000)} s)`);
for (const r of unnoticed) console.log(`  UNNOTICED: ${r.m.id}`);
for (const r of staleEquivalents) console.log(`  listed as equivalent but noticed (remove it from mutation-equivalents.yaml): ${r.m.id}`);
const unknown = [...equivalents.keys()].filter((id) => values.only === undefined && !results.some((r) => r.m.id === id));
for (const id of unknown) console.log(`  listed as equivalent but no such mutation (remove it): ${id}`);
process.exitCode = unnoticed.length > 0 || staleEquivalents.length > 0 || unknown.length > 0 ? 1 : 0;
