/**
 * One POST of an OTLP body, and the retry policy around it. Results follow the OTel
 * exporter contract (success | retryable | failure) plus `unauthorized`, which stops sending
 * until restart. Requests are built with `new ClientRequest` and a private Agent, not
 * `http.request`, which a host app's HTTP instrumentation patches: so the host's spans and
 * HTTP client metrics never see them, with or without a context manager. Tracing is suppressed
 * as well, for instrumentations that hook deeper. Sockets are unref()ed unless the caller awaits.
 */
import { nextTurn } from './schedule.ts';

// Built-ins by `process.getBuiltinModule`, not ES imports: an ES import of `node:http` builds
// its namespace from every export, and its lazy `WebSocket` getters load undici (~10 MiB RSS).
// `node:https` (TLS, ~3 MiB) is loaded only for an https endpoint.
const http = () => process.getBuiltinModule('node:http');
const https = () => process.getBuiltinModule('node:https');
const zlib = () => process.getBuiltinModule('node:zlib');
const url = () => process.getBuiltinModule('node:url');
/** HTTP client modules already loaded (their first load gets a loop turn of its own). */
const clientsLoaded = new Set<'http' | 'https'>();

export type SendResult =
  | { readonly kind: 'success'; readonly status: number }
  | { readonly kind: 'retryable'; readonly status: number; readonly retryAfterMs?: number; readonly error?: string }
  | { readonly kind: 'rate-limited'; readonly status: 429; readonly retryAfterMs?: number }
  | { readonly kind: 'unauthorized'; readonly status: 401 | 403 }
  | { readonly kind: 'failure'; readonly status: number; readonly error: string };

export const REQUEST_TIMEOUT_MS = 10_000;
/** A response body is read up to this size, then ignored. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostOptions {
  readonly url: string;
  readonly token: string;
  readonly body: Uint8Array;
  readonly timeoutMs?: number;
  readonly userAgent: string;
  /**
   * Keep the socket ref()ed: only for the bounded flush in `shutdown()`, which the host awaits.
   * Otherwise sockets are unref()ed and never delay the host's exit.
   */
  readonly ref?: boolean;
}

/**
 * Content-Encoding of a body on the wire: `deflate`, i.e. the zlib format (RFC 9110 8.4.1.2),
 * which the collector's OTLP/HTTP receiver decodes like `zlib`. Its framing is 12 B smaller than
 * gzip's (no file header, Adler-32 instead of CRC-32 + length), for the same compressed data.
 */
export const CONTENT_ENCODING = 'deflate';

/** Wire encoding of a body (see CONTENT_ENCODING). Exposed so preview can report the on-the-wire size. */
export function encodeBody(body: Uint8Array): Buffer {
  return zlib().deflateSync(body, { level: 9 });
}

/** Parses `Retry-After` (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  // A blank value is neither seconds nor a date: Date.parse('') is NaN.
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function classify(status: number, retryAfter: string | undefined): SendResult {
  if (status >= 200 && status < 300) return { kind: 'success', status };
  if (status === 401 || status === 403) return { kind: 'unauthorized', status };
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429) return retryAfterMs === undefined ? { kind: 'rate-limited', status } : { kind: 'rate-limited', status, retryAfterMs };
  if (status >= 500) {
    return retryAfterMs === undefined ? { kind: 'retryable', status } : { kind: 'retryable', status, retryAfterMs };
  }
  return { kind: 'failure', status, error: `HTTP ${status}` };
}

/**
 * POSTs one deflate-compressed OTLP protobuf body, with tracing suppressed in the host's context
 * (the OTel API is loaded with the SDK; see `otlp/stages/base.ts`). Never rejects.
 */
export async function post(options: PostOptions, wire: Uint8Array = encodeBody(options.body)): Promise<SendResult> {
  const otel = await import('./otlp/stages/base.ts').catch(() => undefined);
  // Node's HTTP client (~5 ms to load the first time) in a turn of its own, before the request.
  // Stryker disable all: equivalent, which client module is loaded ahead, and whether a loop turn passes first, changes timing only (postUntraced loads what it needs)
  const client = options.url.startsWith('https:') ? 'https' : 'http';
  if (!clientsLoaded.has(client)) {
    if (client === 'https') https();
    else http();
    clientsLoaded.add(client);
    await nextTurn();
  }
  // Stryker restore all
  if (otel === undefined) return postUntraced(options, wire);
  return otel.context.with(otel.suppressTracing(otel.context.active()), () => postUntraced(options, wire));
}

function postUntraced(options: PostOptions, wire: Uint8Array): Promise<SendResult> {
  return new Promise<SendResult>((resolve) => {
    // The first result wins: a settled promise ignores later ones (an error after the answer).
    let done: (result: SendResult) => void = resolve;
    let target: URL;
    try {
      target = new URL(options.url);
    } catch {
      done({ kind: 'failure', status: 0, error: 'invalid endpoint URL' });
      return;
    }
    // A private agent per request: no pooled sockets outlive it, nothing shared with the host.
    // Stryker disable next-line ObjectLiteral: equivalent, keepAlive: false is the Agent default
    const agent = target.protocol === 'https:' ? new (https().Agent)({ keepAlive: false }) : new (http().Agent)({ keepAlive: false });
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const finish = done;
    done = (result: SendResult) => {
      clearTimeout(deadline);
      // Stryker disable next-line CallExpression: equivalent, a keepAlive: false agent closes its one socket when the exchange ends (or req.destroy() did)
      agent.destroy();
      finish(result);
    };
    const req = new (http().ClientRequest)({
      ...url().urlToHttpOptions(target),
      method: 'POST',
      agent,
      timeout: timeoutMs,
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': CONTENT_ENCODING,
        'content-length': wire.byteLength,
        authorization: `Bearer ${options.token}`,
        'user-agent': options.userAgent,
      },
    });
    // `timeout` above fires only when the socket goes quiet; this bounds the whole exchange, so a
    // server that trickles bytes cannot keep a request (and the heartbeat cycle) pending.
    const deadline = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    deadline.unref();
    if (options.ref !== true) req.on('socket', (socket) => socket.unref());
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      done({ kind: 'retryable', status: 0, error: error.code ?? error.message });
    });
    req.on('response', (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('error', (error: NodeJS.ErrnoException) => {
        done({ kind: 'retryable', status: 0, error: error.code ?? error.message });
      });
      res.on('close', () => {
        const status = res.statusCode ?? 0;
        // Cut off mid-body (deadline, reset): the server's answer is unknown, so try again.
        // Stryker disable EqualityOperator,BlockStatement,StringLiteral,ConditionalExpression: equivalent, defensive: a body cut off at or under 64 KiB emits 'error' on req (deadline) or res (reset) before 'close', and the first result wins
        if (!res.complete && received <= MAX_RESPONSE_BYTES) {
          done({ kind: 'retryable', status: 0, error: 'response cut off' });
          return;
        }
        // Stryker restore all
        done(classify(status, res.headers['retry-after']));
      });
    });
    req.end(wire);
  });
}
