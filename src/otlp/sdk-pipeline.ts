/**
 * Builds the OTLP request bodies for one heartbeat with private OTel providers: a fresh
 * MeterProvider (one observable gauge) and LoggerProvider (feature events) per heartbeat, so
 * nothing global is touched and no stale stream carries over. Bodies go through the redacting
 * exporter/processor, then the OTLP protobuf serialisers the OTel exporters use. `preview()`
 * and a real send both call `buildBodies`, so what an operator previews is what is sent.
 *
 * Loaded through `pipeline.ts`, which imports the SDK in steps (see `loadSdkPipeline`).
 */
import { ROOT_CONTEXT, ValueType } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonLogsSerializer, JsonMetricsSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, MeterProvider, MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { nextTurn } from '../schedule.ts';
import { FEATURE_EVENT, FEATURE_NAME_KEY, FEATURE_USES_KEY, HEARTBEAT_METRIC, SCOPE_NAME, type AllowList } from './allowlist.ts';
import type { Bodies, HeartbeatInput } from './pipeline.ts';
import { RedactingLogRecordProcessor, RedactingMetricExporter, redactResource } from './redacting.ts';
import type { RedactionCounter } from './redaction-counter.ts';

// Stryker disable next-line ConditionalExpression: equivalent, the OTLP JSON serialisers always return bytes (never undefined)
const asJson = (bytes: Uint8Array | undefined): unknown => (bytes === undefined ? undefined : JSON.parse(new TextDecoder().decode(bytes)));

/** Part of this chunk, so zod loads with the SDK at the first heartbeat. */
export { parseReport } from './report-schema.ts';

/** A reader that collects only when asked: the heartbeat schedule is Headcount's own. */
export class OnDemandReader extends MetricReader {
  constructor() {
    // Stryker disable next-line ObjectLiteral: equivalent, cumulative is the SDK's default temporality (and a gauge has none on the wire)
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


/**
 * The bodies of one heartbeat. Built in steps with the event loop let through between them: the
 * first build also compiles the SDK code it runs, which at once would stall the host for ~20 ms.
 * `readable` (OTLP/JSON of the same redacted data) is computed only when read (a preview).
 */
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
  await nextTurn();

  const capture = new CaptureExporter();
  const exporter = new RedactingMetricExporter(capture, allow, counter);
  exporter.export(coarsen(resourceMetrics, input.day), () => undefined);
  const captured = capture.captured;
  // Stryker disable next-line StringLiteral: equivalent, unreachable: export() above calls the capture exporter synchronously
  if (captured === undefined) throw new Error('metrics export failed');
  const metrics = ProtobufMetricsSerializer.serializeRequest(captured);
  // Stryker disable next-line StringLiteral: equivalent, unreachable: the protobuf serialiser always returns bytes
  if (metrics === undefined) throw new Error('metrics serialisation failed');
  const readableMetrics = once(() => asJson(JsonMetricsSerializer.serializeRequest(captured)));

  if (input.features.length === 0) return withReadable({ metrics }, readableMetrics);
  await nextTurn();
  const logCapture = new CaptureLogProcessor();
  const loggerProvider = new LoggerProvider({
    resource: redactResource(resource, allow, counter),
    processors: [new RedactingLogRecordProcessor(logCapture, allow, counter)],
    logRecordLimits: { attributeCountLimit: 8, attributeValueLengthLimit: 64 },
  });
  const logger = loggerProvider.getLogger(SCOPE_NAME, version);
  for (const f of input.features) {
    logger.emit({
      // The root context, never the active one: a heartbeat or shutdown() running inside a host
      // span must not put the host's trace and span ids on the record, whatever its context manager.
      context: ROOT_CONTEXT,
      eventName: FEATURE_EVENT,
      timestamp: f.day,
      observedTimestamp: f.day,
      attributes: { [FEATURE_NAME_KEY]: f.feature, [FEATURE_USES_KEY]: f.uses },
    });
  }
  await loggerProvider.shutdown();
  const records = logCapture.records;
  if (records.length === 0) return withReadable({ metrics }, readableMetrics);
  await nextTurn();
  const logs = ProtobufLogsSerializer.serializeRequest(records);
  // Stryker disable next-line StringLiteral: equivalent, unreachable: the protobuf serialiser always returns bytes
  if (logs === undefined) throw new Error('logs serialisation failed');
  return withReadable({ metrics, logs }, readableMetrics, once(() => asJson(JsonLogsSerializer.serializeRequest(records))));
}

const once = <T>(make: () => T): (() => T) => {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
};

/** The bodies with `readable` as a getter: a real send never serialises to JSON. */
function withReadable(bodies: Omit<Bodies, 'readable'>, metrics: () => unknown, logs?: () => unknown): Bodies {
  return Object.defineProperty({ ...bodies }, 'readable', {
    enumerable: true,
    get: () => (logs === undefined ? { metrics: metrics() } : { metrics: metrics(), logs: logs() }),
  }) as Bodies;
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
