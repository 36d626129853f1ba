/**
 * One real Prometheus and one real Collector for a test file: started before its tests, always
 * stopped after them. `bins` comes from `collectorBinaries()` (in CI a missing binary fails there).
 */
import { afterAll, beforeAll } from 'vitest';
import type { Binaries, MissingBinaries } from '../../scripts/stack/binaries.ts';
import { startCollector, startPrometheus, stopAll, type Collector, type CollectorOptions, type Prometheus } from '../../scripts/stack/processes.ts';

export interface StackFixture {
  /** The running Prometheus (only inside tests). */
  readonly p: () => Prometheus;
  /** The running Collector (only inside tests). */
  readonly c: () => Collector;
}

export function useStack(bins: Binaries | MissingBinaries, token: string, options: Partial<CollectorOptions> = {}): StackFixture {
  let prom: Prometheus | undefined;
  let col: Collector | undefined;
  beforeAll(async () => {
    if (!bins.ok) return;
    prom = await startPrometheus(bins.prometheus);
    col = await startCollector(bins.collector, { prometheusUrl: prom.url, tokens: [token], ...options });
  });
  afterAll(async () => {
    await stopAll(col, prom);
  });
  return { p: () => prom as Prometheus, c: () => col as Collector };
}
