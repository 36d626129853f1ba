/**
 * The hostile corpus: every OTLP field a sender controls, each carrying a unique planted token
 * in one of several encodings, inside an otherwise valid Headcount heartbeat or feature record
 * (so each plant travels as deep into the pipeline as a real payload would).
 *
 * Tokens are `zqxjv<4 base36 digits>k`: lower-case and shaped like a catalog name, so a name
 * position (product, quantity/flag key, feature name) is a real test of the catalog lists.
 * Every encoding of every token starts with a fixed prefix (`PATTERNS`) that occurs nowhere
 * else, so a scan of any blob - labels, TSDB files, the queue file, the log - for a handful of
 * patterns finds a leak of any case, whole or in part.
 */
import { randomUUID } from 'node:crypto';
import { kv, str, type AnyValue, type KeyValue, type LogRecord, type LogsRequest, type Metric, type MetricsRequest, type Resource, type ResourceLogs, type ResourceMetrics, type Scope } from './otlp-wire.ts';

const PREFIX = 'zqxjv';
/** Cyrillic look-alikes of z, q, x, j: read as the prefix, are other code points. */
const LOOKALIKE_PREFIX = 'zԛхјv';

export const token = (id: number): string => `${PREFIX}${id.toString(36).padStart(4, '0')}k`;

/** How a token is written into a field. */
export const ENCODINGS = {
  plain: (t: string) => t,
  upper: (t: string) => t.toUpperCase(),
  base64: (t: string) => Buffer.from(t).toString('base64'),
  hex: (t: string) => Buffer.from(t).toString('hex'),
  percent: (t: string) => [...Buffer.from(t)].map((b) => `%${b.toString(16).toUpperCase()}`).join(''),
  lookalike: (t: string) => LOOKALIKE_PREFIX + t.slice(PREFIX.length),
  long: (t: string) => `${'a'.repeat(1500)}${t}${'b'.repeat(500)}`,
  pairs: (t: string) => `1-9 flag.sso_enabled=1 quantity.users="${t}"`,
  email: (t: string) => `${t}@example.com`,
} as const;
export type Encoding = keyof typeof ENCODINGS;

/** Patterns that match the start of any encoding of any token. */
export const PATTERNS: readonly RegExp[] = [
  /zqxjv/i,
  new RegExp(Buffer.from(PREFIX).toString('hex'), 'i'),
  new RegExp(Buffer.from('zqx').toString('base64')), // 'zqx' is 3 bytes: aligned, always encoded the same
  /%7A%71%78%6A%76/i,
  new RegExp(LOOKALIKE_PREFIX),
  // tokenUuid(): the hex prefix cut by the UUID's first dash
  new RegExp(`${Buffer.from(PREFIX).toString('hex').slice(0, 8)}-${Buffer.from(PREFIX).toString('hex').slice(8)}`, 'i'),
];

