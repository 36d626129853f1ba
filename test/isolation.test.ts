/**
 * Isolation from a host app's own OpenTelemetry, in a real child process: the host registers
 * a global context manager, TracerProvider (with the http instrumentation), propagators,
 * MeterProvider and LoggerProvider, and sets OTEL_* variables; then Headcount sends. The
 * capture server here sees what leaves, the host's in-memory exporters show what it saw.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runFixture, useChildContext } from './helpers/child.ts';
import type { Captured } from './helpers/capture-server.ts';

const TOKEN = 'isolation-token-0123456789';

interface HostResult {
  readonly outcome: { sent: boolean; reason: string };
  readonly headcountEnabled: boolean;
  readonly globalsChanged: string[];
  readonly globalKeys: string[];
  readonly sameMeterProvider: boolean;
  readonly sameTracerProvider: boolean;
  readonly sameLoggerProvider: boolean;
  readonly contextWorks: boolean;
  /** Per outgoing request (Node's http client channel): tracing suppressed in the host's context? */
  readonly suppressed: { path: string; suppressed: boolean }[];
  readonly spans: { name: string; kind: number; attributes: Record<string, unknown> }[];
  readonly hostMetrics: { scope: string; name: string; total: number }[];
  readonly hostLogs: { scope: string; body: unknown; eventName: string | null }[];
}

const ctx = useChildContext();

function hostEnv(): Record<string, string> {
  return {
    ...ctx.box.env,
    ACME_TELEMETRY_TOKEN: TOKEN,
    ACME_TELEMETRY_FORCE: '1',
    ACME_TELEMETRY_ENDPOINT: ctx.server.url,
    OTEL_SERVICE_NAME: 'host-app',
    OTEL_RESOURCE_ATTRIBUTES: 'host.name=leaky-host,deployment.environment=prod',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-leak=1',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
  };
}

const headcountRequests = (): Captured[] => ctx.server.requests.filter((r) => r.path.startsWith('/v1/'));
const hostRequests = (): Captured[] => ctx.server.requests.filter((r) => r.path.startsWith('/host-'));
const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const urlsOf = (spans: HostResult['spans']): string[] => spans.map((s) => text(s.attributes['url.full']));

async function runHost(entry: string | undefined, variant?: string): Promise<HostResult> {
  const env = entry === undefined ? hostEnv() : { ...hostEnv(), HEADCOUNT_ENTRY: entry };
  const child = await runFixture<HostResult>('host-otel.ts', { env, cwd: ctx.box.cwd, args: variant === undefined ? [ctx.server.url] : [ctx.server.url, variant] });
  expect(child.stderr).not.toMatch(/Error|unhandled/i);
  expect(child.code).toBe(0);
  expect(child.result).toBeDefined();
  return child.result!;
}

// The sources share the host's @opentelemetry/api module; the published build bundles its own
// copy, which must find the host's context manager (and show it suppressed tracing) through the
// API's global registry.
const DIST_ENTRY = pathToFileURL(resolve('dist/index.js')).href;
const entries: [string, string | undefined][] = [['sources', undefined], ...(existsSync('dist/index.js') ? [['published build (dist/)', DIST_ENTRY] as [string, string]] : [])];

