/**
 * collect() as the active part calls it, in process: a collect() that never answers is cut off
 * at collectTimeoutMs, one that throws is named by its error class only, neither leaves a timer
 * behind; and the heartbeat request names the SDK in its User-Agent.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHeadcount, MemoryStateStore, type Headcount } from '../../src/index.ts';
import { VERSION } from '../../src/version.ts';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.ts';
import { onOptions } from '../helpers/sender.ts';

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

function headcount(extra: Parameters<typeof onOptions>[1]) {
  const lines: string[] = [];
  const h = createHeadcount(onOptions(server.url, { store: new MemoryStateStore(), log: (l) => lines.push(l), ...extra }));
  handles.push(h);
  return { h, lines };
}

const heartbeatKeys = async (h: Headcount) => {
  const metrics = (await h.preview()).requests.find((r) => r.signal === 'metrics')!;
  return JSON.stringify(metrics.readable);
};

describe('collect()', () => {
  it('one that never answers is cut off after collectTimeoutMs; the heartbeat goes without its values', async () => {
    const { h, lines } = headcount({ collect: () => new Promise(() => undefined), collectTimeoutMs: 30 });
    const keys = await heartbeatKeys(h);
    expect(keys).not.toContain('quantity.');
    expect(keys).toContain('service.instance.id');
    expect(lines).toContain('collect() timed out after 30 ms; this heartbeat goes out without its values');
    expect(lines.filter((l) => l.startsWith('collect()'))).toHaveLength(1);
  });

  it('one that throws is named by its error class, never its message', async () => {
    const { h, lines } = headcount({
      collect: () => {
        throw new TypeError('db password is hunter2');
      },
    });
    expect(await heartbeatKeys(h)).not.toContain('quantity.');
    expect(lines).toContain('collect() threw TypeError; this heartbeat goes out without its values');
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('one that rejects late, after its timeout, is still reported as a timeout', async () => {
    const { h, lines } = headcount({ collect: () => new Promise((_, reject) => setTimeout(() => reject(new RangeError('late')), 200)), collectTimeoutMs: 20 });
    await heartbeatKeys(h);
    expect(lines).toContain('collect() timed out after 20 ms; this heartbeat goes out without its values');
    expect(lines.join('\n')).not.toContain('RangeError');
  });

  it('an answer in time clears its timeout timer: none is left behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { h, lines } = headcount({ collectTimeoutMs: 60_000 });
    expect(await heartbeatKeys(h)).toContain('quantity.servers');
    expect(vi.getTimerCount()).toBe(0);
    expect(lines).toEqual([]);
  });
});

describe('the request', () => {
  it(`names the SDK and its version in the User-Agent (headcount/${VERSION})`, async () => {
    const { h } = headcount({});
    expect((await h.sendNow()).sent).toBe(true);
    expect(server.requests.map((r) => r.headers['user-agent'])).toEqual([`headcount/${VERSION}`]);
  });
});