/** A UUIDv4-shaped install id whose hex digits spell the token (an id chosen by the sender). */
export function tokenUuid(t: string): string {
  const h = Buffer.from(t).toString('hex').padEnd(32, '0').slice(0, 30);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-8${h.slice(15, 18)}-${h.slice(18, 30)}`;
}
/** 16 / 8 bytes for trace and span ids: the token's own bytes (hex-encoded for the wire). */
const traceHex = (t: string) => Buffer.from(t.padEnd(16, '!').slice(0, 16)).toString('hex');
const spanHex = (t: string) => Buffer.from(t.slice(0, 8)).toString('hex');

export interface CatalogNames {
  readonly product: string;
  readonly quantity: string;
  readonly flag: string;
  readonly feature: string;
}

/** A valid heartbeat or feature record, to be spoilt by one field kind. */
interface Carrier {
  resource: Resource;
  scope: Scope;
  schemaUrl?: string;
  scopeSchemaUrl?: string;
  metric: Metric;
  log: LogRecord;
}

function carrier(names: CatalogNames, installId: string): Carrier {
  return {
    resource: {
      attributes: [
        kv('service.name', names.product),
        kv('service.version', '1.2.3'),
        kv('service.instance.id', installId),
        kv('headcount.channel', 'stable'),
        kv('headcount.deployment', 'container'),
        kv('headcount.schema', '1'),
        kv('os.type', 'linux'),
        kv('host.arch', 'amd64'),
        kv('process.runtime.name', 'nodejs'),
        kv('process.runtime.version', '22.23'),
      ],
    },
    scope: { name: 'headcount', version: '1' },
    metric: { name: 'headcount.heartbeat', gauge: { dataPoints: [{ attributes: [kv(`quantity.${names.quantity}`, '10-99'), kv(`flag.${names.flag}`, '1')], asInt: '1', timeUnixNano: String(Date.now() * 1e6) }] } },
    log: { eventName: 'headcount.feature', attributes: [kv('feature.name', names.feature), kv('feature.uses', '1-9')], timeUnixNano: String(Date.now() * 1e6) },
  };
}

const setAttr = (list: KeyValue[], key: string, value: string | AnyValue) => {
  const i = list.findIndex((a) => a.key === key);
  const entry = kv(key, value);
  if (i >= 0) list[i] = entry;
  else list.push(entry);
};
const points = (c: Carrier) => c.metric.gauge?.dataPoints ?? [];

/**
 * Field kinds: where the sender puts the payload. `name` marks positions where only the catalog
 * lists can stop a name-shaped value (the unsafe-any-name run stores those, by design).
 */
interface FieldKind {
  readonly name: string;
  readonly signals: readonly ('metrics' | 'logs')[];
  readonly catalogName?: boolean;
  readonly plant: (c: Carrier, s: string, t: string) => void;
}

const BOTH = ['metrics', 'logs'] as const;
const METRICS = ['metrics'] as const;
const LOGS = ['logs'] as const;

export const FIELD_KINDS: readonly FieldKind[] = [
  // resource
  { name: 'resource.unknown-key value', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv('custom.note', s)) },
  { name: 'resource.key name', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv(`x.${s}`, 'v')) },
  { name: 'resource.host.name', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv('host.name', s)) },
  { name: 'resource.service.name', signals: BOTH, catalogName: true, plant: (c, s) => setAttr(c.resource.attributes, 'service.name', s) },
  { name: 'resource.service.version pre-release', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'service.version', `1.2.3-${s}`) },
  { name: 'resource.service.version build', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'service.version', `1.2.3-rc.1+${s}`) },
  { name: 'resource.headcount.channel', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'headcount.channel', s) },
  { name: 'resource.headcount.deployment', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'headcount.deployment', s) },
  { name: 'resource.headcount.schema', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'headcount.schema', s) },
  { name: 'resource.os.type', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'os.type', s) },
  { name: 'resource.host.arch', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'host.arch', s) },
  { name: 'resource.process.runtime.name', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'process.runtime.name', s) },
  { name: 'resource.process.runtime.version', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'process.runtime.version', `22.${s}`) },
  { name: 'resource.service.instance.id', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'service.instance.id', s) },
  { name: 'resource.duplicate service.version', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv('service.version', `1.2.3-${s}`)) },
  { name: 'resource.duplicate channel', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv('headcount.channel', s)) },
  { name: 'resource.duplicate service.name', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv('service.name', s)) },
  { name: 'resource.duplicate id', signals: BOTH, plant: (c, s) => c.resource.attributes.push(kv('service.instance.id', s)) },
  { name: 'resource.version as kvlist', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'service.version', { kvlistValue: { values: [kv('v', s)] } }) },
  { name: 'resource.os.type as array', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'os.type', { arrayValue: { values: [str(s)] } }) },
  { name: 'resource.deployment as bytes', signals: BOTH, plant: (c, s) => setAttr(c.resource.attributes, 'headcount.deployment', { bytesValue: Buffer.from(s).toString('base64') }) },
  { name: 'resource.entity ref type', signals: BOTH, plant: (c, s) => (c.resource.entityRefs = [{ type: s, idKeys: ['service.instance.id'] }]) },
  { name: 'resource.entity ref keys', signals: BOTH, plant: (c, s) => (c.resource.entityRefs = [{ type: 'service', idKeys: [s], descriptionKeys: [`d.${s}`] }]) },
  { name: 'resource.entity ref schema url', signals: BOTH, plant: (c, s) => (c.resource.entityRefs = [{ type: 'service', schemaUrl: `https://x/${s}` }]) },
  { name: 'resource.schema url', signals: BOTH, plant: (c, s) => (c.schemaUrl = `https://x/${s}`) },
  // scope
  { name: 'scope.name', signals: BOTH, plant: (c, s) => (c.scope.name = s) },
  { name: 'scope.version', signals: BOTH, plant: (c, s) => (c.scope.version = s) },
  { name: 'scope.attribute value', signals: BOTH, plant: (c, s) => (c.scope.attributes = [kv('a', s)]) },
  { name: 'scope.attribute key', signals: BOTH, plant: (c, s) => (c.scope.attributes = [kv(s, 'a')]) },
  { name: 'scope.schema url', signals: BOTH, plant: (c, s) => (c.scopeSchemaUrl = `https://x/${s}`) },
  // metric
  { name: 'metric.description', signals: METRICS, plant: (c, s) => (c.metric.description = s) },
  { name: 'metric.unit', signals: METRICS, plant: (c, s) => (c.metric.unit = s) },
  { name: 'metric.metadata value', signals: METRICS, plant: (c, s) => (c.metric.metadata = [kv('m', s)]) },
  { name: 'metric.metadata key', signals: METRICS, plant: (c, s) => (c.metric.metadata = [kv(s, 'm')]) },
  { name: 'metric.name', signals: METRICS, plant: (c, s) => (c.metric.name = `headcount.${s}`) },
  // data points
  { name: 'datapoint.unknown key value', signals: METRICS, plant: (c, s) => points(c).forEach((p) => p.attributes.push(kv('note', s))) },
  { name: 'datapoint.key name', signals: METRICS, plant: (c, s) => points(c).forEach((p) => p.attributes.push(kv(s, '1'))) },
  { name: 'datapoint.quantity name', signals: METRICS, catalogName: true, plant: (c, s) => points(c).forEach((p) => p.attributes.push(kv(`quantity.${s}`, '1-9'))) },
  { name: 'datapoint.flag name', signals: METRICS, catalogName: true, plant: (c, s) => points(c).forEach((p) => p.attributes.push(kv(`flag.${s}`, '1'))) },
  { name: 'datapoint.quantity value', signals: METRICS, plant: (c, s) => points(c).forEach((p) => setAttr(p.attributes, p.attributes[0]?.key ?? 'quantity.x', s)) },
  { name: 'datapoint.flag value', signals: METRICS, plant: (c, s) => points(c).forEach((p) => setAttr(p.attributes, p.attributes[1]?.key ?? 'flag.x', s)) },
  { name: 'datapoint.duplicate quantity', signals: METRICS, plant: (c, s) => points(c).forEach((p) => p.attributes.push(kv(p.attributes[0]?.key ?? 'quantity.x', s))) },
  { name: 'datapoint.exemplar attribute', signals: METRICS, plant: (c, s) => points(c).forEach((p) => (p.exemplars = [{ filteredAttributes: [kv('user.id', s), kv(s, 'x')], asDouble: 1, timeUnixNano: String(Date.now() * 1e6) }])) },
  { name: 'datapoint.exemplar trace', signals: METRICS, plant: (c, _s, t) => points(c).forEach((p) => (p.exemplars = [{ traceId: traceHex(t), spanId: spanHex(t), asDouble: 1, timeUnixNano: String(Date.now() * 1e6) }])) },
  { name: 'datapoint.value as double', signals: METRICS, plant: (c, s) => points(c).forEach((p) => { delete p.asInt; p.asDouble = 1.5; p.attributes.push(kv('d', s)); }) },
  { name: 'metric.sum', signals: METRICS, plant: (c, s) => (c.metric = { name: 'headcount.heartbeat', sum: { dataPoints: [{ attributes: [kv('quantity.users', s)], asInt: '1' }], aggregationTemporality: 2, isMonotonic: true } }) },
  { name: 'metric.histogram', signals: METRICS, plant: (c, s) => (c.metric = { name: 'headcount.heartbeat', histogram: { dataPoints: [{ attributes: [kv('quantity.users', s)], count: '1', sum: 1, bucketCounts: ['1'], exemplars: [{ filteredAttributes: [kv('e', s)], asDouble: 1 }] }], aggregationTemporality: 2 } }) },
  { name: 'metric.exponential histogram', signals: METRICS, plant: (c, s) => (c.metric = { name: 'headcount.heartbeat', exponentialHistogram: { dataPoints: [{ attributes: [kv('quantity.users', s)], count: '1', scale: 1, positive: { offset: 0, bucketCounts: ['1'] } }], aggregationTemporality: 2 } }) },
  { name: 'metric.summary', signals: METRICS, plant: (c, s) => (c.metric = { name: 'headcount.heartbeat', summary: { dataPoints: [{ attributes: [kv('quantity.users', s)], count: '1', sum: 1, quantileValues: [{ quantile: 0.5, value: 1 }] }] } }) },
  // log records
  { name: 'log.body string', signals: LOGS, plant: (c, s) => (c.log.body = str(s)) },
  { name: 'log.body kvlist', signals: LOGS, plant: (c, s) => (c.log.body = { kvlistValue: { values: [kv(s, s)] } }) },
  { name: 'log.unknown key value', signals: LOGS, plant: (c, s) => c.log.attributes.push(kv('note', s)) },
  { name: 'log.key name', signals: LOGS, plant: (c, s) => c.log.attributes.push(kv(s, 'x')) },
  { name: 'log.feature.name', signals: LOGS, catalogName: true, plant: (c, s) => setAttr(c.log.attributes, 'feature.name', s) },
  { name: 'log.feature.uses', signals: LOGS, plant: (c, s) => setAttr(c.log.attributes, 'feature.uses', s) },
  { name: 'log.duplicate feature.name', signals: LOGS, plant: (c, s) => c.log.attributes.push(kv('feature.name', s)) },
  { name: 'log.duplicate feature.uses', signals: LOGS, plant: (c, s) => c.log.attributes.push(kv('feature.uses', s)) },
  { name: 'log.event name', signals: LOGS, plant: (c, s) => (c.log.eventName = `headcount.${s}`) },
  { name: 'log.severity text', signals: LOGS, plant: (c, s) => (c.log.severityText = s) },
  { name: 'log.trace context', signals: LOGS, plant: (c, _s, t) => Object.assign(c.log, { traceId: traceHex(t), spanId: spanHex(t), flags: 1 }) },
  { name: 'log.feature.name as kvlist', signals: LOGS, plant: (c, s) => setAttr(c.log.attributes, 'feature.name', { kvlistValue: { values: [kv('n', s)] } }) },
];

