/**
 * Hand-built OTLP requests for the collector tests: well-formed Headcount payloads and hostile
 * ones, as OTLP/JSON (every field reachable) and OTLP/protobuf (via @opentelemetry's own
 * serializers), plus a small HTTP client that can choose its source address.
 */
import { request, type Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';

export type AttrValue = string | number | boolean;
export type Attrs = Readonly<Record<string, AttrValue>>;

/** A fresh install id in the SDK's format (UUID v4, lowercase). */
export const newInstallId = (): string => randomUUID();

/** The labels Prometheus stores for `sdkResource()`'s defaults, besides `job` and `instance`. */
export const SDK_RESOURCE_LABELS: Readonly<Record<string, string>> = {
  service_version: '1.2.3',
  headcount_channel: 'stable',
  headcount_deployment: 'container',
  headcount_schema: '1',
  os_type: 'linux',
  host_arch: 'amd64',
  process_runtime_name: 'nodejs',
  process_runtime_version: '22.23',
};

/** The complete, valid resource the SDK sends. */
export function sdkResource(installId: string, overrides: Attrs = {}): Attrs {
  return {
    'service.name': 'acme',
    'service.version': '1.2.3',
    'headcount.channel': 'stable',
    'os.type': 'linux',
    'host.arch': 'amd64',
    'process.runtime.name': 'nodejs',
    'process.runtime.version': '22.23',
    'headcount.deployment': 'container',
    'service.instance.id': installId,
    'headcount.schema': '1',
    ...overrides,
  };
}

type JsonAnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

function jsonValue(value: AttrValue): JsonAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

export function jsonAttrs(attrs: Attrs): { key: string; value: JsonAnyValue }[] {
  return Object.entries(attrs).map(([key, value]) => ({ key, value: jsonValue(value) }));
}

export interface JsonHeartbeat {
  readonly resource: Attrs;
  readonly points?: readonly Attrs[];
  readonly metricName?: string;
  readonly unit?: string;
  readonly scope?: { name: string; version?: string; attributes?: Attrs };
  readonly timeUnixNano?: string;
  readonly value?: number;
}

/** ExportMetricsServiceRequest (OTLP/JSON) with one or more resources, each one gauge. */
export function heartbeatJson(...items: JsonHeartbeat[]): string {
  return JSON.stringify({
    resourceMetrics: items.map((item) => ({
      resource: { attributes: jsonAttrs(item.resource) },
      scopeMetrics: [
        {
          scope: {
            name: item.scope?.name ?? 'headcount',
            version: item.scope?.version ?? '',
            attributes: jsonAttrs(item.scope?.attributes ?? {}),
          },
          metrics: [
            {
              name: item.metricName ?? 'headcount.heartbeat',
              unit: item.unit ?? '',
              gauge: {
                dataPoints: (item.points ?? [{}]).map((attributes) => ({
                  asInt: String(item.value ?? 1),
                  timeUnixNano: item.timeUnixNano ?? `${BigInt(Date.now()) * 1_000_000n}`,
                  attributes: jsonAttrs(attributes),
                })),
              },
            },
          ],
        },
      ],
    })),
  });
}

export interface JsonFeatures {
  readonly resource: Attrs;
  readonly records: readonly Attrs[];
  readonly eventName?: string;
  readonly scope?: { name: string; attributes?: Attrs };
  readonly body?: string;
}

/** ExportLogsServiceRequest (OTLP/JSON): one `headcount.feature` record per entry. */
export function featuresJson(...items: JsonFeatures[]): string {
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  return JSON.stringify({
    resourceLogs: items.map((item) => ({
      resource: { attributes: jsonAttrs(item.resource) },
      scopeLogs: [
        {
          scope: { name: item.scope?.name ?? 'headcount', attributes: jsonAttrs(item.scope?.attributes ?? {}) },
          logRecords: item.records.map((attributes) => ({
            eventName: item.eventName ?? 'headcount.feature',
            timeUnixNano: `${BigInt(midnight.getTime()) * 1_000_000n}`,
            attributes: jsonAttrs(attributes),
            ...(item.body !== undefined ? { body: { stringValue: item.body } } : {}),
          })),
        },
      ],
    })),
  });
}

const nowHr = (): [number, number] => {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
};

/** OTLP/protobuf heartbeat built with the SDK's own serializer. */
export function heartbeatProto(resource: Attrs, points: readonly Attrs[], metricName = 'headcount.heartbeat', scopeName = 'headcount'): Uint8Array {
  const time = nowHr();
  const request: ResourceMetrics = {
    resource: resourceFromAttributes(resource),
    scopeMetrics: [
      {
        scope: { name: scopeName },
        metrics: [
          {
            descriptor: { name: metricName, description: '', unit: '', valueType: ValueType.INT },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: points.map((attributes) => ({ startTime: time, endTime: time, attributes: attributes, value: 1 })),
          },
        ],
      },
    ],
  };
  const bytes = ProtobufMetricsSerializer.serializeRequest(request);
  if (bytes === undefined) throw new Error('serializer returned nothing');
  return bytes;
}

/** OTLP/protobuf feature records built with the SDK's own serializer. */
export function featuresProto(resource: Attrs, records: readonly Attrs[], scopeAttributes: Attrs = {}, eventName = 'headcount.feature'): Uint8Array {
  const time = nowHr();
  const res = resourceFromAttributes(resource);
  const logs: ReadableLogRecord[] = records.map((attributes) => ({
    hrTime: time,
    hrTimeObserved: time,
    eventName,
    resource: res,
    instrumentationScope: { name: 'headcount', attributes: scopeAttributes },
    attributes: attributes,
    droppedAttributesCount: 0,
  }));
  const bytes = ProtobufLogsSerializer.serializeRequest(logs);
  if (bytes === undefined) throw new Error('serializer returned nothing');
  return bytes;
}

export interface PostOptions {
  readonly token?: string | undefined;
  readonly contentType?: string;
  readonly gzip?: boolean;
  /** Source address of the connection, e.g. 127.0.0.23 (any 127/8 address is loopback). */
  readonly localAddress?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PostResult {
  readonly status: number;
  readonly body: string;
}

/** POSTs an OTLP body; JSON when given a string, protobuf when given bytes. */
export async function postOtlp(baseUrl: string, path: string, payload: string | Uint8Array, options: PostOptions = {}): Promise<PostResult> {
  const raw = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const body = options.gzip === true ? gzipSync(raw) : raw;
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? (typeof payload === 'string' ? 'application/json' : 'application/x-protobuf'),
    'content-length': String(body.byteLength),
    ...options.headers,
  };
  if (options.gzip === true) headers['content-encoding'] = 'gzip';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const url = new URL(path, baseUrl);
  return await new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RawPostOptions {
  /** Keep-alive agent shared by a load's requests (connection reuse, bounded sockets). */
  readonly agent: Agent;
  readonly token: string;
  readonly contentType?: string;
  /** The body's Content-Encoding, if compressed. */
  readonly encoding?: 'gzip' | 'deflate';
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/**
 * POSTs a prepared body with `node:http` (loads, benches, crash tests) and resolves its HTTP
 * status, or 0 when the connection failed, was reset or timed out (the collector is down): the
 * caller retries 0, 429 and 503 as the SDK does. Never rejects.
 */
export function postRaw(url: URL, body: Uint8Array, o: RawPostOptions): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: o.agent,
        timeout: o.timeoutMs ?? 30_000,
        headers: {
          'content-type': o.contentType ?? 'application/x-protobuf',
          ...(o.encoding === undefined ? {} : { 'content-encoding': o.encoding }),
          'content-length': String(body.byteLength),
          authorization: `Bearer ${o.token}`,
          ...o.headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
