/**
 * The redacting processors one at a time (otlp/redacting.ts), without the SDK pipeline around
 * them: the reason each kind of drop is counted under, what reaches the next exporter or
 * processor, and that flush and shutdown reach it too.
 */
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { allowListFor, FEATURE_EVENT, HEARTBEAT_METRIC, SCOPE_NAME } from '../../src/otlp/allowlist.ts';
import { RedactionCounter } from '../../src/otlp/redaction-counter.ts';
import {
  redactAttributes,
  RedactingLogRecordProcessor,
  RedactingMetricExporter,
  redactResource,
  redactResourceMetrics,
} from '../../src/otlp/redacting.ts';
import options from '../../examples/acme-app/telemetry.ts';

const allow = allowListFor(options.catalog);

describe('redactAttributes: each drop under its own reason', () => {
  it('a declared key with a value that is not a string: not-a-string', () => {
    const counter = new RedactionCounter();
    expect(redactAttributes({ 'quantity.servers': 42, 'flag.sso_enabled': true, 'quantity.users': '1-9' }, allow.heartbeat, 'metric', counter)).toEqual({
      'quantity.users': '1-9',
    });
    expect(counter.entries()).toEqual([
      { where: 'metric', key: 'quantity.servers', reason: 'not-a-string', count: 1 },
      { where: 'metric', key: 'flag.sso_enabled', reason: 'not-a-string', count: 1 },
    ]);
  });

  it('a declared key with a value a scrubber catches: the scrubber names the reason', () => {
    const counter = new RedactionCounter();
    expect(redactAttributes({ 'os.type': 'db1.corp.example.com' }, allow.resource, 'resource', counter)).toEqual({});
    expect(counter.entries()).toEqual([{ where: 'resource', key: 'os.type', reason: 'hostname', count: 1 }]);
  });

  it('the empty key never passes, even where a map would accept it', () => {
    const counter = new RedactionCounter();
    const permissive = new Map<string, (v: string) => boolean>([['', () => true], ['k', () => true]]);
    expect(redactAttributes({ '': 'x', k: 'x' }, permissive, 'metric', counter)).toEqual({ k: 'x' });
    expect(counter.entries()).toEqual([{ where: 'metric', key: '', reason: 'key-not-allowed', count: 1 }]);
  });

  it('the counter is told where the drop happened', () => {
    const counter = new RedactionCounter();
    redactAttributes({ 'host.name': 'x' }, allow.resource, 'log', counter);
    expect(counter.entries()).toEqual([{ where: 'log', key: 'host.name', reason: 'key-not-allowed', count: 1 }]);
  });
});

describe('redactResource and redactResourceMetrics', () => {
  it('a resource keeps only the allowed attributes', () => {
    const counter = new RedactionCounter();
    const r = redactResource(resourceFromAttributes({ 'service.name': 'acme', 'host.name': 'db1' }), allow, counter);
    expect(r.attributes).toEqual({ 'service.name': 'acme' });
    expect(counter.total).toBe(1);
  });

  it("only the heartbeat metric of Headcount's own scope is kept, its points redacted", () => {
    const counter = new RedactionCounter();
    const point = (attributes: Record<string, unknown>) => ({ attributes, startTime: [0, 0], endTime: [0, 0], value: 1 });
    const metric = (name: string, attributes: Record<string, unknown>) => ({
      descriptor: { name, description: '', unit: '', type: 'OBSERVABLE_GAUGE', valueType: 1 },
      aggregationTemporality: 1,
      dataPointType: 2,
      dataPoints: [point(attributes)],
    });
    const rm = {
      resource: resourceFromAttributes({ 'service.name': 'acme', 'host.name': 'db1' }),
      scopeMetrics: [
        { scope: { name: SCOPE_NAME, version: '1' }, metrics: [metric(HEARTBEAT_METRIC, { 'quantity.servers': '10-99', 'user.id': 'u1' }), metric('other.metric', {})] },
        { scope: { name: 'host-app' }, metrics: [metric(HEARTBEAT_METRIC, { 'quantity.servers': '1-9' })] },
      ],
    } as unknown as ResourceMetrics;
    const out = redactResourceMetrics(rm, allow, counter);
    expect(out.resource.attributes).toEqual({ 'service.name': 'acme' });
    expect(out.scopeMetrics).toHaveLength(1);
    expect(out.scopeMetrics[0]!.scope).toEqual({ name: SCOPE_NAME, version: '1' });
    expect(out.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name)).toEqual([HEARTBEAT_METRIC]);
    expect(out.scopeMetrics[0]!.metrics[0]!.dataPoints.map((dp) => dp.attributes)).toEqual([{ 'quantity.servers': '10-99' }]);
    expect(out.scopeMetrics[0]!.metrics[0]!.dataPoints[0]).toMatchObject({ value: 1, startTime: [0, 0] });
    expect(counter.entries()).toEqual([
      { where: 'metric', key: '<redacted key>', reason: 'key-not-allowed', count: 1 },
      { where: 'resource', key: 'host.name', reason: 'key-not-allowed', count: 1 },
    ]);
  });
});

