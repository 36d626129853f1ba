/**
 * Builds the OTLP request bodies for one heartbeat with private OTel providers: a fresh
 * MeterProvider (one observable gauge) and LoggerProvider (feature events) per heartbeat, so
 * nothing global is touched and no stale stream carries over. Bodies go through the redacting
 * exporter/processor, then the OTLP protobuf serialisers the OTel exporters use. `preview()`
 * and a real send both call `buildBodies`, so what an operator previews is what is sent.
 */
import { ValueType, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonLogsSerializer, JsonMetricsSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, MeterProvider, MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { FEATURE_EVENT, FEATURE_NAME_KEY, FEATURE_USES_KEY, HEARTBEAT_METRIC, SCOPE_NAME, type AllowList } from './allowlist.ts';
import { RedactingLogRecordProcessor, RedactingMetricExporter, redactResource, type RedactionCounter } from './redacting.ts';

export interface FeatureDay {
  /** UTC midnight of the day, ms since epoch. */
  readonly day: number;
  readonly feature: string;
  /** Bucket label of the day's use count (never `0`). */
  readonly uses: string;
}

export interface HeartbeatInput {
  readonly resource: Attributes;
  /** `quantity.*` → bucket label, `flag.*` → `0`/`1`. */
  readonly heartbeat: Attributes;
  readonly features: readonly FeatureDay[];
  /** Timestamps are coarsened to this UTC day (ms since epoch of its midnight). */
  readonly day: number;
}

export interface Bodies {
  /** Uncompressed OTLP protobuf `ExportMetricsServiceRequest`. */
  readonly metrics: Uint8Array;
  /** Uncompressed OTLP protobuf `ExportLogsServiceRequest`, absent when no feature was used. */
  readonly logs?: Uint8Array;
  /** The same redacted requests in OTLP/JSON, for people to read (`headcount preview`). */
  readonly readable: { readonly metrics: unknown; readonly logs?: unknown };
}

const asJson = (bytes: Uint8Array | undefined): unknown => (bytes === undefined ? undefined : JSON.parse(new TextDecoder().decode(bytes)));

/** A reader that collects only when asked: the heartbeat schedule is Headcount's own. */
export class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** The innermost exporter: keeps the redacted ResourceMetrics for serialisation. */
class CaptureExporter implements PushMetricExporter {
  captured: ResourceMetrics | undefined;
  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.captured = metrics;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The innermost log processor: keeps records for serialisation. */
class CaptureLogProcessor implements LogRecordProcessor {
  readonly records: ReadableLogRecord[] = [];
  onEmit(record: ReadableLogRecord): void {
    this.records.push(record);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const toHrTime = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

export async function buildBodies(
  input: HeartbeatInput,
  allow: AllowList,
  counter: RedactionCounter,
  version: string,
): Promise<Bodies> {
  const resource = resourceFromAttributes(input.resource);

  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  // One point per install per heartbeat; its attributes carry the bucketed quantities and flags.
  // No description or unit: they would add bytes to every heartbeat and say nothing new.
  const gauge = meterProvider.getMeter(SCOPE_NAME, version).createObservableGauge(HEARTBEAT_METRIC, { valueType: ValueType.INT });
  gauge.addCallback((result) => result.observe(1, input.heartbeat));
  const { resourceMetrics, errors } = await reader.collect();
  await meterProvider.shutdown();
  if (errors.length > 0) throw new Error('metric collection failed');

  const capture = new CaptureExporter();
  const exporter = new RedactingMetricExporter(capture, allow, counter);
  exporter.export(coarsen(resourceMetrics, input.day), () => undefined);
  if (capture.captured === undefined) throw new Error('metrics export failed');
  const metrics = ProtobufMetricsSerializer.serializeRequest(capture.captured);
  if (metrics === undefined) throw new Error('metrics serialisation failed');
  const readableMetrics = asJson(JsonMetricsSerializer.serializeRequest(capture.captured));

  if (input.features.length === 0) return { metrics, readable: { metrics: readableMetrics } };
  const logCapture = new CaptureLogProcessor();
  const loggerProvider = new LoggerProvider({
    resource: redactResource(resource, allow, counter),
    processors: [new RedactingLogRecordProcessor(logCapture, allow, counter)],
    logRecordLimits: { attributeCountLimit: 8, attributeValueLengthLimit: 64 },
  });
  const logger = loggerProvider.getLogger(SCOPE_NAME, version);
  for (const f of input.features) {
    logger.emit({
      eventName: FEATURE_EVENT,
      timestamp: f.day,
      observedTimestamp: f.day,
      attributes: { [FEATURE_NAME_KEY]: f.feature, [FEATURE_USES_KEY]: f.uses },
    });
  }
  await loggerProvider.shutdown();
  if (logCapture.records.length === 0) return { metrics, readable: { metrics: readableMetrics } };
  const logs = ProtobufLogsSerializer.serializeRequest(logCapture.records);
  if (logs === undefined) throw new Error('logs serialisation failed');
  return { metrics, logs, readable: { metrics: readableMetrics, logs: asJson(JsonLogsSerializer.serializeRequest(logCapture.records)) } };
}

/** Sets every data point's start and end time to the heartbeat's UTC day. */
function coarsen(rm: ResourceMetrics, day: number): ResourceMetrics {
  const t = toHrTime(day);
  return {
    resource: rm.resource,
    scopeMetrics: rm.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map((m) => ({
        ...m,
        dataPoints: m.dataPoints.map((dp) => ({ ...dp, startTime: t, endTime: t })),
      })) as typeof sm.metrics,
    })),
  };
}
