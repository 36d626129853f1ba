/**
 * The heartbeat bodies the SDK pipeline builds (otlp/sdk-pipeline.ts `buildBodies`), for the
 * promises the end-to-end tests do not reach: a failed collection fails the build instead of
 * sending an empty heartbeat, the day is written to the nanosecond, and a feature value is cut by
 * the SDK's own limit before the redacting processor judges it.
 */
import { describe, expect, it } from 'vitest';
import { allowListFor } from '../../src/otlp/allowlist.ts';
import { RedactionCounter } from '../../src/otlp/redaction-counter.ts';
import { buildBodies } from '../../src/otlp/sdk-pipeline.ts';
import options from '../../examples/acme-app/telemetry.ts';

const allow = allowListFor(options.catalog);
const resource = { 'service.name': 'acme' };

describe('buildBodies (SDK pipeline)', () => {
  it('a heartbeat whose attributes cannot be read fails the build: no body without its point', async () => {
    const heartbeat: Record<string, string> = {};
    Object.defineProperty(heartbeat, 'quantity.servers', {
      enumerable: true,
      get() {
        throw new Error('host bug');
      },
    });
    await expect(buildBodies({ resource, heartbeat, features: [], day: 0 }, allow, new RedactionCounter(), '1.0.0')).rejects.toThrow(
      'metric collection failed',
    );
  });

  it('the data point and the feature records carry exactly the given day, to the nanosecond', async () => {
    // Not a midnight on purpose: every millisecond must come through as it is.
    const day = Date.UTC(2026, 0, 1) + 1_250;
    const bodies = await buildBodies(
      { resource, heartbeat: { 'quantity.servers': '10-99' }, features: [{ day, feature: 'export_csv', uses: '1-9' }], day },
      allow,
      new RedactionCounter(),
      '1.0.0',
    );
    const nanos = `${BigInt(day) * 1_000_000n}`;
    const metrics = bodies.readable.metrics as {
      resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ gauge: { dataPoints: Array<{ startTimeUnixNano: string; timeUnixNano: string }> } }> }> }>;
    };
    const point = metrics.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.gauge.dataPoints[0]!;
    expect([point.startTimeUnixNano, point.timeUnixNano]).toEqual([nanos, nanos]);
    const logs = bodies.readable.logs as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<{ timeUnixNano: string }> }> }> };
    expect(logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.timeUnixNano).toBe(nanos);
  });

  it('a feature value longer than 64 characters is cut to 64 by the SDK before the allow-list sees it', async () => {
    const counter = new RedactionCounter();
    const long = 'export_csv'.repeat(7); // 70 characters
    const bodies = await buildBodies(
      { resource, heartbeat: {}, features: [{ day: 0, feature: long, uses: '1-9' }, { day: 0, feature: 'export_csv', uses: '1-9' }], day: 0 },
      allow,
      counter,
      '1.0.0',
    );
    // Cut, it is an undeclared name (not a 70-character value the scrubber rejects as too long).
    expect(counter.entries()).toEqual([
      { where: 'log', key: 'feature.name', reason: 'value-not-allowed', count: 1 },
      { where: 'log', key: 'record', reason: 'incomplete-record', count: 1 },
    ]);
    const logs = bodies.readable.logs as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: unknown[] }> }> };
    expect(logs.resourceLogs[0]!.scopeLogs[0]!.logRecords).toHaveLength(1);
  });
});
