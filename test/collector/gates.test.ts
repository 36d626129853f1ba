/**
 * Each privacy gate of collector-config/otelcol.yaml proven on its own (real collector, exporter
 * pointed at a closed port so everything that passes the gates stays in the queue file, whose
 * bytes are searched):
 *   - with no gate at all, every probe reaches the queue (the probes have teeth);
 *   - each gate alone, every other gate removed, stops its own probes;
 *   - the shipped config without one gate still stops that gate's probes wherever a second layer
 *     exists; the classes with one collector layer only are listed (SINGLE_LAYER) and must be
 *     exactly the ones that then reach the queue.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectorBinaries, collectorConfig } from '../../scripts/stack/binaries.ts';
import { exampleCatalogLists, startCollector, stopAll } from '../../scripts/stack/processes.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { heartbeatJson, newInstallId, postOtlp, sdkResource } from '../helpers/otlp-requests.ts';
import { GATE_PROCESSORS, gateAlone, parseConfig, PROBES, queueText, renderConfig, runProbes, SINGLE_LAYER, withoutGate, type Gate } from './gate-probes.ts';

const bins = await collectorBinaries();
const TOKEN = 'gates-token';
const lists = exampleCatalogLists();
const shipped = parseConfig(readFileSync(collectorConfig, 'utf8'));
const GATES: readonly Gate[] = ['auth', ...GATE_PROCESSORS];

describe.skipIf(!bins.ok)('each privacy gate on its own (real collector, queue file bytes)', () => {
  let dir = '';
  let deadPort = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'headcount-gates-'));
    deadPort = await freePort();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `probes` against `config` (pseudonymised: transform/sanitize is in the pipelines). */
  const probe = async (name: string, config: ReturnType<typeof parseConfig>, probes: typeof PROBES) => {
    if (!bins.ok) throw new Error('no binaries');
    const file = join(dir, `${name.replaceAll('/', '_')}.yaml`);
    await writeFile(file, renderConfig(config));
    const pseudonymised = Object.values(config.service.pipelines).some((p) => p.processors?.includes('transform/sanitize'));
    const col = await startCollector(bins.collector, { prometheusUrl: `http://127.0.0.1:${deadPort}`, tokens: [TOKEN], allowLists: lists, config: file });
    try {
      return await runProbes(col, probes, lists, TOKEN, { pseudonymised });
    } finally {
      await stopAll(col);
    }
  };

  it('without any gate, every probe of every gate reaches the queue (or is answered without a token)', async () => {
    const none = await probe('none', withoutGate(gateAlone(shipped, undefined), 'auth'), PROBES);
    expect(none.broken).toEqual([]);
    const missed = PROBES.filter((p) => p.positive !== true && !none.found.some((f) => f.startsWith(`${p.gate}: ${p.name}:`)));
    expect(missed.map((p) => `${p.gate}: ${p.name}`)).toEqual([]);
  }, 300_000);

  for (const gate of GATES) {
    const own = PROBES.filter((p) => p.gate === gate);

    it(`${gate} alone stops its ${own.length} probe classes`, async () => {
      const outcome = await probe(`alone-${gate}`, gateAlone(shipped, gate === 'auth' ? undefined : gate), own);
      expect(outcome.broken).toEqual([]);
      expect(outcome.found).toEqual([]);
    }, 300_000);

    it(`without ${gate}, the other layers stop its probes except the listed single-layer classes`, async () => {
      // (A positive probe - a valid record the gate cleans and keeps - may be dropped instead.)
      const outcome = await probe(`without-${gate}`, withoutGate(shipped, gate), own.filter((p) => p.positive !== true && p.aloneOnly !== true));
      expect(outcome.broken).toEqual([]);
      const leaked = new Set(outcome.found.map((f) => f.split(':').slice(0, 2).join(':')));
      const single = own.filter((p) => SINGLE_LAYER[`${p.gate}: ${p.name}`] !== undefined).map((p) => `${p.gate}: ${p.name}`);
      expect([...leaked].sort()).toEqual(single.sort());
    }, 300_000);
  }

  // The receiver's `include_metadata: false` is a gate of its own: without `isolate` and
  // `groupcommit` (which hand data to the queue under an empty context) request headers still
  // never reach the queue file. With `include_metadata: true` they do: the check has teeth.
  const headers = { 'x-forwarded-for': '203.0.113.77', 'user-agent': 'marker-agent-71c3', 'x-client-marker': 'marker-hdr-4e8a' };
  const leaked = (text: string) => Object.values(headers).filter((v) => text.includes(v));
  /** The queue file's text after one heartbeat with `headers`, isolate and groupcommit removed. */
  const queuedWith = async (includeMetadata: boolean | 'shipped'): Promise<string> => {
    if (!bins.ok) throw new Error('no binaries');
    const config = structuredClone(shipped);
    for (const pipeline of Object.values(config.service.pipelines)) pipeline.processors = (pipeline.processors ?? []).filter((x) => x !== 'isolate' && x !== 'groupcommit');
    if (includeMetadata !== 'shipped') config.receivers.otlp.protocols.http['include_metadata'] = includeMetadata;
    const file = join(dir, `include-metadata-${includeMetadata}.yaml`);
    await writeFile(file, renderConfig(config));
    const col = await startCollector(bins.collector, { prometheusUrl: `http://127.0.0.1:${deadPort}`, tokens: [TOKEN], allowLists: lists, config: file });
    try {
      const id = newInstallId();
      const body = heartbeatJson({ resource: sdkResource(id), points: [{ 'quantity.servers': '10-99' }] });
      expect((await postOtlp(col.url, '/v1/metrics', body, { token: TOKEN, headers })).status).toBe(200);
      // The pseudonym in the queue file: the request was written there.
      return await vi.waitFor(
        async () => {
          const text = await queueText(col.storageDir);
          expect(text).toContain(col.pseudonym(id));
          return text;
        },
        { timeout: 60_000, interval: 100 },
      );
    } finally {
      await stopAll(col);
    }
  };

  it('include_metadata false alone keeps request headers out of the queue (isolate and groupcommit removed)', async () => {
    expect(leaked(await queuedWith(true))).toEqual(Object.values(headers));
    expect(leaked(await queuedWith(false))).toEqual([]);
  }, 300_000);

  // While isolate and groupcommit run, `include_metadata: true` in the shipped file changes
  // nothing the other tests can see (mutation-equivalents.yaml): this reads the shipped value.
  it('the shipped receiver keeps include_metadata off: without isolate and groupcommit, request headers still stay out of the queue', async () => {
    expect(leaked(await queuedWith('shipped'))).toEqual([]);
  }, 300_000);
});

if (!bins.ok) {
  describe('each privacy gate on its own', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
