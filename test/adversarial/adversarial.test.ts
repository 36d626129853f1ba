/**
 * A hostile sender holding a valid token (the token ships with every install) sends every OTLP
 * field kind - resource, scope, metric, data point and log attributes and keys, bodies,
 * exemplars, entity references, every metric type, duplicate keys, long, look-alike and
 * percent / base64 / hex encoded strings - as OTLP/JSON and OTLP/protobuf, gzip'd and plain, to
 * /v1/metrics and /v1/logs. Then every label in Prometheus, every file of Prometheus' data dir,
 * the queue file (while Prometheus is down, and after the replay), the collector log (at the
 * debug level an operator might set) and every response body are scanned for every planted
 * token. Real collector, real Prometheus.
 */
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import { exampleCatalogLists, startCollector, startPrometheus, stopAll, type Collector, type Prometheus } from '../../scripts/stack/processes.ts';
import { attack, type Leak } from './attack.ts';
import { hostileCorpus } from './corpus.ts';

const bins = await collectorBinaries();
const TOKEN = 'adversarial-token';
const corpus = hostileCorpus();

const describeLeak = (l: Leak) => `${l.where}: "${l.match}"${l.case ? ` (case ${l.case.id}: ${l.case.kind}, ${l.case.encoding}, ${l.case.signal} ${l.case.format}${l.case.gzip ? '+gzip' : ''})` : ''}`;

/** Prometheus without WAL compression, so the raw scan of its files sees every string written. */
const PROM_FLAGS = ['--no-storage.tsdb.wal-compression'];

describe.skipIf(!bins.ok)('adversarial sender with a valid token (real collector + Prometheus)', () => {
  it(`the corpus plants >= 2,000 hostile cases in every field kind, encoding, signal and transport (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    expect(new Set(corpus.map((c) => c.token)).size).toBe(corpus.length);
    for (const dim of ['kind', 'encoding', 'signal', 'format', 'gzip'] as const) expect(new Set(corpus.map((c) => c[dim])).size).toBeGreaterThan(1);
  });

  it('with the example catalog: no planted token reaches a label, the TSDB, the queue, the log or a response', async () => {
    if (!bins.ok) return;
    let prom: Prometheus | undefined;
    let col: Collector | undefined;
    try {
      const lists = exampleCatalogLists();
      prom = await startPrometheus(bins.prometheus, { extraFlags: PROM_FLAGS });
      // debug: the level an operator troubleshooting would set; the config keeps it at info.
      col = await startCollector(bins.collector, { prometheusUrl: prom.url, tokens: [TOKEN], allowLists: lists, env: { HEADCOUNT_LOG_LEVEL: 'debug' } });
      const result = await attack(prom, col, corpus, { token: TOKEN, lists, timeoutMs: 120_000 });
      expect(result.leaks.map(describeLeak).slice(0, 30)).toEqual([]);
      // The test has teeth: the valid control heartbeat in every accepted batch was stored.
      expect(result.controls.length).toBeGreaterThan(20);
      expect(result.controlsStored).toBe(result.controls.length);
    } finally {
      await stopAll(col, prom);
    }
  }, 900_000);

  it('with otelcol.unsafe-any-name.yaml (no catalog): only name-shaped tokens in name positions are stored - the catalog is what stops those', async () => {
    if (!bins.ok) return;
    let prom: Prometheus | undefined;
    let col: Collector | undefined;
    try {
      const lists = exampleCatalogLists();
      prom = await startPrometheus(bins.prometheus, { extraFlags: PROM_FLAGS });
      col = await startCollector(bins.collector, { prometheusUrl: prom.url, tokens: [TOKEN], allowLists: 'unsafe-any-name', env: { HEADCOUNT_LOG_LEVEL: 'debug' } });
      const result = await attack(prom, col, corpus, { token: TOKEN, lists, timeoutMs: 120_000 });
      const unexpected = result.leaks.filter((l) => l.case?.catalogName !== true || /log|response/.test(l.where));
      expect(unexpected.map(describeLeak).slice(0, 30)).toEqual([]);
      // Every catalog-name case of the heartbeat pipeline is stored as a label here.
      const labelled = new Set(result.leaks.filter((l) => l.where === 'Prometheus labels').map((l) => l.case?.id));
      const expected = corpus.filter((c) => c.catalogName);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.filter((c) => !labelled.has(c.id)).map((c) => `${c.id} ${c.kind} ${c.signal}`)).toEqual([]);
      expect(result.controlsStored).toBe(result.controls.length);
    } finally {
      await stopAll(col, prom);
    }
  }, 900_000);
});

if (!bins.ok) {
  describe('adversarial sender', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
