/**
 * One probe per class of data each privacy gate of collector-config/otelcol.yaml stops, and the
 * machinery to run them against a collector whose exporter cannot deliver: everything that got
 * past the gates then sits in the persistent queue, and the queue file's bytes are searched for
 * each probe's needles. A needle found = the class reached the disk.
 *
 * Used three ways: each gate alone (every other gate removed from the pipelines) must stop its
 * own probes; the shipped config minus one gate must still stop them (the next layer holds) -
 * test/collector/gates.test.ts; and scripts/mutate-config.ts removes every processor, statement
 * and condition in turn and requires some probe to notice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { CollectorLists } from '../../src/collector-env.ts';
import type { Collector } from '../../scripts/stack/processes.ts';
import { postOtlp } from '../helpers/otlp-requests.ts';
import { kv, logsProto, metricsProto, str, type KeyValue, type LogRecord, type Metric, type Resource, type ResourceLogs, type ResourceMetrics } from '../adversarial/otlp-wire.ts';

/** Processors that are privacy gates; "alone" configs keep one and drop the others. */
export const GATE_PROCESSORS = ['redaction', 'transform/sanitize', 'transform/catalog', 'filter/schema', 'transform/labels', 'groupbyattrs/compact', 'transform/feature_resource'] as const;
export type Gate = (typeof GATE_PROCESSORS)[number] | 'auth';

interface Built {
  readonly signal: 'metrics' | 'logs';
  readonly resources: (ResourceMetrics | ResourceLogs)[];
  /** Strings that must not be in the queue file. */
  readonly needles: string[];
  /** Send without a token (the auth probe). */
  readonly noToken?: boolean;
  /** Strings that must be in the queue file (a valid record that must arrive). */
  readonly expect?: string[];
}

export interface Probe {
  readonly gate: Gate;
  readonly name: string;
  /** A valid record that must arrive (checked through `expect`), no needle. */
  readonly positive?: true;
  /**
   * Meaningful only with its gate alone: an earlier stage cleans the record and keeps it, so
   * with the other gates present its needle arrives legitimately.
   */
  readonly aloneOnly?: true;
  readonly build: (ctx: ProbeContext) => Built;
}

export interface ProbeContext {
  readonly lists: CollectorLists;
  readonly key: string;
  /** A fresh token: `zqxp` + counter + `k` (lower case, name-shaped). */
  readonly token: () => string;
  /**
   * A valid install id for the config under test: a UUID v4 where transform/sanitize
   * pseudonymises it, else an id already in the pseudonym's shape (filter/schema wants one).
   */
  readonly id: () => string;
}

const ascii8 = (s: string) => Buffer.from(s.padEnd(8, '_').slice(0, 8)).readBigUInt64LE(0).toString();
const rawPseudonym = (key: string, id: string) => createHash('sha256').update(`${key}:${id}`).digest('hex').slice(0, 32);

function base(ctx: ProbeContext, id = ctx.id()): { resource: Resource; point: KeyValue[]; metric: Metric; log: LogRecord; id: string } {
  const quantity = ctx.lists.heartbeatKeys.find((k) => k.startsWith('quantity.')) ?? 'quantity.users';
  return {
    id,
    resource: {
      attributes: [
        kv('service.name', ctx.lists.products[0] ?? 'acme'),
        kv('service.version', '1.2.3'),
        kv('service.instance.id', id),
        kv('headcount.channel', 'stable'),
        kv('headcount.deployment', 'container'),
        kv('headcount.schema', '1'),
        kv('os.type', 'linux'),
        kv('host.arch', 'amd64'),
        kv('process.runtime.name', 'nodejs'),
        kv('process.runtime.version', '22.23'),
      ],
    },
    point: [kv(quantity, '10-99')],
    metric: { name: 'headcount.heartbeat', gauge: { dataPoints: [] } },
    log: { eventName: 'headcount.feature', attributes: [kv('feature.name', ctx.lists.features[0] ?? 'export'), kv('feature.uses', '1-9')] },
  };
}

