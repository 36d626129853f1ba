/**
 * A 200 is a promise: what the collector answered 200 is on disk and survives a SIGKILL.
 *
 * Many concurrent clients send SDK-identical heartbeats (gzip'd OTLP/protobuf, one install per
 * request) and retry like the SDK (connection errors, 429, 503) until they get an answer. While
 * they do, the collector is killed with SIGKILL at random moments (a crash, an OOM kill: no
 * shutdown, no flush) and started again. Afterwards Prometheus must hold exactly one heartbeat
 * series per install that was answered 200: not one fewer.
 */
import { readdir, readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { useStack } from '../helpers/stack-fixture.ts';
import { heartbeatProto, newInstallId, postRaw, sdkResource } from '../helpers/otlp-requests.ts';
// Seeded (mulberry32), so a failing run can be repeated with its seed.
import { prng } from '../../src/simulate/random.ts';

const bins = await collectorBinaries();
const TOKEN = 'crash-token';
const INSTALLS = 2_400;
const CLIENTS = 12; // below the admission limit (16): refusals are tested elsewhere
const KILLS = 4;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.skipIf(!bins.ok)('collector crash (SIGKILL under load, real collector + Prometheus)', () => {
  // The shipped exporter flush interval (5 s), not the fast test setting: the more answered data
  // waits for export, the more a kill would lose if it were not already on disk.
  const { p, c } = useStack(bins, TOKEN, { env: { HEADCOUNT_BATCH_TIMEOUT: '5s' } });

  it(`every heartbeat answered 200 is stored after ${KILLS} SIGKILLs at random moments (${INSTALLS} installs)`, { timeout: 300_000 }, async () => {
    const seed = Number(process.env['HEADCOUNT_CRASH_SEED'] ?? Date.now() % 2 ** 31);
    const random = prng(seed);
    // Kill after the k-th answered 200, k spread at random over the run.
    const killAt = Array.from({ length: KILLS }, (_, i) => Math.floor(((i + 0.2 + 0.6 * random()) / (KILLS + 1)) * INSTALLS)).sort((a, b) => a - b);
    const product = 'acme';
    const bodies = Array.from({ length: INSTALLS }, () => {
      const id = newInstallId();
      return gzipSync(heartbeatProto(sdkResource(id, { 'service.name': product }), [{ 'quantity.projects': '10-99', 'flag.sso': '1' }]));
    });

    const url = new URL('/v1/metrics', c().url);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    // 0: connection refused / reset (the collector is down).
    const post = (body: Buffer) => postRaw(url, body, { agent, token: TOKEN, encoding: 'gzip' });

    let answered = 0;
    let retries = 0;
    const unexpected = new Map<number, number>();
    let kills = 0;
    let restarting: Promise<void> | undefined;
    const crash = async () => {
      await c().kill();
      kills++;
      await c().start();
    };

    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < bodies.length; i = next++) {
          const body = bodies[i] as Buffer;
          for (;;) {
            const status = await post(body);
            if (status === 200) break;
            // As the SDK: retry on connection errors, 429 and 503; anything else is a failure.
            if (status !== 0 && status !== 429 && status !== 503) {
              unexpected.set(status, (unexpected.get(status) ?? 0) + 1);
              break;
            }
            retries++;
            await (restarting ?? sleep(20));
          }
          answered++;
          if (restarting === undefined && kills < KILLS && answered >= (killAt[kills] ?? Infinity)) {
            restarting = crash().finally(() => {
              restarting = undefined;
            });
          }
        }
      }),
    );
    await restarting;
    agent.destroy();
    expect(unexpected, 'statuses other than 200/429/503').toEqual(new Map());
    expect(kills).toBe(KILLS);
    expect(answered).toBe(INSTALLS);

    const promql = `count(headcount_heartbeat{job="${product}"})`;
    const stored = async () => Number((await p().query(promql))[0]?.value[1] ?? 0);
    await expect
      .poll(stored, { timeout: 120_000, interval: 500, message: `seed ${seed}, kills after ${killAt.join('/')} answers, ${retries} retries, ${Date.now() - started} ms` })
      .toBe(INSTALLS);
    // Exactly: no fewer, and no more (a series per install, whatever was retried).
    expect(await stored()).toBe(INSTALLS);
  });

  it('the disk queue holds no client address, forwarded header or client trace context', async () => {
    // Prometheus down: requests stay in the queue file, where they are read as bytes.
    await p().stop();
    try {
      const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee42';
      const spanId = 'facade00facade42';
      const body = heartbeatProto(sdkResource(newInstallId()), [{}]);
      const headers = {
        'content-type': 'application/x-protobuf',
        authorization: `Bearer ${TOKEN}`,
        traceparent: `00-${traceId}-${spanId}-01`,
        'x-forwarded-for': '203.0.113.77',
        forwarded: 'for=203.0.113.77',
      };
      for (let i = 0; i < 5; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const url = new URL('/v1/metrics', c().url);
          const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: '127.0.0.123', headers }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(body);
        });
        expect(status).toBe(200);
      }
      const files = await readdir(c().storageDir, { recursive: true, withFileTypes: true });
      const contents = await Promise.all(files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name))));
      const all = Buffer.concat(contents);
      // The queue really holds the requests (else this test would prove nothing).
      expect(all.includes(Buffer.from('headcount.heartbeat'))).toBe(true);
      const forbidden: [string, Buffer][] = [
        ['client IP as text', Buffer.from('127.0.0.123')],
        ['client IP, 4 bytes', Buffer.from([127, 0, 0, 123])],
        ['forwarded IP as text', Buffer.from('203.0.113.77')],
        ['forwarded IP, 4 bytes', Buffer.from([203, 0, 113, 77])],
        ['trace id', Buffer.from(traceId, 'hex')],
        ['span id', Buffer.from(spanId, 'hex')],
        ['trace id as text', Buffer.from(traceId)],
      ];
      for (const [what, bytes] of forbidden) expect(all.includes(bytes), `${what} found in the queue file`).toBe(false);
    } finally {
      await p().start();
    }
  });
});

if (!bins.ok) {
  describe('collector crash', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
