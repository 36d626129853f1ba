/**
 * Heartbeat size: Headcount's `preview()` of a 10-quantity + 5-flag catalog (the built package),
 * against a baseline made in the same run with the stock OTel metrics SDK: one observable gauge
 * per quantity/flag carrying the raw value, same resource, same OTLP protobuf serializer, same
 * wire encoding (transport.ts: deflate, level 9). That is what "just use OTel gauges" would put
 * on the wire.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { OnDemandReader } from '../src/otlp/sdk-pipeline.ts';
import { encodeBody } from '../src/transport.ts';
import type * as Api from '../src/index.ts';
import type { AppSpec } from './app-spec.ts';
import type { Sink } from './sink-server.ts';

export interface BodySizes {
  readonly wireBytes: number;
  readonly protobufBytes: number;
  /** Size of the feature-events (logs) request when two features were used, if any. */
  readonly logsWireBytes?: number;
  readonly resource: Record<string, string>;
}

interface ReadableMetrics {
  resourceMetrics?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] } }[];
}

export async function headcountSizes(api: typeof Api, app: AppSpec): Promise<BodySizes> {
  const stateDir = mkdtempSync(join(tmpdir(), 'headcount-bench-bytes-'));
  try {
    const options = {
      product: app.product,
      version: app.version,
      catalog: api.defineCatalog(app.catalog),
      collect: () => app.report,
      env: {}, // no token: preview while off writes and sends nothing
      stateDir,
      log: () => undefined,
    };
    const preview = await api.createHeadcount(options).preview();
    const metrics = preview.requests.find((r) => r.signal === 'metrics');
    if (metrics === undefined) throw new Error('preview has no metrics request');
    const attrs = (metrics.readable as ReadableMetrics).resourceMetrics?.[0]?.resource?.attributes ?? [];
    const resource = Object.fromEntries(attrs.map((a) => [a.key, a.value.stringValue ?? '']));

    // Same heartbeat plus two used features: the second (logs) request a real day would add.
    const withFeatures = api.createHeadcount(options);
    for (const name of Object.keys(app.catalog.features ?? {}).slice(0, 2)) withFeatures.feature(name);
    const logs = (await withFeatures.preview()).requests.find((r) => r.signal === 'logs');
    return {
      wireBytes: metrics.wireBytes,
      protobufBytes: metrics.body.byteLength,
      ...(logs === undefined ? {} : { logsWireBytes: logs.wireBytes }),
      resource,
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}


/** The naive OTel encoding of the same report: one gauge per quantity/flag with its raw value. */
export async function naiveOtelSizes(app: AppSpec, resource: Record<string, string>): Promise<{ wireBytes: number; protobufBytes: number }> {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  const meter = provider.getMeter(app.product, app.version);
  for (const [name, value] of Object.entries(app.report.quantities ?? {})) {
    meter.createObservableGauge(`${app.product}.${name}`).addCallback((r) => r.observe(value));
  }
  for (const [name, value] of Object.entries(app.report.flags ?? {})) {
    meter.createObservableGauge(`${app.product}.${name}`).addCallback((r) => r.observe(value ? 1 : 0));
  }
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  if (body === undefined) throw new Error('serialisation failed');
  return { wireBytes: encodeBody(body).byteLength, protobufBytes: body.byteLength };
}

/**
 * The same heartbeat really sent (telemetry on, fresh state dir) to the loopback sink: the
 * body size as the sink received it. Unlike preview() before any send, it carries a random
 * install id (preview shows an all-zero placeholder id, which compresses better).
 */
export async function sentWireBytes(api: typeof Api, app: AppSpec, sink: Sink): Promise<number> {
  const stateDir = mkdtempSync(join(tmpdir(), 'headcount-bench-sent-'));
  try {
    const h = api.createHeadcount({
      product: app.product,
      version: app.version,
      catalog: api.defineCatalog(app.catalog),
      collect: () => app.report,
      env: { ACME_TELEMETRY_TOKEN: 'bench-token-123', ACME_TELEMETRY_ENDPOINT: sink.url, ACME_TELEMETRY_FORCE: '1' },
      stateDir,
      log: () => undefined,
    });
    const before = sink.requests.length;
    const outcome = await h.sendNow();
    await h.shutdown({ timeoutMs: 500 });
    const got = sink.requests.slice(before).find((r) => r.path === '/v1/metrics');
    if (!outcome.sent || got === undefined) throw new Error(`heartbeat not sent: ${outcome.reason}`);
    return got.bytes;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