const set = (list: KeyValue[], key: string, value: string) => {
  const i = list.findIndex((a) => a.key === key);
  if (i >= 0) list[i] = kv(key, value);
  else list.push(kv(key, value));
};

/** A heartbeat: `spoil` changes the base record; returns the needles. */
function heartbeat(ctx: ProbeContext, spoil: (b: ReturnType<typeof base>, t: string) => string[]): Built {
  const b = base(ctx);
  const t = ctx.token();
  const needles = spoil(b, t);
  if (b.metric.gauge && b.metric.gauge.dataPoints.length === 0) b.metric.gauge.dataPoints.push({ attributes: b.point, asInt: '1' });
  return { signal: 'metrics', resources: [{ resource: b.resource, scopeMetrics: [{ scope: { name: 'headcount' }, metrics: [b.metric] }] }], needles };
}

function feature(ctx: ProbeContext, spoil: (b: ReturnType<typeof base>, t: string) => string[]): Built {
  const b = base(ctx);
  const t = ctx.token();
  const needles = spoil(b, t);
  return { signal: 'logs', resources: [{ resource: b.resource, scopeLogs: [{ scope: { name: 'headcount' }, logRecords: [b.log] }] }], needles };
}

const resourceValue = (gate: Gate, key: string, value: (t: string) => string): Probe[] => [
  { gate, name: `${key} value (heartbeat)`, build: (ctx) => heartbeat(ctx, (b, t) => (set(b.resource.attributes, key, value(t)), [t])) },
  { gate, name: `${key} value (feature)`, build: (ctx) => feature(ctx, (b, t) => (set(b.resource.attributes, key, value(t)), [t])) },
];