export interface HostileCase {
  readonly id: number;
  readonly token: string;
  readonly kind: string;
  readonly encoding: Encoding;
  readonly signal: 'metrics' | 'logs';
  readonly format: 'json' | 'protobuf';
  readonly gzip: boolean;
  /** Only the catalog lists stop this case (a name-shaped value in a name position). */
  readonly catalogName: boolean;
  readonly build: (names: CatalogNames) => ResourceMetrics | ResourceLogs;
}

const TRANSPORTS = [
  { format: 'json', gzip: false },
  { format: 'json', gzip: true },
  { format: 'protobuf', gzip: false },
  { format: 'protobuf', gzip: true },
] as const;

/** Every field kind x encoding x signal x transport: one case each. */
export function hostileCorpus(): HostileCase[] {
  const cases: HostileCase[] = [];
  let id = 0;
  for (const kind of FIELD_KINDS) {
    for (const encoding of Object.keys(ENCODINGS) as Encoding[]) {
      for (const signal of kind.signals) {
        for (const transport of TRANSPORTS) {
          const t = token(id);
          const s = kind.name === 'resource.service.instance.id' && encoding === 'plain' ? tokenUuid(t) : ENCODINGS[encoding](t);
          cases.push({
            id,
            token: t,
            kind: kind.name,
            encoding,
            signal,
            ...transport,
            catalogName: kind.catalogName === true && encoding === 'plain',
            build: (names) => {
              const c = carrier(names, randomUUID());
              kind.plant(c, s, t);
              return signal === 'metrics' ? resourceMetrics(c) : resourceLogs(c);
            },
          });
          id++;
        }
      }
    }
  }
  return cases;
}

function resourceMetrics(c: Carrier): ResourceMetrics {
  return { resource: c.resource, scopeMetrics: [{ scope: c.scope, metrics: [c.metric], ...(c.scopeSchemaUrl ? { schemaUrl: c.scopeSchemaUrl } : {}) }], ...(c.schemaUrl ? { schemaUrl: c.schemaUrl } : {}) };
}

function resourceLogs(c: Carrier): ResourceLogs {
  return { resource: c.resource, scopeLogs: [{ scope: c.scope, logRecords: [c.log], ...(c.scopeSchemaUrl ? { schemaUrl: c.scopeSchemaUrl } : {}) }], ...(c.schemaUrl ? { schemaUrl: c.schemaUrl } : {}) };
}

/** A valid heartbeat and feature record with a fresh install id: proves a request got through. */
export function control(names: CatalogNames): { installId: string; metrics: ResourceMetrics; logs: ResourceLogs } {
  const installId = randomUUID();
  const c = carrier(names, installId);
  return { installId, metrics: resourceMetrics(c), logs: resourceLogs(c) };
}

export type { LogsRequest, MetricsRequest };
