/**
 * Startup cost of the BUILT package in fresh processes: bare node vs import + createHeadcount
 * + start() with telemetry off, and vs import + start() + first heartbeat with telemetry on.
 * Children are `node --input-type=module -e <code>` so no TypeScript stripping is loaded.
 * All modes share the same prologue/epilogue; they differ only in the measured middle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppSpec } from './app-spec.ts';
import { cleanEnv, runChild } from './child.ts';
import type { Sink } from './sink-server.ts';

export type StartupMode = 'bare' | 'empty' | 'off' | 'on';

export interface StartupSample {
  readonly wallMs: number;
  /** Time inside the child for the measured part (import … start/send). */
  readonly innerMs: number;
  /** performance.now() at the end: ms since the process started. */
  readonly sinceStartMs: number;
  readonly maxRssKiB: number;
  readonly enabled?: boolean;
  readonly sent?: boolean;
  readonly reason?: string;
}

const EPILOGUE = `
r.innerMs = performance.now() - t0;
r.sinceStartMs = performance.now();
r.maxRssKiB = process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify(r) + '\\n');
process.exit(0);`;

const CREATE = `
const { createHeadcount, defineCatalog } = await import(process.env.BENCH_DIST_URL);
const a = JSON.parse(process.env.BENCH_APP);
const h = createHeadcount({ product: a.product, version: a.version, endpoint: a.endpoint, catalog: defineCatalog(a.catalog), collect: () => a.report });
h.start();
r.enabled = h.settings.enabled;`;

const BODY: Record<StartupMode, string> = {
  bare: '',
  // Reference only: the cost of the ESM loader reading one (empty) file from disk.
  empty: 'await import(process.env.BENCH_EMPTY_URL);',
  off: CREATE,
  // The interval stands in for the host app's own handles (a server, …): sendNow()'s socket is
  // unref()ed, so in a process with nothing else alive the send would never complete.
  on: `${CREATE}
const keepAlive = setInterval(() => {}, 1000);
const outcome = await h.sendNow();
clearInterval(keepAlive);
r.sent = outcome.sent;
r.reason = outcome.reason;`,
};

export function childCode(mode: StartupMode): string {
  return `const r = {};\nconst t0 = performance.now();\n${BODY[mode]}\n${EPILOGUE}`;
}

export interface StartupOptions {
  readonly distUrl: string;
  readonly app: AppSpec;
  readonly sink: Sink;
  readonly rounds: number;
  readonly warmup: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export async function measureStartup(opts: StartupOptions): Promise<Record<StartupMode, StartupSample[]>> {
  const work = mkdtempSync(join(tmpdir(), 'headcount-bench-'));
  const emptyFile = join(work, 'empty.mjs');
  writeFileSync(emptyFile, '');
  const offState = join(work, 'off-state');
  const base = {
    BENCH_DIST_URL: opts.distUrl,
    BENCH_EMPTY_URL: pathToFileURL(emptyFile).href,
    BENCH_APP: JSON.stringify(opts.app),
  };
  const modes: StartupMode[] = ['bare', 'empty', 'off', 'on'];
  const samples: Record<StartupMode, StartupSample[]> = { bare: [], empty: [], off: [], on: [] };
  const total = opts.warmup + opts.rounds;
  try {
    for (let round = 0; round < total; round++) {
      // Interleaved, and rotated each round, so drift (thermal, page cache) hits every mode alike.
      for (let k = 0; k < modes.length; k++) {
        const mode = modes[(k + round) % modes.length]!;
        let env: NodeJS.ProcessEnv;
        let stateDir: string | undefined;
        if (mode === 'on') {
          stateDir = mkdtempSync(join(work, 'on-'));
          env = cleanEnv({
            ...base,
            ACME_TELEMETRY_TOKEN: 'bench-token-123',
            ACME_TELEMETRY_ENDPOINT: opts.sink.url,
            ACME_TELEMETRY_FORCE: '1',
            ACME_TELEMETRY_STATE_DIR: stateDir,
          });
        } else {
          env = cleanEnv({ ...base, ACME_TELEMETRY_STATE_DIR: offState });
        }
        const run = await runChild<Omit<StartupSample, 'wallMs'>>(['--input-type=module', '-e', childCode(mode)], env);
        if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
        if (mode === 'off' && run.out.enabled !== false) throw new Error('off mode: telemetry unexpectedly enabled');
        if (mode === 'on' && run.out.sent !== true) throw new Error(`on mode: heartbeat not sent (${run.out.reason ?? '?'})`);
        if (round >= opts.warmup) samples[mode].push({ ...run.out, wallMs: run.wallMs });
      }
      opts.onProgress?.(round + 1, total);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return samples;
}