export const PROBES: readonly Probe[] = [
  // auth: a request without a token stores nothing
  { gate: 'auth', name: 'no token', build: (ctx) => ({ ...heartbeat(ctx, (b, t) => (set(b.resource.attributes, 'service.version', '1.2.3'), b.point.push(kv('quantity.nope', '1-9')), [t, 'quantity.nope'])), noToken: true }) },
  { gate: 'auth', name: 'no token (feature)', build: (ctx) => ({ ...feature(ctx, (b) => [rawPseudonym(ctx.key, b.id), b.id]), noToken: true }) },

  // redaction: unknown keys anywhere; IP / email shaped values in allowed keys
  { gate: 'redaction', name: 'unknown resource key', build: (ctx) => heartbeat(ctx, (b, t) => (b.resource.attributes.push(kv(`host.${t}`, t)), [t])) },
  { gate: 'redaction', name: 'unknown data point key', build: (ctx) => heartbeat(ctx, (b, t) => (b.point.push(kv(`user.${t}`, t)), [t])) },
  { gate: 'redaction', name: 'unknown resource key (feature)', build: (ctx) => feature(ctx, (b, t) => (b.resource.attributes.push(kv(`user.${t}`, t)), [t])) },
  { gate: 'redaction', name: 'IPv4 in an allowed value', build: (ctx) => heartbeat(ctx, (b) => (set(b.resource.attributes, 'os.type', '203.0.113.71'), ['203.0.113.71'])) },
  { gate: 'redaction', name: 'IPv6 in an allowed value', build: (ctx) => heartbeat(ctx, (b) => (set(b.resource.attributes, 'host.arch', '2001:db8::71'), ['2001:db8::71'])) },
  { gate: 'redaction', name: 'email in an allowed value', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.resource.attributes, 'headcount.deployment', `${t}@example.com`), [t])) },

  // transform/sanitize: values, duplicates, pseudonym, cleared fields
  { gate: 'transform/sanitize', name: 'unknown resource key (rebuild)', build: (ctx) => heartbeat(ctx, (b, t) => (b.resource.attributes.push(kv(`x.${t}`, t)), [t])) },
  { gate: 'transform/sanitize', name: 'duplicate resource key', build: (ctx) => heartbeat(ctx, (b, t) => (b.resource.attributes.push(kv('headcount.channel', `dup${t}`)), [t])) },
  { gate: 'transform/sanitize', name: 'service.name shape', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.resource.attributes, 'service.name', `${t.toUpperCase()}.x`), [t])) },
  { gate: 'transform/sanitize', name: 'service.version pre-release', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.resource.attributes, 'service.version', `1.2.3-${t}`), [t])) },
  { gate: 'transform/sanitize', name: 'malformed install id is dropped, not hashed', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.resource.attributes, 'service.instance.id', t), [t, rawPseudonym(ctx.key, t)])) },
  ...resourceValue('transform/sanitize', 'headcount.channel', (t) => t),
  ...resourceValue('transform/sanitize', 'headcount.deployment', (t) => t),
  ...resourceValue('transform/sanitize', 'os.type', (t) => t),
  ...resourceValue('transform/sanitize', 'host.arch', (t) => t),
  ...resourceValue('transform/sanitize', 'process.runtime.name', (t) => t),
  ...resourceValue('transform/sanitize', 'process.runtime.version', (t) => `22.${t}`),
  { gate: 'transform/sanitize', name: 'install id pseudonymised (heartbeat)', build: (ctx) => heartbeat(ctx, (b) => { const id = randomUUID(); set(b.resource.attributes, 'service.instance.id', id); return [id]; }) },
  { gate: 'transform/sanitize', name: 'install id pseudonymised (feature)', build: (ctx) => feature(ctx, (b) => { const id = randomUUID(); set(b.resource.attributes, 'service.instance.id', id); return [id]; }) },
  { gate: 'transform/sanitize', name: 'resource schema url', build: (ctx) => { const h = heartbeat(ctx, () => []); const t = ctx.token(); (h.resources[0] as ResourceMetrics).schemaUrl = `https://x/${t}`; return { ...h, needles: [t] }; } },
  { gate: 'transform/sanitize', name: 'scope name, version, schema url, attributes', build: (ctx) => {
    const h = heartbeat(ctx, () => []);
    const [a, v, s, k] = [ctx.token(), ctx.token(), ctx.token(), ctx.token()];
    const sm = (h.resources[0] as ResourceMetrics).scopeMetrics[0];
    if (sm) Object.assign(sm, { scope: { name: a, version: v, attributes: [kv('a', k)] }, schemaUrl: `https://x/${s}` });
    return { ...h, needles: [a, v, s, k] };
  } },
  { gate: 'transform/sanitize', name: 'metric unit', build: (ctx) => heartbeat(ctx, (b, t) => ((b.metric.unit = t), [t])) },
  { gate: 'transform/sanitize', name: 'metric description', build: (ctx) => heartbeat(ctx, (b, t) => ((b.metric.description = t), [t])) },
  { gate: 'transform/sanitize', name: 'metric metadata', build: (ctx) => heartbeat(ctx, (b, t) => ((b.metric.metadata = [kv('m', t)]), [t])) },
  { gate: 'transform/sanitize', name: 'data point value (8 chosen bytes)', build: (ctx) => heartbeat(ctx, (b, t) => (b.metric.gauge?.dataPoints.push({ attributes: b.point, asInt: ascii8(t) }), [t.slice(0, 8)])) },
  { gate: 'transform/sanitize', name: 'data point value outside the buckets (attributes cleared)', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.point, b.point[0]?.key ?? 'quantity.users', t), [t])) },
  { gate: 'transform/sanitize', name: 'feature.name shape', build: (ctx) => feature(ctx, (b, t) => (set(b.log.attributes, 'feature.name', `${t.toUpperCase()}-X`), [t])) },
  { gate: 'transform/sanitize', name: 'feature.uses value', build: (ctx) => feature(ctx, (b, t) => (set(b.log.attributes, 'feature.uses', t), [t])) },
  {
    gate: 'transform/sanitize',
    name: 'chosen numbers (flags, dropped counts) cleared, the record kept',
    positive: true,
    build: (ctx) => {
      const version = `7.9.${1000 + Math.floor(Math.random() * 8999)}`;
      const h = heartbeat(ctx, (b) => {
        set(b.resource.attributes, 'service.version', version);
        b.resource.droppedAttributesCount = 7;
        b.metric.gauge?.dataPoints.push({ attributes: b.point, asInt: '1', flags: 1 });
        return [];
      });
      const sm = (h.resources[0] as ResourceMetrics).scopeMetrics[0];
      if (sm) sm.scope = { name: 'headcount', droppedAttributesCount: 7 };
      return { ...h, expect: [version] };
    },
  },
  { gate: 'transform/sanitize', name: 'exemplars', build: (ctx) => heartbeat(ctx, (b, t) => { const u = ctx.token(); b.metric.gauge?.dataPoints.push({ attributes: b.point, asInt: '1', exemplars: [{ filteredAttributes: [kv('user.id', t)], traceId: Buffer.from(u.padEnd(16, '_')).toString('hex'), asDouble: 1 }] }); return [t, u]; }) },

  // transform/catalog: names of the right shape that the catalog does not declare
  { gate: 'transform/catalog', name: 'uncatalogued product (heartbeat)', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.resource.attributes, 'service.name', t), [t])) },
  { gate: 'transform/catalog', name: 'uncatalogued product (feature)', build: (ctx) => feature(ctx, (b, t) => (set(b.resource.attributes, 'service.name', t), [t])) },
  { gate: 'transform/catalog', name: 'uncatalogued quantity and flag', build: (ctx) => heartbeat(ctx, (b, t) => { const u = ctx.token(); b.point.push(kv(`quantity.${t}`, '1-9'), kv(`flag.${u}`, '1')); return [t, u]; }) },
  { gate: 'transform/catalog', name: 'uncatalogued feature', build: (ctx) => feature(ctx, (b, t) => (set(b.log.attributes, 'feature.name', t), [t])) },

  // filter/schema: records outside the model
  { gate: 'filter/schema', name: 'resource with an unknown key', build: (ctx) => heartbeat(ctx, (b, t) => (b.resource.attributes.push(kv(`x.${t}`, 'v')), [t])) },
  { gate: 'filter/schema', name: 'resource with a malformed version', build: (ctx) => feature(ctx, (b, t) => (set(b.resource.attributes, 'service.version', `1.2.3-${t}`), [t])) },
  { gate: 'filter/schema', name: 'resource with a raw install id', build: (ctx) => heartbeat(ctx, (b) => { const id = randomUUID(); set(b.resource.attributes, 'service.instance.id', id); return [id]; }) },
  { gate: 'filter/schema', name: 'unknown metric name', build: (ctx) => heartbeat(ctx, (b, t) => ((b.metric.name = `headcount.${t}`), [t])) },
  { gate: 'filter/schema', name: 'metric type other than gauge', build: (ctx) => heartbeat(ctx, (b, t) => { b.metric = { name: 'headcount.heartbeat', description: t, sum: { dataPoints: [{ attributes: b.point, asInt: '1' }], aggregationTemporality: 2, isMonotonic: true } }; return [t]; }) },
  { gate: 'filter/schema', name: 'data point value outside the buckets', build: (ctx) => heartbeat(ctx, (b, t) => (set(b.point, b.point[0]?.key ?? 'quantity.users', t), [t])) },
  { gate: 'filter/schema', name: 'metric unit or scope not cleared', build: (ctx) => { const h = heartbeat(ctx, (b, t) => ((b.metric.unit = t), [t])); const t = ctx.token(); const sm = (h.resources[0] as ResourceMetrics).scopeMetrics[0]; if (sm) sm.scope = { name: t }; return { ...h, needles: [...h.needles, t] }; } },
  { gate: 'filter/schema', name: 'data point value or exemplars not cleared', build: (ctx) => heartbeat(ctx, (b, t) => { const u = ctx.token(); b.metric.gauge?.dataPoints.push({ attributes: b.point, asInt: ascii8(t), exemplars: [{ filteredAttributes: [kv('e', u)], asDouble: 1 }] }); return [t.slice(0, 8), u]; }) },
  { gate: 'filter/schema', name: 'resource dropped count not cleared', aloneOnly: true, build: (ctx) => { const version = `7.6.${1000 + Math.floor(Math.random() * 8999)}`; return heartbeat(ctx, (b) => (set(b.resource.attributes, 'service.version', version), (b.resource.droppedAttributesCount = 7), [version])); } },
  { gate: 'filter/schema', name: 'feature name of the wrong shape', build: (ctx) => feature(ctx, (b, t) => (set(b.log.attributes, 'feature.name', `${t.toUpperCase()}-X`), [t])) },

  // strip stages after the gates
  { gate: 'transform/labels', name: 'resource cut to product and pseudonym', build: (ctx) => heartbeat(ctx, (b, t) => (b.resource.attributes.push(kv(`k8s.${t}`, t)), [t])) },
  { gate: 'groupbyattrs/compact', name: 'entity references', build: (ctx) => heartbeat(ctx, (b, t) => { const u = ctx.token(); b.resource.entityRefs = [{ type: t, idKeys: ['service.instance.id'], descriptionKeys: [u] }]; return [t, u]; }) },
  { gate: 'transform/feature_resource', name: 'feature counters carry no install id', build: (ctx) => feature(ctx, (b) => [b.id, rawPseudonym(ctx.key, b.id)]) },
];

