/**
 * A fast OTLP load generator with SDK-identical bodies, for fleets the SDK simulator
 * (src/simulate, one real `createHeadcount` handle per install) is too slow for (1 M installs).
 *
 * The bodies ARE the SDK's: for every distinct (version, host, bucketed quantities, flags) of
 * the planned installs, one real handle renders its next heartbeat with `preview()` (what
 * `sendNow()` sends, `buildBodies` of src/otlp) under a placeholder install id; each install's
 * body is that template with its own id written over the placeholder's 36 bytes (checked to
 * occur exactly once), deflate-compressed and POSTed with the SDK's headers (src/transport.ts),
 * one install per request, over keep-alive connections. Heartbeats only: feature records
 * (sent with the next day's heartbeat) are not generated.
 *
 * Templates are rendered by one handle per (version, host), its `collect()` switched to each
 * distinct set of values in turn (a new handle per template costs ~15 ms: minutes at 100k
 * installs). Install ids are random, or `installIdFor(seed, index)` for a fleet sent day by day
 * (the same install keeps its id, as the SDK does).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { deflateSync } from 'node:zlib';
import { bucketOf } from '../src/bucket.ts';
import { envPrefixFor, variableNames } from '../src/config.ts';
import { createHeadcount, type Headcount, type HeadcountOptions } from '../src/headcount.ts';
import { versionOn, quantitiesOn, type FleetPlan, type InstallPlan } from '../src/simulate/fleet.ts';
import { MemoryStateStore } from '../src/store.ts';
import { postRaw } from '../test/helpers/otlp-requests.ts';

/** The placeholder id the templates are rendered with (a valid UUID v4 no install has). */
const PLACEHOLDER = 'fedcba98-7654-4321-8fed-cba987654321';

export interface FastLoadOptions {
  readonly app: Pick<HeadcountOptions, 'product' | 'catalog'>;
  readonly plan: FleetPlan;
  /** The plan's day to send (default the last). */
  readonly day?: number;
  /** Collector base URL and a token it accepts. */
  readonly endpoint: string;
  readonly token: string;
  /** The id of the install at `index` of `plan.installs` (default: a random one per request). */
  readonly idFor?: (index: number) => string;
  /** Requests in flight (default 64). */
  readonly concurrency?: number;
  readonly progress?: (line: string) => void;
}

export interface FastLoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly templates: number;
  readonly seconds: number;
  /** Install ids answered 200. */
  readonly ids?: readonly string[];
}

const key = (plan: InstallPlan, day: number): string =>
  JSON.stringify([
    versionOn(plan, day),
    plan.host,
    Object.entries(quantitiesOn(plan, day)).map(([k, v]) => [k, bucketOf(v)]),
    plan.flags,
  ]);

