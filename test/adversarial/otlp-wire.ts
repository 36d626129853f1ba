/**
 * OTLP requests as plain objects in the OTLP/JSON shape, encoded either as OTLP/JSON or as
 * OTLP/protobuf by a small hand-written encoder. The SDK's serializers cannot express what a
 * hostile sender can: duplicate attribute keys, entity references, exemplars with trace ids,
 * every metric type, dropped-attribute counts, schema URLs. Field numbers are those of
 * opentelemetry-proto v1 (common, resource, metrics, logs).
 */

export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { bytesValue: string } // base64
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface EntityRef {
  schemaUrl?: string;
  type?: string;
  idKeys?: string[];
  descriptionKeys?: string[];
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  entityRefs?: EntityRef[];
}

export interface Scope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface Exemplar {
  filteredAttributes?: KeyValue[];
  timeUnixNano?: string;
  asDouble?: number;
  spanId?: string; // hex
  traceId?: string; // hex
}

export interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asInt?: string;
  asDouble?: number;
  exemplars?: Exemplar[];
  flags?: number;
}

export interface HistogramDataPoint {
  attributes: KeyValue[];
  timeUnixNano?: string;
  count: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
  exemplars?: Exemplar[];
}

export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[];
  timeUnixNano?: string;
  count: string;
  scale?: number;
  zeroCount?: string;
  positive?: { offset?: number; bucketCounts?: string[] };
  exemplars?: Exemplar[];
}

export interface SummaryDataPoint {
  attributes: KeyValue[];
  timeUnixNano?: string;
  count: string;
  sum: number;
  quantileValues?: { quantile: number; value: number }[];
}

export interface Metric {
  name: string;
  description?: string;
  unit?: string;
  metadata?: KeyValue[];
  gauge?: { dataPoints: NumberDataPoint[] };
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality: number };
  exponentialHistogram?: { dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality: number };
  summary?: { dataPoints: SummaryDataPoint[] };
}

export interface ResourceMetrics {
  resource: Resource;
  scopeMetrics: { scope?: Scope; metrics: Metric[]; schemaUrl?: string }[];
  schemaUrl?: string;
}

export interface LogRecord {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: string; // hex
  spanId?: string; // hex
  eventName?: string;
}

export interface ResourceLogs {
  resource: Resource;
  scopeLogs: { scope?: Scope; logRecords: LogRecord[]; schemaUrl?: string }[];
  schemaUrl?: string;
}

export interface MetricsRequest {
  resourceMetrics: ResourceMetrics[];
}

export interface LogsRequest {
  resourceLogs: ResourceLogs[];
}

export const str = (s: string): AnyValue => ({ stringValue: s });
export const kv = (key: string, value: string | AnyValue): KeyValue => ({ key, value: typeof value === 'string' ? str(value) : value });

// ---- protobuf encoding ----------------------------------------------------------------------