/**
 * Probe classes that one collector layer stops, and why; gates.test.ts requires exactly these
 * to reach the queue when their gate is removed (every other class has a second layer).
 */
export const SINGLE_LAYER: Readonly<Record<string, string>> = {
  'auth: no token': 'who may send is decided by the token alone (it ships with every install; the content gates still apply)',
  'auth: no token (feature)': 'as above',
  'transform/catalog: uncatalogued product (heartbeat)': 'the lists are the only membership test; the other layers check the name shape (the SDK\'s allow-list is the sender-side layer)',
  'transform/catalog: uncatalogued product (feature)': 'as above',
  'transform/catalog: uncatalogued quantity and flag': 'as above',
  'transform/catalog: uncatalogued feature': 'as above',
  'filter/schema: unknown metric name': 'only filter/schema knows the metric names',
  'groupbyattrs/compact: entity references': 'OTTL cannot reach resource entity references; rebuilding the resource is the only way to drop them',
  'transform/feature_resource: feature counters carry no install id': 'the count connector copies the resource; only this stage cuts it to product, version and channel',
};

// ---- configs ---------------------------------------------------------------------------------

type Config = { processors: Record<string, unknown>; receivers: { otlp: { protocols: { http: Record<string, unknown> } } }; service: { pipelines: Record<string, { processors?: string[] }> } };

