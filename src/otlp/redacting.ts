/**
 * The redacting processors: every attribute on the resource, every metric data point and every
 * log record passes the catalog's fail-closed allow-list, and every string value passes the
 * scrubbers. A caught attribute is dropped whole and counted (key and reason, never the value).
 * Metrics go through an exporter wrapper, logs through a LogRecordProcessor: both real OTel
 * extension points, so nothing reaches serialisation without passing them.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { MetricData, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { scrubReason } from '../redact.ts';
import type { RedactionCounter, Where } from './redaction-counter.ts';
import { FEATURE_EVENT, HEARTBEAT_METRIC, SCOPE_NAME, type AllowList, type Validator } from './allowlist.ts';

/** Filters one attribute set against `allowed`, counting every drop. */
export function redactAttributes(
  attributes: Attributes,
  allowed: ReadonlyMap<string, Validator>,
  where: Where,
  counter: RedactionCounter,
): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    const verdict = checkValue(key, value, allowed.get(key));
    if (verdict === undefined) out[key] = value;
    else counter.add(where, key, verdict);
  }
  return out;
}

function checkValue(key: string, value: unknown, validator: Validator | undefined): string | undefined {
  if (validator === undefined) return 'key-not-allowed';
  if (typeof value !== 'string') return 'not-a-string';
  const scrub = scrubReason(value);
  if (scrub !== undefined) return scrub;
  if (!validator(value)) return 'value-not-allowed';
  return key.length > 0 ? undefined : 'key-not-allowed';
}

export function redactResource(resource: Resource, allow: AllowList, counter: RedactionCounter): Resource {
  return resourceFromAttributes(redactAttributes(resource.attributes, allow.resource, 'resource', counter));
}

/** Returns a copy of `rm` holding only the heartbeat metric, with redacted resource and points. */
export function redactResourceMetrics(rm: ResourceMetrics, allow: AllowList, counter: RedactionCounter): ResourceMetrics {
  const scopeMetrics = rm.scopeMetrics
    .filter((sm) => sm.scope.name === SCOPE_NAME)
    .map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics
        .filter((m) => m.descriptor.name === HEARTBEAT_METRIC)
        .map((m) => ({
          ...m,
          dataPoints: m.dataPoints.map((dp) => ({
            ...dp,
            attributes: redactAttributes(dp.attributes, allow.heartbeat, 'metric', counter),
          })),
        }) as MetricData),
    }));
  return { resource: redactResource(rm.resource, allow, counter), scopeMetrics };
}

/**
 * A PushMetricExporter that redacts, then hands the result to `next`. Headcount's own
 * delivery (serialise, compress, POST with its retry policy) sits behind it.
 */
export class RedactingMetricExporter implements PushMetricExporter {
  readonly #next: PushMetricExporter;
  readonly #allow: AllowList;
  readonly #counter: RedactionCounter;

  constructor(next: PushMetricExporter, allow: AllowList, counter: RedactionCounter) {
    this.#next = next;
    this.#allow = allow;
    this.#counter = counter;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.#next.export(redactResourceMetrics(metrics, this.#allow, this.#counter), resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.#next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#next.shutdown();
  }
}

/**
 * A LogRecordProcessor that drops records other than bare feature events, redacts attributes, then passes the record on to `next`.
 */
export class RedactingLogRecordProcessor implements LogRecordProcessor {
  readonly #next: LogRecordProcessor;
  readonly #allow: AllowList;
  readonly #counter: RedactionCounter;

  constructor(next: LogRecordProcessor, allow: AllowList, counter: RedactionCounter) {
    this.#next = next;
    this.#allow = allow;
    this.#counter = counter;
  }

  onEmit(record: ReadWriteLogRecord): void {
    if (record.eventName !== FEATURE_EVENT) {
      this.#counter.add('log', 'eventName', 'event-not-allowed');
      return;
    }
    // Feature events carry no free text: a body or severity means something else got in.
    if (record.body !== undefined || record.severityText !== undefined || record.severityNumber !== undefined) {
      this.#counter.add('log', 'body', 'free-text-not-allowed');
      return;
    }
    const kept = redactAttributes(record.attributes, this.#allow.feature, 'log', this.#counter);
    // A feature record without its name or its count says nothing: drop it rather than send half.
    if (Object.keys(kept).length !== this.#allow.feature.size) {
      this.#counter.add('log', 'record', 'incomplete-record');
      return;
    }
    // Trace context is not on the list: whatever context the record was emitted in, none leaves.
    if (record.spanContext !== undefined) {
      this.#counter.add('log', 'spanContext', 'trace-context-not-allowed');
      (record as { spanContext?: ReadWriteLogRecord['spanContext'] | undefined }).spanContext = undefined;
    }
    const attributes: Attributes = record.attributes;
    for (const key of Object.keys(attributes)) {
      if (!(key in kept)) delete attributes[key];
    }
    this.#next.onEmit(record);
  }

  forceFlush(): Promise<void> {
    return this.#next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#next.shutdown();
  }
}
