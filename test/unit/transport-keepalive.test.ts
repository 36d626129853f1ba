/**
 * What a POST (transport.ts `post`) leaves able to keep the host alive, observed on the client's
 * own socket (caught through the `net.client.socket` diagnostics channel) rather than by counting
 * every handle of the process: a socket is unref()ed unless the caller asked for ref, and neither
 * agent asks the server to keep the connection open (`connection: close`, over http and https).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post } from '../../src/transport.ts';

// A throwaway self-signed certificate for 127.0.0.1 (test only; trusted below for this file).
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTKOJrb2PkHpMtdby
uSgo3sPz9VQQGZxG8x2FnZG6MCihRANCAARDWv5qStR4bR8syBBtQNkYpLaXIexg
3ESbI0CG2yQemJdg6H673l5UhippCxjukuq1/pYyXUvy9FQxKZyi9+o8
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUC/+4AxaCg1YgOzaOU6hQY9uaNd4wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMzAxNTAwNFoYDzIxMjYxMTA5
MDE1MDA0WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARDWv5qStR4bR8syBBtQNkYpLaXIexg3ESbI0CG2yQemJdg6H673l5U
hippCxjukuq1/pYyXUvy9FQxKZyi9+o8o2QwYjAdBgNVHQ4EFgQUcTRISa2JRDux
w/CGaMJXELKh4Z4wHwYDVR0jBBgwFoAUcTRISa2JRDuxw/CGaMJXELKh4Z4wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQDpbmBjkmkv95X4JyjUAbkMoBxh53pOK4lC2qYwFYqKCgIhAO56EVUakSLxVxJK
H4wpGr030unZKHcsWFbfuMX7skZN
-----END CERTIFICATE-----`;

const servers: Server[] = [];
const sockets: Socket[] = [];
const onSocket = (message: unknown) => sockets.push((message as { socket: Socket }).socket);
beforeAll(() => subscribe('net.client.socket', onSocket));
afterAll(() => unsubscribe('net.client.socket', onSocket));
afterEach(async () => {
  sockets.length = 0;
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** The client sockets connected to this port (other files' sockets may be caught too). */
const socketsTo = (port: number) => sockets.filter((s) => s.remotePort === port);

/** Handles of `type` that keep the event loop alive (ref()ed ones only), per Node. */
const refd = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length;

/** Whether this socket keeps the process alive: unref() it and see if the process's count drops (then undo). */
function keepsAlive(socket: Socket): boolean {
  const before = refd('TCPSocketWrap');
  socket.unref();
  const after = refd('TCPSocketWrap');
  if (after !== before) socket.ref();
  return before - after === 1;
}

/** A server that records each request's headers and never answers. */
async function listen(server: Server): Promise<{ port: number; seen: IncomingMessage[]; arrived: () => Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const waiters: Array<() => void> = [];
  server.on('request', (req: IncomingMessage, _res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      seen.push(req);
      for (const w of waiters.splice(0)) w();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, seen, arrived: () => new Promise<void>((resolve) => waiters.push(resolve)) };
}

const base = { token: 'tok-123', body: new Uint8Array([1, 2, 3]), userAgent: 'headcount-test/1.2.3', timeoutMs: 5_000 };

describe('post: the client socket of a pending request', () => {
  it('is unref()ed by default: it never keeps the host alive', async () => {
    const srv = await listen(createHttpServer());
    const arrived = srv.arrived();
    const pending = post({ ...base, url: `http://127.0.0.1:${srv.port}/v1/metrics` });
    await arrived;
    expect(socketsTo(srv.port)).toHaveLength(1);
    expect(keepsAlive(socketsTo(srv.port)[0]!)).toBe(false);
    servers[0]!.closeAllConnections();
    expect((await pending).kind).toBe('retryable');
  });

  it('stays ref()ed with ref: true (the awaited shutdown flush)', async () => {
    const srv = await listen(createHttpServer());
    const arrived = srv.arrived();
    const pending = post({ ...base, url: `http://127.0.0.1:${srv.port}/v1/metrics`, ref: true });
    await arrived;
    expect(socketsTo(srv.port)).toHaveLength(1);
    expect(keepsAlive(socketsTo(srv.port)[0]!)).toBe(true);
    servers[0]!.closeAllConnections();
    expect((await pending).kind).toBe('retryable');
  });
});

describe('post: the connection is not kept open for another request', () => {
  it('over http: the request says connection: close', async () => {
    const srv = await listen(createHttpServer());
    const arrived = srv.arrived();
    const pending = post({ ...base, url: `http://127.0.0.1:${srv.port}/v1/metrics` });
    await arrived;
    expect(srv.seen[0]!.headers.connection).toBe('close');
    servers[0]!.closeAllConnections();
    await pending;
  });

  it('over https: the request says connection: close', async () => {
    const defaults = getCACertificates('default');
    setDefaultCACertificates([...defaults, CERT]);
    try {
      const srv = await listen(createHttpsServer({ key: KEY, cert: CERT }));
      const arrived = srv.arrived();
      const pending = post({ ...base, url: `https://127.0.0.1:${srv.port}/v1/metrics` });
      await arrived;
      expect(srv.seen[0]!.headers.connection).toBe('close');
      servers[0]!.closeAllConnections();
      expect((await pending).kind).toBe('retryable');
    } finally {
      setDefaultCACertificates(defaults);
    }
  });
});