export const parseConfig = (text: string): Config => parseYaml(text, { merge: true }) as Config;
export const renderConfig = (config: Config): string => stringifyYaml(config, { aliasDuplicateObjects: false, lineWidth: 0 });

/** `config` with every gate processor but `keep` removed from every pipeline ('auth': none kept). */
export function gateAlone(config: Config, keep: Gate | undefined): Config {
  const copy = structuredClone(config);
  for (const pipeline of Object.values(copy.service.pipelines)) {
    pipeline.processors = (pipeline.processors ?? []).filter((p) => p === keep || !(GATE_PROCESSORS as readonly string[]).includes(p));
  }
  return copy;
}

/** `config` without gate `drop`: the processor out of every pipeline, or no auth. */
export function withoutGate(config: Config, drop: Gate): Config {
  const copy = structuredClone(config);
  if (drop === 'auth') delete copy.receivers.otlp.protocols.http['auth'];
  for (const pipeline of Object.values(copy.service.pipelines)) pipeline.processors = (pipeline.processors ?? []).filter((p) => p !== drop);
  return copy;
}

// ---- running ---------------------------------------------------------------------------------

export interface ProbeOutcome {
  /** `gate: probe name: needle` for each needle found in the queue (or a 2xx without token). */
  readonly found: string[];
  /** Problems with the run itself (a valid control missing from the queue). */
  readonly broken: string[];
}

/** Every file under the queue directory, as latin1 text, lower-cased. */
export async function queueText(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const blobs = await Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name)).then((b) => b.toString('latin1')).catch(() => '')));
  return blobs.join('\n').toLowerCase();
}

/**
 * Sends `probes` (each in its own request) to a collector whose exporter cannot deliver, then a
 * valid marker heartbeat and feature record; when both markers are in the queue file, searches it
 * for every needle. `token` is the collector's bearer token.
 */
