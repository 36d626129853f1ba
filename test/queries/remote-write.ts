/**
 * A minimal Prometheus remote-write 1.0 client for tests: writes float samples with any labels
 * and timestamps to a Prometheus started with `--web.enable-remote-write-receiver` (older
 * timestamps need its out-of-order window). The protobuf `WriteRequest` is encoded by hand and
 * framed as snappy literals (valid snappy, not compressed), so no dependency is needed.
 */

export interface WriteSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly timestampMs: number;
}

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // int64 two's complement
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

const utf8 = new TextEncoder();

function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

function encodeSeries(s: WriteSample): number[] {
  const labels = Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: number[] = [];
  for (const [name, value] of labels) out.push(...lengthDelimited(1, [...lengthDelimited(1, utf8.encode(name)), ...lengthDelimited(2, utf8.encode(value))]));
  const double = new Uint8Array(8);
  new DataView(double.buffer).setFloat64(0, s.value, true);
  out.push(...lengthDelimited(2, [(1 << 3) | 1, ...double, ...varint(2 << 3), ...varint(s.timestampMs)]));
  return out;
}

/** Snappy block format with literal elements only. */
function snappyLiterals(data: Uint8Array): Uint8Array {
  const out: number[] = [...varint(data.length)];
  for (let i = 0; i < data.length; i += 65_536) {
    const chunk = data.subarray(i, Math.min(i + 65_536, data.length));
    const n = chunk.length - 1;
    if (n < 60) out.push(n << 2);
    else if (n < 256) out.push(60 << 2, n);
    else out.push(61 << 2, n & 0xff, n >> 8);
    for (const b of chunk) out.push(b);
  }
  return Uint8Array.from(out);
}

export function encodeWriteRequest(samples: readonly WriteSample[]): Uint8Array {
  const body: number[] = [];
  for (const s of samples) body.push(...lengthDelimited(1, encodeSeries(s)));
  return snappyLiterals(Uint8Array.from(body));
}

/** POSTs the samples to `<prometheus>/api/v1/write`; throws with Prometheus' answer unless 2xx. */
export async function remoteWrite(prometheusUrl: string, samples: readonly WriteSample[]): Promise<void> {
  if (samples.length === 0) return;
  const res = await fetch(`${prometheusUrl}/api/v1/write`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
    body: encodeWriteRequest(samples),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`remote write answered ${res.status}: ${text}`);
}
