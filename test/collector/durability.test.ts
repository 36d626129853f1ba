/**
 * The persistent sending queue: nothing accepted by the collector is lost when Prometheus or
 * the collector itself restarts.
 */
import { Agent, request, type ClientRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { useStack } from '../helpers/stack-fixture.ts';
import { heartbeatJson, heartbeatProto, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';

const bins = await collectorBinaries();
const TOKEN = 'durability-token';

describe.skipIf(!bins.ok)('collector durability (real collector + Prometheus)', () => {
  const { p, c } = useStack(bins, TOKEN);

  const sendHeartbeats = async (product: string, count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => newInstallId());
    for (let i = 0; i < ids.length; i += 10) {
      const body = heartbeatJson(...ids.slice(i, i + 10).map((id) => ({ resource: sdkResource(id, { 'service.name': product }) })));
      const res = await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN });
      expect(res.status).toBe(200);
    }
    return ids;
  };

  it('keeps heartbeats sent while Prometheus is down and delivers them when it is back', async () => {
    await p().stop();
    const ids = await sendHeartbeats('durable_prom', 50);
    // give the exporter time to fail and queue (retries every 200-500 ms in tests)
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await p().start();
    const stored = await p().waitFor('count(headcount_heartbeat{job="durable_prom"}) == 50', 1, 30_000);
    expect(stored[0]?.value[1]).toBe('50');
    const instances = new Set((await p().query('headcount_heartbeat{job="durable_prom"}')).map((r) => r.metric['instance']));
    expect(instances).toEqual(new Set(ids.map((id) => c().pseudonym(id))));
  });

  it('delivers items still queued on disk after a collector restart', async () => {
    await p().stop();
    await sendHeartbeats('durable_col', 30);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await c().stop(); // SIGTERM while Prometheus is unreachable: items stay in the file queue
    await p().start();
    await c().start();
    const stored = await p().waitFor('count(headcount_heartbeat{job="durable_col"}) == 30', 1, 30_000);
    expect(stored[0]?.value[1]).toBe('30');
  });
});

describe.skipIf(!bins.ok)('collector answers to awkward and excessive requests', () => {
  const { c } = useStack(bins, TOKEN);
  const heartbeat = () => heartbeatProto(sdkResource(newInstallId()), [{}]);

  it('accepts the auth scheme in any letter case (RFC 7235), never a wrong token or scheme', async () => {
    const post = (authorization: string) => postOtlp(c().url, '/v1/metrics', heartbeat(), { headers: { authorization } });
    for (const ok of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `bEaReR ${TOKEN}`, `Bearer   ${TOKEN}`]) {
      expect((await post(ok)).status, ok).toBe(200);
    }
    for (const bad of [`bearer ${TOKEN}x`, `Basic ${TOKEN}`, `bearer${TOKEN}`, TOKEN, `Bearer ${TOKEN.toUpperCase()}`, 'bearer ', '']) {
      expect((await post(bad)).status, bad).toBe(401);
    }
  });

  it('answers a protobuf body labelled application/json with 400, not 5xx (a client must not retry it)', async () => {
    for (const path of ['/v1/metrics', '/v1/logs']) {
      const res = await postOtlp(c().url, path, heartbeat(), { token: TOKEN, contentType: 'application/json' });
      expect(res.status, `${path}: ${res.body}`).toBe(400);
    }
  });

  it('refuses requests beyond the in-flight limit with 503 + Retry-After before reading them, then serves again', { timeout: 120_000 }, async () => {
    // Requests whose body arrives only half: each holds one of the 16 slots (HEADCOUNT_MAX_IN_FLIGHT).
    const body = Buffer.from(heartbeat());
    const url = new URL('/v1/metrics', c().url);
    type Answer = { status: number; retryAfter: string | undefined };
    const held: { req: ClientRequest; status: Promise<Answer> }[] = [];
    let flushedOne = () => {};
    let left = 16;
    const flushed = new Promise<void>((resolve) => {
      flushedOne = () => {
        if (--left === 0) resolve();
      };
    });
    // Fresh connections only: a kept-alive socket from an earlier test that the server closes
    // would end a held request at once and free its slot.
    const agent = new Agent({ keepAlive: false });
    const settled: string[] = [];
    // A held request may itself be the one refused: a probe admitted before the server read
    // the last held request's headers takes the 16th slot for a moment.
    let heldRefused: Answer | undefined;
    for (let i = 0; i < 16; i++) {
      let req: ClientRequest | undefined;
      const status = new Promise<Answer>((resolve, reject) => {
        req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf', 'content-length': String(body.length), authorization: `Bearer ${TOKEN}` },
          },
          (res) => {
            res.resume();
            const retryAfter: string | undefined = res.headers['retry-after'];
            res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter }));
          },
        );
        req.on('error', reject);
        req.write(body.subarray(0, 10), () => flushedOne());
      });
      // A held request must stay open until the refusal (or be the refused one): say so if one ends early.
      status.then(
        (answer) => {
          if (answer.status === 503 && heldRefused === undefined) heldRefused = answer;
          else settled.push(`held request ${i} answered ${answer.status}`);
        },
        (error: unknown) => settled.push(`held request ${i} failed: ${(error as Error).message}`),
      );
      held.push({ req: req as unknown as ClientRequest, status });
    }
    // Every held request's headers and first bytes have left this process before the probing.
    await flushed;
    // Once the held requests occupy every slot, a complete request is refused at once.
    const probe = () =>
      new Promise<Answer>((resolve, reject) => {
        const req = request(
          { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` } },
          (res) => {
            res.resume();
            const retryAfter: string | undefined = res.headers['retry-after'];
            res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    let refused: Answer | undefined;
    await expect
      .poll(
        async () => {
          expect(settled, 'held requests ended before the refusal').toEqual([]);
          refused = heldRefused ?? (await probe());
          return refused.status;
        },
        { timeout: 60_000, interval: 100 },
      )
      .toBe(503);
    expect(refused?.retryAfter).toBe('2');
    for (const h of held) h.req.end(body.subarray(10));
    const answers = await Promise.all(held.map((h) => h.status));
    // Every held request that got a slot is served once its body arrives.
    expect(answers.filter((a) => a !== heldRefused).map((a) => a.status)).toEqual(answers.filter((a) => a !== heldRefused).map(() => 200));
    expect(answers.filter((a) => a === heldRefused).length).toBeLessThanOrEqual(1);
    expect((await postOtlp(c().url, '/v1/metrics', heartbeat(), { token: TOKEN })).status).toBe(200);
  });
});

if (!bins.ok) {
  describe('collector durability', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