export async function runProbes(c: Collector, probes: readonly Probe[], lists: CollectorLists, token: string, options: { pseudonymised: boolean; timeoutMs?: number }): Promise<ProbeOutcome> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  let n = 0;
  const ctx: ProbeContext = {
    lists,
    key: c.pseudonymKey,
    token: () => `zqxp${(n++).toString(36).padStart(4, '0')}${Math.random().toString(36).slice(2, 5)}k`,
    id: () => (options.pseudonymised ? randomUUID() : randomUUID().replaceAll('-', '')),
  };
  const found: string[] = [];
  const broken: string[] = [];
  const checks: { probe: Probe; needles: string[]; expect: string[] }[] = [];
  for (const probe of probes) {
    const built = probe.build(ctx);
    const body = built.signal === 'metrics' ? metricsProto({ resourceMetrics: built.resources as ResourceMetrics[] }) : logsProto({ resourceLogs: built.resources as ResourceLogs[] });
    const res = await postOtlp(c.url, `/v1/${built.signal}`, body, built.noToken ? {} : { token });
    if (built.noToken && res.status < 300) found.push(`${probe.gate}: ${probe.name}: answered ${res.status} without a token`);
    checks.push({ probe, needles: built.needles, expect: built.expect ?? [] });
  }
  // Markers: unique versions on a valid heartbeat and a valid feature record.
  const serial = 1000 + Math.floor(Math.random() * 8999);
  const versions = [`7.7.${serial}`, `7.8.${serial}`];
  // The heartbeat marker carries values no probe uses: each must arrive (an allowed key or label
  // copy removed would lose it).
  const hb = heartbeat(ctx, (b) => {
    set(b.resource.attributes, 'service.version', versions[0] ?? '');
    for (const [k, v] of [['os.type', 'freebsd'], ['host.arch', 's390x'], ['headcount.deployment', 'kubernetes'], ['process.runtime.version', '97.53']] as const) set(b.resource.attributes, k, v);
    const flag = lists.heartbeatKeys.find((k) => k.startsWith('flag.'));
    if (flag !== undefined) b.point.push(kv(flag, '1'));
    return [];
  });
  const ft = feature(ctx, (b) => (set(b.resource.attributes, 'service.version', versions[1] ?? ''), set(b.log.attributes, 'feature.uses', '100k-999k'), []));
  const expected = [...versions, 'freebsd', 's390x', 'kubernetes', '97.53', 'headcount.schema', 'headcount.channel', 'process.runtime.name', 'nodejs', '100k-999k', ...lists.heartbeatKeys.filter((k) => hb.resources.some((r) => JSON.stringify(r).includes(`"${k}"`))), lists.features[0] ?? ''];
  const sendMarker = async (built: Built) => {
    const body = built.signal === 'metrics' ? metricsProto({ resourceMetrics: built.resources as ResourceMetrics[] }) : logsProto({ resourceLogs: built.resources as ResourceLogs[] });
    return (await postOtlp(c.url, `/v1/${built.signal}`, body, { token })).status;
  };
  if ((await sendMarker(ft)) !== 200 || (await sendMarker(hb)) !== 200) return { found, broken: ['a valid marker was refused'] };
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await queueText(c.storageDir);
    const missing = versions.filter((v) => !text.includes(v));
    if (missing.length === 0) break;
    if (Date.now() > deadline) {
      broken.push(`valid markers (versions ${missing.join(', ')}) not in the queue after ${timeoutMs} ms`);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const { probe, needles, expect } of checks) {
    for (const needle of needles) if (text.includes(needle.toLowerCase())) found.push(`${probe.gate}: ${probe.name}: "${needle}" in the queue`);
    for (const value of expect) if (!text.includes(value.toLowerCase())) broken.push(`${probe.gate}: ${probe.name}: valid "${value}" missing from the queue`);
  }
  if (broken.length === 0) for (const value of expected) if (!text.includes(value.toLowerCase())) broken.push(`the valid marker's "${value}" is missing from the queue`);
  return { found, broken };
}

export { str };
