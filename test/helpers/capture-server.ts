/**
 * A real HTTP server on 127.0.0.1 (random port) that records OTLP requests and answers with
 * scripted statuses. Closed by `close()` in the test's teardown.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach } from 'vitest';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export interface Captured {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Decompressed body. */
  readonly body: Buffer;
  readonly at: number;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Never answer (the client must time out). */
  readonly hang?: boolean;
  /** Answer the status line, then send one body byte every 50 ms, never ending. */
  readonly trickle?: boolean;
}

export interface CaptureServer {
  readonly url: string;
  readonly requests: Captured[];
  /** Replies used in order; when exhausted, `fallback` answers. */
  script(...replies: Reply[]): void;
  fallback: Reply;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: Captured[] = [];
  let queue: Reply[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      const body = encoding === 'gzip' ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw;
      requests.push({ path: req.url ?? '', headers: req.headers, body, at: Date.now() });
      for (const w of waiters.splice(0)) w();
      const reply = queue.shift() ?? api.fallback;
      if (reply.hang) return;
      if (reply.trickle) {
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        const drip = setInterval(() => res.write('.'), 50);
        res.on('close', () => clearInterval(drip));
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const api: CaptureServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    fallback: { status: 200 },
    script(...replies) {
      queue = replies;
    },
    async waitFor(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} requests, got ${requests.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

/**
 * For a test file: a capture server started before each test and closed after it, and the
 * handles `track`ed during the test shut down first (200 ms each).
 */
export function captureEachTest(): { readonly server: CaptureServer; track<T extends { shutdown(o: { timeoutMs: number }): Promise<void> }>(h: T): T } {
  let server: CaptureServer | undefined;
  const handles: { shutdown(o: { timeoutMs: number }): Promise<void> }[] = [];
  beforeEach(async () => {
    server = await startCaptureServer();
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
    await server?.close();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('captureEachTest: the server exists only inside a test');
      return server;
    },
    track(h) {
      handles.push(h);
      return h;
    },
  };
}