describe.each(entries)('a host app with its own OpenTelemetry setup (%s)', (_label, entry) => {
  it('sends Headcount requests without the host OTEL_* headers, resource or trace context', async () => {
    const host = await runHost(entry);
    expect(host.headcountEnabled).toBe(true);
    expect(host.outcome.sent).toBe(true);

    const paths = headcountRequests().map((r) => r.path);
    expect(paths).toContain('/v1/metrics');
    expect(paths).toContain('/v1/logs'); // the feature count flushed by shutdown()

    // Positive control: the host's own requests do carry its propagated context.
    const own = hostRequests();
    expect(own.map((r) => r.path)).toEqual(['/host-before', '/host-after']);
    expect(own[0]!.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-/);
    expect(own[0]!.headers['baggage']).toContain('host-tenant-secret');

    for (const req of headcountRequests()) {
      expect(req.headers['x-leak']).toBeUndefined();
      expect(req.headers['traceparent']).toBeUndefined();
      expect(req.headers['baggage']).toBeUndefined();
      expect(req.headers['authorization']).toBe(`Bearer ${TOKEN}`);
      const body = req.body.toString('latin1');
      // The search works: Headcount's own resource is in the (decompressed protobuf) body.
      expect(body).toContain('acme');
      expect(body).toContain('service.name');
      for (const leak of ['leaky-host', 'host-app', 'host.name', 'deployment.environment', 'host-tenant-secret']) {
        expect(body, `${req.path} must not contain ${leak}`).not.toContain(leak);
      }
    }
  });

  it('leaves the host globals in place and its own signals working, and keeps its requests out of host traces', async () => {
    const host = await runHost(entry);
    expect(host.outcome.sent).toBe(true);

    // No global registered or replaced: the API's registry holds the host's objects only.
    expect(host.globalsChanged).toEqual([]);
    expect(host.globalKeys.sort()).toEqual(['context', 'logs', 'metrics', 'propagation', 'trace', 'version']);
    expect(host.sameMeterProvider).toBe(true);
    expect(host.sameTracerProvider).toBe(true);
    expect(host.sameLoggerProvider).toBe(true);
    expect(host.contextWorks).toBe(true);

    // The host's own metric and logs still export, and none of Headcount's data shows up there.
    expect(host.hostMetrics).toContainEqual({ scope: 'host-app', name: 'host.requests', total: 2 });
    expect(host.hostMetrics.map((m) => m.name)).not.toContain('headcount.heartbeat');
    expect(host.hostLogs.map((l) => l.body)).toEqual(['host log before', 'host log after']);
    expect(host.hostLogs.every((l) => l.scope === 'host-app')).toBe(true);

    // The http instrumentation is live (the host's own outbound requests are traced)...
    const urls = urlsOf(host.spans);
    expect(urls).toContain(`${ctx.server.url}/host-before`);
    expect(urls).toContain(`${ctx.server.url}/host-after`);
    // ...and Headcount's POSTs are not.
    expect(urls.filter((u) => u.includes('/v1/'))).toEqual([]);
    expect(host.spans.filter((s) => text(s.attributes['user_agent.original']).startsWith('headcount/'))).toEqual([]);
  });

  it("shows Headcount's requests as tracing-suppressed in the host's own context (hooks below http.request see it)", async () => {
    const host = await runHost(entry);
    const ours = host.suppressed.filter((r) => r.path.startsWith('/v1/'));
    expect(ours.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs']);
    expect(ours.every((r) => r.suppressed)).toBe(true);
    // Control: the host's own requests are not suppressed.
    expect(host.suppressed.filter((r) => r.path.startsWith('/host-')).map((r) => r.suppressed)).toEqual([false, false]);
  });

  // Headcount builds requests with `new ClientRequest` and a private Agent, which the host's
  // instrumentation-http does not patch: neither its metrics nor its spans see them.
  it("keeps Headcount's requests out of the host's HTTP client metrics", async () => {
    const host = await runHost(entry);
    const duration = host.hostMetrics.find((m) => m.name === 'http.client.request.duration');
    expect(hostRequests()).toHaveLength(2);
    expect(headcountRequests()).toHaveLength(2);
    expect(duration?.total).toBe(hostRequests().length);
  });

  it('keeps Headcount requests out of host traces even without a host context manager', async () => {
    const host = await runHost(entry, 'no-context-manager');
    expect(host.outcome.sent).toBe(true);
    const urls = urlsOf(host.spans);
    expect(urls).toContain(`${ctx.server.url}/host-before`);
    expect(urls.filter((u) => u.includes('/v1/'))).toEqual([]);
  });
});