describe('RedactingMetricExporter', () => {
  it('hands the redacted metrics and the result callback to the next exporter; flush and shutdown reach it', async () => {
    const calls: string[] = [];
    let exported: ResourceMetrics | undefined;
    const next: PushMetricExporter = {
      export: (m, cb) => {
        exported = m;
        cb({ code: 0 });
      },
      forceFlush: () => (calls.push('flush'), Promise.resolve()),
      shutdown: () => (calls.push('shutdown'), Promise.resolve()),
    };
    const counter = new RedactionCounter();
    const exporter = new RedactingMetricExporter(next, allow, counter);
    const results: unknown[] = [];
    exporter.export({ resource: resourceFromAttributes({ 'host.name': 'db1', 'os.type': 'linux' }), scopeMetrics: [] }, (r) => results.push(r));
    expect(results).toEqual([{ code: 0 }]);
    expect(exported?.resource.attributes).toEqual({ 'os.type': 'linux' });
    expect(counter.total).toBe(1);
    await exporter.forceFlush();
    await exporter.shutdown();
    expect(calls).toEqual(['flush', 'shutdown']);
  });
});

describe('RedactingLogRecordProcessor', () => {
  function setup() {
    const kept: ReadWriteLogRecord[] = [];
    const calls: string[] = [];
    const next: LogRecordProcessor = {
      onEmit: (r) => void kept.push(r),
      forceFlush: () => (calls.push('flush'), Promise.resolve()),
      shutdown: () => (calls.push('shutdown'), Promise.resolve()),
    };
    const counter = new RedactionCounter();
    const processor = new RedactingLogRecordProcessor(next, allow, counter);
    const provider = new LoggerProvider({ processors: [processor] });
    return { kept, calls, counter, processor, logger: provider.getLogger(SCOPE_NAME), provider };
  }
  const feature = { 'feature.name': 'export_csv', 'feature.uses': '1-9' };

  it('a record that is not a feature event is dropped whole and counted', () => {
    const { kept, counter, logger } = setup();
    logger.emit({ eventName: 'host.event', attributes: feature });
    logger.emit({ attributes: feature });
    expect(kept).toEqual([]);
    expect(counter.entries()).toEqual([{ where: 'log', key: 'eventName', reason: 'event-not-allowed', count: 2 }]);
  });

  it('a feature event with a body, a severity text or a severity number is dropped as free text', () => {
    const { kept, counter, logger } = setup();
    logger.emit({ eventName: FEATURE_EVENT, attributes: feature, body: 'hello' });
    logger.emit({ eventName: FEATURE_EVENT, attributes: feature, severityText: 'INFO' });
    logger.emit({ eventName: FEATURE_EVENT, attributes: feature, severityNumber: 9 });
    expect(kept).toEqual([]);
    expect(counter.entries()).toEqual([{ where: 'log', key: 'body', reason: 'free-text-not-allowed', count: 3 }]);
  });

  it('a feature event missing its name or count, or with a bad one, is dropped rather than sent in half', () => {
    const { kept, counter, logger } = setup();
    logger.emit({ eventName: FEATURE_EVENT, attributes: { 'feature.name': 'export_csv' } });
    logger.emit({ eventName: FEATURE_EVENT, attributes: { 'feature.name': 'export_csv', 'feature.uses': '0' } });
    expect(kept).toEqual([]);
    expect(counter.entries()).toEqual([
      { where: 'log', key: 'record', reason: 'incomplete-record', count: 2 },
      { where: 'log', key: 'feature.uses', reason: 'value-not-allowed', count: 1 },
    ]);
  });

  it('a complete feature event goes on with only its allowed attributes, others counted', () => {
    const { kept, counter, logger } = setup();
    logger.emit({ eventName: FEATURE_EVENT, attributes: { ...feature, 'user.id': 'u1' } });
    expect(kept).toHaveLength(1);
    expect(kept[0]!.attributes).toEqual(feature);
    expect(kept[0]!.eventName).toBe(FEATURE_EVENT);
    expect(counter.entries()).toEqual([{ where: 'log', key: '<redacted key>', reason: 'key-not-allowed', count: 1 }]);
    expect(counter.total).toBe(1);
  });

  it('a clean feature event is passed on untouched, nothing counted', () => {
    const { kept, counter, logger } = setup();
    logger.emit({ eventName: FEATURE_EVENT, attributes: feature });
    expect(kept.map((r) => r.attributes)).toEqual([feature]);
    expect(kept[0]!.spanContext).toBeUndefined();
    expect(counter.total).toBe(0);
  });

  it('flush and shutdown reach the next processor', async () => {
    const { calls, processor } = setup();
    await processor.forceFlush();
    await processor.shutdown();
    expect(calls).toEqual(['flush', 'shutdown']);
  });
});