class Writer {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.byteLength;
  }
  varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(out));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.byteLength);
    this.push(data);
  }
  string(field: number, s: string | undefined): void {
    if (s === undefined) return;
    this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.bytes(field, inner.finish());
  }
  uint(field: number, n: number | undefined): void {
    if (n === undefined) return;
    this.tag(field, 0);
    this.varint(n);
  }
  fixed64(field: number, n: string | undefined): void {
    if (n === undefined) return;
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true);
    this.push(b);
  }
  fixed32(field: number, n: number | undefined): void {
    if (n === undefined) return;
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0, true);
    this.push(b);
  }
  double(field: number, n: number | undefined): void {
    if (n === undefined) return;
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, n, true);
    this.push(b);
  }
  hex(field: number, h: string | undefined): void {
    if (h === undefined) return;
    this.bytes(field, Uint8Array.from(Buffer.from(h, 'hex')));
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

function anyValue(w: Writer, v: AnyValue): void {
  if ('stringValue' in v) w.string(1, v.stringValue);
  else if ('boolValue' in v) w.uint(2, v.boolValue ? 1 : 0);
  else if ('intValue' in v) {
    w.tag(3, 0);
    w.varint(BigInt(v.intValue));
  } else if ('doubleValue' in v) w.double(4, v.doubleValue);
  else if ('arrayValue' in v) w.message(5, (a) => v.arrayValue.values.forEach((x) => a.message(1, (e) => anyValue(e, x))));
  else if ('kvlistValue' in v) w.message(6, (l) => v.kvlistValue.values.forEach((x) => l.message(1, (e) => keyValue(e, x))));
  else w.bytes(7, Uint8Array.from(Buffer.from(v.bytesValue, 'base64')));
}

function keyValue(w: Writer, kvp: KeyValue): void {
  w.string(1, kvp.key);
  w.message(2, (v) => anyValue(v, kvp.value));
}

const attrs = (w: Writer, field: number, list: readonly KeyValue[] | undefined) => list?.forEach((a) => w.message(field, (e) => keyValue(e, a)));

function resource(w: Writer, r: Resource): void {
  attrs(w, 1, r.attributes);
  w.uint(2, r.droppedAttributesCount);
  r.entityRefs?.forEach((e) =>
    w.message(3, (m) => {
      m.string(1, e.schemaUrl);
      m.string(2, e.type);
      e.idKeys?.forEach((k) => m.string(3, k));
      e.descriptionKeys?.forEach((k) => m.string(4, k));
    }),
  );
}

function scope(w: Writer, s: Scope): void {
  w.string(1, s.name);
  w.string(2, s.version);
  attrs(w, 3, s.attributes);
  w.uint(4, s.droppedAttributesCount);
}

function exemplar(w: Writer, e: Exemplar): void {
  w.fixed64(2, e.timeUnixNano);
  w.double(3, e.asDouble);
  w.hex(4, e.spanId);
  w.hex(5, e.traceId);
  attrs(w, 7, e.filteredAttributes);
}

function numberPoint(w: Writer, p: NumberDataPoint): void {
  w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  w.double(4, p.asDouble);
  p.exemplars?.forEach((e) => w.message(5, (m) => exemplar(m, e)));
  if (p.asInt !== undefined) w.fixed64(6, p.asInt);
  attrs(w, 7, p.attributes);
  w.uint(8, p.flags);
}

function metric(w: Writer, m: Metric): void {
  w.string(1, m.name);
  w.string(2, m.description);
  w.string(3, m.unit);
  if (m.gauge) w.message(5, (g) => m.gauge?.dataPoints.forEach((p) => g.message(1, (d) => numberPoint(d, p))));
  if (m.sum) {
    const sum = m.sum;
    w.message(7, (s) => {
      sum.dataPoints.forEach((p) => s.message(1, (d) => numberPoint(d, p)));
      s.uint(2, sum.aggregationTemporality);
      s.uint(3, sum.isMonotonic ? 1 : 0);
    });
  }
  if (m.histogram) {
    const h = m.histogram;
    w.message(9, (s) => {
      h.dataPoints.forEach((p) =>
        s.message(1, (d) => {
          d.fixed64(3, p.timeUnixNano);
          d.fixed64(4, p.count);
          d.double(5, p.sum);
          p.bucketCounts?.forEach((c) => d.fixed64(6, c));
          p.explicitBounds?.forEach((b) => d.double(7, b));
          p.exemplars?.forEach((e) => d.message(8, (x) => exemplar(x, e)));
          attrs(d, 9, p.attributes);
        }),
      );
      s.uint(2, h.aggregationTemporality);
    });
  }
  if (m.exponentialHistogram) {
    const h = m.exponentialHistogram;
    w.message(10, (s) => {
      h.dataPoints.forEach((p) =>
        s.message(1, (d) => {
          attrs(d, 1, p.attributes);
          d.fixed64(3, p.timeUnixNano);
          d.fixed64(4, p.count);
          if (p.scale !== undefined) {
            d.tag(6, 0);
            d.varint((p.scale << 1) ^ (p.scale >> 31));
          }
          d.fixed64(7, p.zeroCount);
          if (p.positive) {
            const pos = p.positive;
            d.message(8, (b) => {
              if (pos.offset !== undefined) {
                b.tag(1, 0);
                b.varint((pos.offset << 1) ^ (pos.offset >> 31));
              }
              pos.bucketCounts?.forEach((c) => {
                b.tag(2, 0);
                b.varint(BigInt(c));
              });
            });
          }
          p.exemplars?.forEach((e) => d.message(11, (x) => exemplar(x, e)));
        }),
      );
      s.uint(2, h.aggregationTemporality);
    });
  }
  if (m.summary) {
    const sm = m.summary;
    w.message(11, (s) =>
      sm.dataPoints.forEach((p) =>
        s.message(1, (d) => {
          d.fixed64(3, p.timeUnixNano);
          d.fixed64(4, p.count);
          d.double(5, p.sum);
          p.quantileValues?.forEach((q) =>
            d.message(6, (x) => {
              x.double(1, q.quantile);
              x.double(2, q.value);
            }),
          );
          attrs(d, 7, p.attributes);
        }),
      ),
    );
  }
  attrs(w, 12, m.metadata);
}

export function metricsProto(req: MetricsRequest): Uint8Array {
  const w = new Writer();
  for (const rm of req.resourceMetrics) {
    w.message(1, (r) => {
      r.message(1, (x) => resource(x, rm.resource));
      rm.scopeMetrics.forEach((sm) =>
        r.message(2, (s) => {
          if (sm.scope) {
            const sc = sm.scope;
            s.message(1, (x) => scope(x, sc));
          }
          sm.metrics.forEach((m) => s.message(2, (x) => metric(x, m)));
          s.string(3, sm.schemaUrl);
        }),
      );
      r.string(3, rm.schemaUrl);
    });
  }
  return w.finish();
}

export function logsProto(req: LogsRequest): Uint8Array {
  const w = new Writer();
  for (const rl of req.resourceLogs) {
    w.message(1, (r) => {
      r.message(1, (x) => resource(x, rl.resource));
      rl.scopeLogs.forEach((sl) =>
        r.message(2, (s) => {
          if (sl.scope) {
            const sc = sl.scope;
            s.message(1, (x) => scope(x, sc));
          }
          sl.logRecords.forEach((l) =>
            s.message(2, (d) => {
              d.fixed64(1, l.timeUnixNano);
              d.uint(2, l.severityNumber);
              d.string(3, l.severityText);
              if (l.body) {
                const body = l.body;
                d.message(5, (b) => anyValue(b, body));
              }
              attrs(d, 6, l.attributes);
              d.uint(7, l.droppedAttributesCount);
              d.fixed32(8, l.flags);
              d.hex(9, l.traceId);
              d.hex(10, l.spanId);
              d.fixed64(11, l.observedTimeUnixNano);
              d.string(12, l.eventName);
            }),
          );
          s.string(3, sl.schemaUrl);
        }),
      );
      r.string(3, rl.schemaUrl);
    });
  }
  return w.finish();
}
