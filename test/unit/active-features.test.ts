/**
 * Feature counts in the active part, in process: what a preview shows while off, how days are
 * kept (pending days trimmed to PENDING_MAX_DAYS, days without uses taking no slot), that a sent
 * day is not sent again, that counts saved by another run are taken over once, and the UTC
 * midnight roll-over timer.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { PENDING_MAX_DAYS, savePendingFeatures } from '../../src/local.ts';
import { DAY_MS } from '../../src/schedule.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { decodeLogs, readableLogs } from '../helpers/otlp-decode.ts';
import { onOptions, tempDir, without } from '../helpers/sender.ts';

const DAY0 = Date.UTC(2025, 5, 10);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type Row = [day: string, feature: string, uses: string];
const rows = (items: ReturnType<typeof readableLogs>['items']): Row[] =>
  items.map((i) => [iso(Number(i.timeNs / 1_000_000n)), i.attributes['feature.name']!, i.attributes['feature.uses']!]);
const previewRows = async (h: Headcount): Promise<Row[]> => {
  const logs = (await h.preview()).requests.find((r) => r.signal === 'logs');
  return logs === undefined ? [] : rows(readableLogs(logs.readable).items);
};

let server: CaptureServer;
const handles: Headcount[] = [];
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(handles.splice(0).map((h) => h.shutdown({ timeoutMs: 200 })));
  await server.close();
});
const track = (h: Headcount) => (handles.push(h), h);

describe('preview while off', () => {
  it("shows today's used features only, at the endpoint the options name", async () => {
    const clock = DAY0 + 5 * 3_600_000;
    const h = track(createHeadcount(onOptions(server.url, { env: {}, now: () => clock })));
    expect(h.settings.enabled).toBe(false);
    h.feature('export_csv');
    h.feature('export_csv');
    const preview = await h.preview();
    expect(preview.requests.map((r) => r.url)).toEqual(['https://telemetry.acme.example/v1/metrics', 'https://telemetry.acme.example/v1/logs']);
    expect(rows(readableLogs(preview.requests[1]!.readable).items)).toEqual([[iso(DAY0), 'export_csv', '1-9']]);
  });

  it('no feature used: no logs request', async () => {
    const h = track(createHeadcount(onOptions(server.url, { env: {} })));
    expect((await h.preview()).requests.map((r) => r.signal)).toEqual(['metrics']);
  });

  it('no endpoint anywhere: the paths alone', async () => {
    const h = track(createHeadcount({ ...without(onOptions(server.url, { env: {} }), 'endpoint') }));
    expect((await h.preview()).requests.map((r) => r.url)).toEqual(['/v1/metrics']);
  });
});

describe('pending days', () => {
  it(`at most ${PENDING_MAX_DAYS} days are kept, the newest`, async () => {
    let clock = DAY0 + 3_600_000;
    const h = track(createHeadcount(onOptions(server.url, { store: new MemoryStateStore(), now: () => clock })));
    await h.status(); // the active part is loaded: counts from now on belong to its days
    for (let d = 0; d <= PENDING_MAX_DAYS; d++) {
      h.feature('export_csv');
      clock += DAY_MS;
      await h.preview();
    }
    const shown = await previewRows(h);
    expect(shown).toHaveLength(PENDING_MAX_DAYS);
    expect(shown[0]![0]).toBe(iso(DAY0 + DAY_MS));
    expect(shown.at(-1)![0]).toBe(iso(DAY0 + PENDING_MAX_DAYS * DAY_MS));
  });

  it('days without a use take no slot: an old day with uses stays however many empty days follow', async () => {
    let clock = DAY0 + 3_600_000;
    const h = track(createHeadcount(onOptions(server.url, { store: new MemoryStateStore(), now: () => clock })));
    await h.status(); // the active part is loaded: counts from now on belong to its days
    h.feature('dashboard_shared');
    for (let d = 0; d <= PENDING_MAX_DAYS + 1; d++) {
      clock += DAY_MS;
      await h.preview();
    }
    expect(await previewRows(h)).toEqual([[iso(DAY0), 'dashboard_shared', '1-9']]);
  });

  it('a day that was sent is not sent again', async () => {
    let clock = DAY0 + 3_600_000;
    const h = track(createHeadcount(onOptions(server.url, { store: new MemoryStateStore(), now: () => clock })));
    await h.status(); // the active part is loaded: counts from now on belong to its days
    h.feature('export_csv');
    clock += DAY_MS;
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs']);
    expect(rows(decodeLogs(server.requests[1]!.body).items)).toEqual([[iso(DAY0), 'export_csv', '1-9']]);
    clock += 1_000;
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/logs', '/v1/metrics']);
  });

  it(`counts saved by a previous run are taken over, trimmed to ${PENDING_MAX_DAYS} days`, async () => {
    const clock = DAY0 + 3_600_000;
    const stateDir = tempDir();
    // One day more than is kept, all within the loader's age limit (a file another version wrote).
    const saved = Array.from({ length: PENDING_MAX_DAYS + 1 }, (_, d) => [DAY0 - d * DAY_MS, { export_csv: 2 }]);
    writeFileSync(join(stateDir, 'pending-features.json'), JSON.stringify(saved));
    const h = track(createHeadcount(onOptions(server.url, { store: new MemoryStateStore(), now: () => clock, stateDir })));
    expect((await h.sendNow()).sent).toBe(true);
    const sent = rows(decodeLogs(server.requests[1]!.body).items);
    expect(sent).toHaveLength(PENDING_MAX_DAYS);
    expect(sent.map((r) => r[0])).not.toContain(iso(DAY0 - PENDING_MAX_DAYS * DAY_MS));
    expect(existsSync(join(stateDir, 'pending-features.json'))).toBe(false);
  });

  it('counts saved after this process took over are left for the next run', async () => {
    const clock = DAY0 + 3_600_000;
    const stateDir = tempDir();
    const h = track(createHeadcount(onOptions(server.url, { store: new MemoryStateStore(), now: () => clock, stateDir })));
    expect((await h.sendNow()).sent).toBe(true);
    // Another replica sharing the dir shuts down and saves its counts.
    await savePendingFeatures(stateDir, new Map([[DAY0 - DAY_MS, new Map([['export_csv', 4]])]]), clock);
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/metrics', '/v1/metrics']);
    expect(existsSync(join(stateDir, 'pending-features.json'))).toBe(true);
    // This process's preview shows only what it would send.
    expect(await previewRows(h)).toEqual([]);
  });
});

describe('the UTC midnight roll-over', () => {
  it("each midnight moves the day's counts into that day, one midnight after another", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: DAY0 + 23 * 3_600_000 });
    const h = track(
      createHeadcount(
        onOptions(server.url, {
          store: new MemoryStateStore(),
          now: () => Date.now(),
          schedule: { firstDelayMs: [10 * DAY_MS, 10 * DAY_MS], jitterMs: 0 },
        }),
      ),
    );
    h.start();
    await h.status();
    for (let i = 0; i < 3; i++) h.feature('export_csv');
    vi.advanceTimersByTime(3_600_000 + 2_000);
    for (let i = 0; i < 3; i++) h.feature('export_csv');
    vi.advanceTimersByTime(DAY_MS);
    for (let i = 0; i < 20; i++) h.feature('export_csv');
    expect(await previewRows(h)).toEqual([
      [iso(DAY0), 'export_csv', '1-9'],
      [iso(DAY0 + DAY_MS), 'export_csv', '1-9'],
    ]);
  });

  it('wakes once around midnight, not in a loop before it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: DAY0 + 23 * 3_600_000 });
    let calls = 0;
    const h = track(
      createHeadcount(
        onOptions(server.url, {
          store: new MemoryStateStore(),
          now: () => (calls++, Date.now()),
          schedule: { firstDelayMs: [10 * DAY_MS, 10 * DAY_MS], jitterMs: 0 },
        }),
      ),
    );
    h.start();
    await h.status();
    h.feature('export_csv');
    vi.advanceTimersByTime(3_600_000 - 2_000);
    const before = calls;
    // Through the last 2 s before midnight and the first 2 s after it: one roll-over.
    vi.advanceTimersByTime(4_000);
    expect(calls - before).toBeGreaterThan(0);
    expect(calls - before).toBeLessThan(10);
    expect(await previewRows(h)).toEqual([[iso(DAY0), 'export_csv', '1-9']]);
  });
});
