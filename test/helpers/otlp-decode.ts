/**
 * Reads the OTLP protobuf bodies Headcount sends (and their OTLP/JSON `readable` twins) into one
 * plain shape, so a test can compare what an operator reads with the bytes on the wire. A
 * minimal protobuf wire-format reader: only the OTLP fields Headcount's bodies use.
 */

export interface OtlpItem {
  /** Metric name (metrics) or event name (logs). */
  readonly name: string;
  readonly attributes: Record<string, string>;
  /** time_unix_nano */
  readonly timeNs: bigint;
  /** start_time_unix_nano (metrics) or observed_time_unix_nano (logs). */
  readonly otherTimeNs: bigint;
  /** as_int of a gauge point; undefined for logs. */
  readonly value: bigint | undefined;
}

export interface OtlpRequest {
  readonly resource: Record<string, string>;
  readonly scope: { readonly name: string; readonly version: string };
  readonly items: readonly OtlpItem[];
}

type Field = { readonly no: number; readonly wire: number; readonly int: bigint; readonly bytes: Uint8Array };

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const fixed = (n: number): bigint => {
    let v = 0n;
    for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[i + k]!);
    i += n;
    return v;
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, int: varint(), bytes: new Uint8Array() });
    else if (wire === 1) out.push({ no, wire, int: fixed(8), bytes: new Uint8Array() });
    else if (wire === 5) out.push({ no, wire, int: fixed(4), bytes: new Uint8Array() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, int: 0n, bytes: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const all = (buf: Uint8Array, no: number) => fields(buf).filter((f) => f.no === no);
const one = (buf: Uint8Array, no: number): Field | undefined => all(buf, no)[0];
const str = (buf: Uint8Array, no: number) => text(one(buf, no)?.bytes ?? new Uint8Array());

/** KeyValue list → record; every value must be a string (the only kind Headcount sends). */
function attributes(kvs: Field[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of kvs) {
    const value = one(kv.bytes, 2)?.bytes ?? new Uint8Array();
    const s = one(value, 1);
    if (s === undefined) throw new Error(`attribute ${str(kv.bytes, 1)} is not a string`);
    out[str(kv.bytes, 1)] = text(s.bytes);
  }
  return out;
}

function scopeOf(scopeBytes: Uint8Array | undefined) {
  return { name: scopeBytes === undefined ? '' : str(scopeBytes, 1), version: scopeBytes === undefined ? '' : str(scopeBytes, 2) };
}

/** Decodes an ExportMetricsServiceRequest holding one resource and one scope (gauge points). */
export function decodeMetrics(body: Uint8Array): OtlpRequest {
  const rms = all(body, 1);
  if (rms.length !== 1) throw new Error(`expected one resource, got ${rms.length}`);
  const rm = rms[0]!.bytes;
  const sms = all(rm, 2);
  if (sms.length !== 1) throw new Error(`expected one scope, got ${sms.length}`);
  const sm = sms[0]!.bytes;
  const items: OtlpItem[] = [];
  for (const metric of all(sm, 2)) {
    const gauge = one(metric.bytes, 5);
    if (gauge === undefined) throw new Error('expected a gauge');
    for (const dp of all(gauge.bytes, 1)) {
      items.push({
        name: str(metric.bytes, 1),
        attributes: attributes(all(dp.bytes, 7)),
        timeNs: one(dp.bytes, 3)?.int ?? 0n,
        otherTimeNs: one(dp.bytes, 2)?.int ?? 0n,
        value: one(dp.bytes, 6)?.int,
      });
    }
  }
  return { resource: attributes(all(one(rm, 1)?.bytes ?? new Uint8Array(), 1)), scope: scopeOf(one(sm, 1)?.bytes), items };
}

/** Decodes an ExportLogsServiceRequest holding one resource and one scope. */
export function decodeLogs(body: Uint8Array): OtlpRequest {
  const rls = all(body, 1);
  if (rls.length !== 1) throw new Error(`expected one resource, got ${rls.length}`);
  const rl = rls[0]!.bytes;
  const sls = all(rl, 2);
  if (sls.length !== 1) throw new Error(`expected one scope, got ${sls.length}`);
  const sl = sls[0]!.bytes;
  const items = all(sl, 2).map((r): OtlpItem => ({
    name: str(r.bytes, 12),
    attributes: attributes(all(r.bytes, 6)),
    timeNs: one(r.bytes, 1)?.int ?? 0n,
    otherTimeNs: one(r.bytes, 11)?.int ?? 0n,
    value: undefined,
  }));
  return { resource: attributes(all(one(rl, 1)?.bytes ?? new Uint8Array(), 1)), scope: scopeOf(one(sl, 1)?.bytes), items };
}

type JsonKv = { key: string; value: { stringValue?: string } };
type JsonScope = { name?: string; version?: string };
const jsonAttrs = (kvs: JsonKv[] | undefined): Record<string, string> =>
  Object.fromEntries((kvs ?? []).map((kv) => {
    if (kv.value.stringValue === undefined) throw new Error(`attribute ${kv.key} is not a string`);
    return [kv.key, kv.value.stringValue];
  }));
const ns = (v: unknown): bigint => (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : 0n);

/** The same shape from the OTLP/JSON of a metrics request (`PreviewRequest.readable`). */
export function readableMetrics(json: unknown): OtlpRequest {
  const j = json as { resourceMetrics: Array<{ resource?: { attributes?: JsonKv[] }; scopeMetrics: Array<{ scope?: JsonScope; metrics: Array<{ name: string; gauge?: { dataPoints: Array<{ attributes?: JsonKv[]; timeUnixNano?: unknown; startTimeUnixNano?: unknown; asInt?: unknown }> } }> }> }> };
  if (j.resourceMetrics.length !== 1 || j.resourceMetrics[0]!.scopeMetrics.length !== 1) throw new Error('expected one resource and one scope');
  const rm = j.resourceMetrics[0]!;
  const sm = rm.scopeMetrics[0]!;
  const items = sm.metrics.flatMap((m) => {
    if (m.gauge === undefined) throw new Error('expected a gauge');
    return m.gauge.dataPoints.map((dp): OtlpItem => ({
      name: m.name,
      attributes: jsonAttrs(dp.attributes),
      timeNs: ns(dp.timeUnixNano),
      otherTimeNs: ns(dp.startTimeUnixNano),
      value: dp.asInt === undefined ? undefined : ns(dp.asInt),
    }));
  });
  return { resource: jsonAttrs(rm.resource?.attributes), scope: { name: sm.scope?.name ?? '', version: sm.scope?.version ?? '' }, items };
}

/** The same shape from the OTLP/JSON of a logs request. */
export function readableLogs(json: unknown): OtlpRequest {
  const j = json as { resourceLogs: Array<{ resource?: { attributes?: JsonKv[] }; scopeLogs: Array<{ scope?: JsonScope; logRecords: Array<{ eventName?: string; attributes?: JsonKv[]; timeUnixNano?: unknown; observedTimeUnixNano?: unknown }> }> }> };
  if (j.resourceLogs.length !== 1 || j.resourceLogs[0]!.scopeLogs.length !== 1) throw new Error('expected one resource and one scope');
  const rl = j.resourceLogs[0]!;
  const sl = rl.scopeLogs[0]!;
  const items = sl.logRecords.map((r): OtlpItem => ({
    name: r.eventName ?? '',
    attributes: jsonAttrs(r.attributes),
    timeNs: ns(r.timeUnixNano),
    otherTimeNs: ns(r.observedTimeUnixNano),
    value: undefined,
  }));
  return { resource: jsonAttrs(rl.resource?.attributes), scope: { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' }, items };
}