/** A stable UUID v4 for install `index` of a fleet planned with `seed`. */
export function installIdFor(seed: number, index: number): string {
  const h = createHash('sha256').update(`headcount-fleet:${seed}:${index}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type Values = { quantities: Record<string, number>; flags: Readonly<Record<string, boolean>> };

/** A forced-on SDK handle of `o.app` on `version` and `host` whose `collect()` returns `values()`. */
function sdkHandle(o: Pick<FastLoadOptions, 'app' | 'endpoint' | 'token'>, version: string, host: InstallPlan['host'], installId: string, values: () => Values): Headcount {
  const vars = variableNames(envPrefixFor(o.app.product));
  return createHeadcount({
    product: o.app.product,
    catalog: o.app.catalog,
    version,
    env: { [vars.token]: o.token, [vars.endpoint]: o.endpoint, [vars.force]: '1' },
    store: new MemoryStateStore({ installId, idCreatedAt: Date.now() }),
    simulatedHost: host,
    collect: values,
    log: () => undefined,
  });
}

/** The heartbeat body of the handle's `preview()` (what `sendNow()` sends). */
async function heartbeatBody(handle: Headcount): Promise<Buffer> {
  const preview = await handle.preview();
  const metrics = preview.requests.find((r) => r.signal === 'metrics');
  if (metrics === undefined) throw new Error(`no heartbeat in the SDK preview (${preview.reason})`);
  return Buffer.from(metrics.body);
}

/** The SDK's own uncompressed heartbeat body (its `preview()`) for `plan` on `day` with `installId`. */
export async function sdkBody(o: Pick<FastLoadOptions, 'app' | 'endpoint' | 'token'>, plan: InstallPlan, day: number, installId: string): Promise<Buffer> {
  return heartbeatBody(sdkHandle(o, versionOn(plan, day), plan.host, installId, () => ({ quantities: quantitiesOn(plan, day), flags: plan.flags })));
}

export interface Template {
  readonly body: Buffer;
  /** Offset of the placeholder install id. */
  readonly at: number;
}

/** The SDK body with the placeholder id, and where the id sits. */
export async function template(o: Pick<FastLoadOptions, 'app' | 'endpoint' | 'token'>, plan: InstallPlan, day: number): Promise<Template> {
  return located(await sdkBody(o, plan, day, PLACEHOLDER));
}

/**
 * Renders templates like `template()`, reusing one SDK handle per (version, host): its
 * `collect()` returns the values of the install being rendered.
 */
export function templateRenderer(o: Pick<FastLoadOptions, 'app' | 'endpoint' | 'token'>): (plan: InstallPlan, day: number) => Promise<Template> {
  const handles = new Map<string, { handle: Headcount; values: Values }>();
  return async (plan, day) => {
    const version = versionOn(plan, day);
    const k = JSON.stringify([version, plan.host]);
    let h = handles.get(k);
    if (h === undefined) {
      const values: Values = { quantities: {}, flags: {} };
      h = { handle: sdkHandle(o, version, plan.host, PLACEHOLDER, () => ({ quantities: values.quantities, flags: values.flags })), values };
      handles.set(k, h);
    }
    h.values.quantities = quantitiesOn(plan, day);
    h.values.flags = plan.flags;
    return located(await heartbeatBody(h.handle));
  };
}

function located(body: Buffer): Template {
  const at = body.indexOf(PLACEHOLDER);
  if (at < 0 || body.indexOf(PLACEHOLDER, at + 1) >= 0) throw new Error('the install id must occur exactly once in the heartbeat body');
  return { body, at };
}

/** The template with `installId` written over the placeholder: the SDK's body for that install. */
export function patched(t: Template, installId: string): Buffer {
  const body = Buffer.from(t.body);
  body.write(installId, t.at, 'latin1');
  return body;
}

/** Sends the heartbeat of every install of `o.plan` alive on `day`, SDK bodies, one request each. */
export async function fastLoad(o: FastLoadOptions, keepIds = false): Promise<FastLoadResult> {
  const day = o.day ?? o.plan.days - 1;
  const today = o.plan.installs.flatMap((p, index) => (p.days.includes(day) ? [{ p, index }] : []));
  const templates = new Map<string, Template>();
  const render = templateRenderer(o);
  const which: string[] = [];
  for (const { p } of today) {
    const k = key(p, day);
    if (!templates.has(k)) templates.set(k, await render(p, day));
    which.push(k);
  }
  o.progress?.(`fast load: ${today.length} installs, ${templates.size} distinct SDK bodies`);
  const url = new URL('/v1/metrics', o.endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency ?? 64 });
  const userAgent = `headcount-fast-load`;
  let next = 0;
  let ok = 0;
  let failed = 0;
  const ids: string[] = [];
  const t0 = performance.now();
  let lastReport = t0;
  const post = (wire: Buffer): Promise<number> => postRaw(url, wire, { agent, token: o.token, encoding: 'deflate', headers: { 'user-agent': userAgent }, timeoutMs: 60_000 });
  const worker = async () => {
    while (next < today.length) {
      const i = next++;
      const t = templates.get(which[i]!)!;
      const id = o.idFor?.(today[i]!.index) ?? randomUUID();
      const body = patched(t, id);
      // The SDK's wire encoding (src/transport.ts encodeBody).
      // Like the SDK: 429, 5xx and failed connections are retried (the collector refuses with
      // 503 beyond its in-flight limit), here for up to 2 minutes per heartbeat; other answers
      // are final.
      let status: number;
      const wire = deflateSync(body, { level: 9 });
      const giveUp = performance.now() + 120_000;
      for (let attempt = 0; ; attempt++) {
        status = await post(wire);
        if (status === 200 || (status > 0 && status < 500 && status !== 429) || performance.now() > giveUp) break;
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      }
      if (status === 200) {
        ok++;
        if (keepIds) ids.push(id);
      } else failed++;
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        o.progress?.(`  ${ok + failed}/${today.length} sent, ${((ok + failed) / ((now - t0) / 1000)).toFixed(0)}/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 64 }, worker));
  agent.destroy();
  const seconds = (performance.now() - t0) / 1000;
  return { sent: today.length, ok, failed, templates: templates.size, seconds, ...(keepIds ? { ids } : {}) };
}
