/**
 * One POST (transport.ts `post`) against in-process servers that answer in awkward ways: what is
 * sent, how each kind of ending is reported, the 64 KiB cap on a response body, and what the
 * request leaves behind (timers, sockets that would keep the host alive).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CONTENT_ENCODING, encodeBody, post } from '../../src/transport.ts';

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A server that reads each request whole, records it, then lets `answer` respond (or not). */
async function serve(
  answer: (res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[]; received: () => Promise<void>; server: Server }> {
  const seen: Seen[] = [];
  let arrived: () => void = () => undefined;
  let next = new Promise<void>((resolve) => (arrived = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      const done = arrived;
      next = new Promise<void>((resolve) => (arrived = resolve));
      done();
      answer(res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/metrics`, seen, received: () => next, server };
}

const body = new Uint8Array([10, 3, 1, 2, 3, 0, 255]);
const base = { token: 'tok-123', body, userAgent: 'headcount-test/1.2.3' };

describe('post: what goes out', () => {
  it('POSTs the deflated body with the OTLP headers, the bearer token and the user agent', async () => {
    const srv = await serve((res) => res.writeHead(200).end());
    const result = await post({ ...base, url: srv.url });
    expect(result).toStrictEqual({ kind: 'success', status: 200 });
    const [req] = srv.seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/metrics');
    expect(req?.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': CONTENT_ENCODING,
      'content-length': String(encodeBody(body).byteLength),
      authorization: 'Bearer tok-123',
      'user-agent': 'headcount-test/1.2.3',
    });
    expect(CONTENT_ENCODING).toBe('deflate');
    expect(new Uint8Array(inflateSync(req!.body))).toEqual(body);
  });

  it('sends a given wire encoding as it is, with its own length', async () => {
    const srv = await serve((res) => res.writeHead(202).end());
    const wire = new Uint8Array([1, 2, 3, 4, 5]);
    expect(await post({ ...base, url: srv.url }, wire)).toStrictEqual({ kind: 'success', status: 202 });
    expect(new Uint8Array(srv.seen[0]!.body)).toEqual(wire);
    expect(srv.seen[0]!.headers['content-length']).toBe('5');
  });

  it('the wire encoding is zlib at its highest level: what preview reports as the on-the-wire size', () => {
    const otlp = new TextEncoder().encode('quantity.servers 10-99 flag.sso_enabled 1 '.repeat(20));
    const wire = encodeBody(otlp);
    expect(new Uint8Array(inflateSync(wire))).toEqual(otlp);
    // The zlib header's FLEVEL bits say which level compressed it: 3 is the maximum.
    expect(wire[1]! >> 6).toBe(3);
    expect(wire).toEqual(deflateSync(otlp, { level: 9 }));
  });

  it('an https endpoint is reached over TLS (nobody listening here: refused, retryable)', async () => {
    const srv = await serve((res) => res.writeHead(200).end());
    await new Promise((resolve) => srv.server.close(resolve));
    servers.length = 0;
    const url = srv.url.replace('http:', 'https:');
    expect(await post({ ...base, url })).toStrictEqual({ kind: 'retryable', status: 0, error: 'ECONNREFUSED' });
  });

  it('an endpoint that is not a URL is a failure, not retried, and nothing is sent', async () => {
    expect(await post({ ...base, url: 'not a url' })).toStrictEqual({ kind: 'failure', status: 0, error: 'invalid endpoint URL' });
  });
});

describe('post: how it ends', () => {
  it('nobody listening: retryable, named by the error code', async () => {
    const srv = await serve((res) => res.writeHead(200).end());
    await new Promise((resolve) => srv.server.close(resolve));
    servers.length = 0;
    expect(await post({ ...base, url: srv.url })).toStrictEqual({ kind: 'retryable', status: 0, error: 'ECONNREFUSED' });
  });

  it('a connection reset mid-body: retryable, named by the error code (not read as the 200 it began with)', async () => {
    const srv = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial', () => res.socket?.destroy());
    });
    expect(await post({ ...base, url: srv.url, timeoutMs: 20_000 })).toStrictEqual({ kind: 'retryable', status: 0, error: 'ECONNRESET' });
  });

  it('a body over 64 KiB is not read to its end: the status decides, at once', async () => {
    // 80 KB, then the response stays open: only cutting the body off at 64 KiB ends the request.
    const srv = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.alloc(80_000, 46));
    });
    expect(await post({ ...base, url: srv.url, timeoutMs: 20_000 })).toStrictEqual({ kind: 'success', status: 200 });
  });

  it('a body of exactly 64 KiB is still read: a response that then stalls ends at the timeout', async () => {
    const srv = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.alloc(64 * 1024, 46));
    });
    expect(await post({ ...base, url: srv.url, timeoutMs: 300 })).toStrictEqual({ kind: 'retryable', status: 0, error: 'timeout' });
  });

  it('a socket that goes quiet ends the request by itself, even if the overall deadline never fires', async () => {
    // Only the global setTimeout is faked (and never advanced): the socket's idle timeout still runs.
    const srv = await serve(() => undefined);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      expect(await post({ ...base, url: srv.url, timeoutMs: 200 })).toStrictEqual({ kind: 'retryable', status: 0, error: 'timeout' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('post: what it leaves behind', () => {
  it('the overall deadline is cleared once the answer is in', async () => {
    const srv = await serve((res) => res.writeHead(200).end());
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      expect(await post({ ...base, url: srv.url })).toStrictEqual({ kind: 'success', status: 200 });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a pending request keeps the host alive only with ref true, by its socket and never by the deadline timer', async () => {
    const srv = await serve(() => undefined);
    const count = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length;
    const sockets0 = count('TCPSocketWrap');
    const timers0 = count('Timeout');

    const unrefd = post({ ...base, url: srv.url, timeoutMs: 2_000 });
    await srv.received();
    // The server's end of the connection is one socket; the client's end is not counted.
    expect(count('TCPSocketWrap')).toBe(sockets0 + 1);
    expect(count('Timeout')).toBe(timers0);

    const refd = post({ ...base, url: srv.url, timeoutMs: 2_000, ref: true });
    await srv.received();
    // Now both ends of the second connection count.
    expect(count('TCPSocketWrap')).toBe(sockets0 + 3);
    expect(count('Timeout')).toBe(timers0);
    srv.server.closeAllConnections();
    expect((await unrefd).kind).toBe('retryable');
    expect((await refd).kind).toBe('retryable');
  });
});
