/**
 * A tiny loopback HTTP server standing in for the collector: drains each request body and
 * answers 200 with an empty body. It counts requests so the bench can check that a heartbeat
 * really went over the wire.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Sink {
  readonly url: string;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  /** Bytes received (request bodies as sent, i.e. compressed). */
  bytes: number;
  /** Each request's path and body size on the wire, in arrival order. */
  readonly requests: { readonly path: string; readonly bytes: number }[];
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const hits = new Map<string, number>();
  const requests: { path: string; bytes: number }[] = [];
  const sink: { bytes: number } = { bytes: 0 };
  const server: Server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      sink.bytes += chunk.byteLength;
    });
    req.on('end', () => {
      const path = req.url ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      requests.push({ path, bytes: size });
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    requests,
    get bytes() {
      return sink.bytes;
    },
    set bytes(v: number) {
      sink.bytes = v;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
