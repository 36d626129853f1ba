/**
 * Runs a fixture script in a real child Node 22 process with an explicit, minimal environment
 * (never the test runner's own: CI, NODE_ENV and OTEL_* must not leak in), a temp HOME/XDG
 * tree to watch for writes, a timeout, and the fixture's result line parsed as JSON.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { startCaptureServer, type CaptureServer } from './capture-server.ts';
import { RESULT_MARKER } from './fixtures/report.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const NODE = join(REPO, 'node_modules/.bin/node');
export const FIXTURES = join(REPO, 'test/helpers/fixtures');


export interface ChildResult<T> {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The fixture's result JSON, or undefined when it printed none. */
  readonly result: T | undefined;
  /** Wall-clock ms from spawn to exit. */
  readonly durationMs: number;
  /** Date.now() in the parent when the child exited. */
  readonly exitedAt: number;
  /** `[headcount] …` lines on stderr. */
  readonly headcountLines: string[];
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly env: Record<string, string>;
  readonly args?: readonly string[];
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /**
   * When this settles, the child is told to go on: a line on its stdin, which the fixture awaits
   * with `awaitGo()`. For fixtures that must wait for an event the parent sees (a request
   * arriving at the test server) instead of sleeping.
   */
  readonly go?: Promise<unknown>;
}

/** Spawns `node <fixture>` with exactly `env`; kills it after `timeoutMs` (default 15 s). */
export function runFixture<T>(fixture: string, options: RunOptions): Promise<ChildResult<T>> {
  const started = Date.now();
  const child = spawn(NODE, [join(FIXTURES, fixture), ...(options.args ?? [])], {
    env: options.env,
    cwd: options.cwd ?? REPO,
    stdio: [options.go === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.go !== undefined) {
    const stdin = child.stdin!;
    stdin.on('error', () => undefined); // the child may have exited already
    void options.go.then(
      () => stdin.end('go\n'),
      () => stdin.end('abort\n'),
    );
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 15_000);
  return new Promise((resolvePromise, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitedAt = Date.now();
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        result: line === undefined ? undefined : (JSON.parse(line.slice(RESULT_MARKER.length)) as T),
        durationMs: exitedAt - started,
        exitedAt,
        headcountLines: stderr.split('\n').filter((l) => l.startsWith('[headcount]')),
        timedOut,
      });
    });
  });
}

/** A temp tree standing in for the user's home: HOME, XDG dirs, TMPDIR and a cwd, all empty. */
export interface Sandbox {
  readonly root: string;
  readonly home: string;
  readonly dataHome: string;
  readonly stateHome: string;
  readonly cwd: string;
  /** PATH, HOME, XDG_*, TMPDIR pointing into the sandbox; nothing else. */
  readonly env: Record<string, string>;
  /** Every file and directory under the sandbox (relative), excluding the empty skeleton. */
  written(): string[];
  remove(): void;
}

export function sandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'headcount-child-'));
  const dirs = {
    home: join(root, 'home'),
    dataHome: join(root, 'xdg-data'),
    configHome: join(root, 'xdg-config'),
    stateHome: join(root, 'xdg-state'),
    cacheHome: join(root, 'xdg-cache'),
    tmp: join(root, 'tmp'),
    cwd: join(root, 'cwd'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const skeleton = new Set(Object.values(dirs).map((d) => relative(root, d)));
  return {
    root,
    home: dirs.home,
    dataHome: dirs.dataHome,
    stateHome: dirs.stateHome,
    cwd: dirs.cwd,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: dirs.home,
      XDG_DATA_HOME: dirs.dataHome,
      XDG_CONFIG_HOME: dirs.configHome,
      XDG_STATE_HOME: dirs.stateHome,
      XDG_CACHE_HOME: dirs.cacheHome,
      TMPDIR: dirs.tmp,
    },
    written: () => walk(root).filter((p) => !skeleton.has(p)),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** All paths under `dir`, relative to it, depth first. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      out.push(relative(dir, full));
      if (entry.isDirectory()) visit(full);
    }
  };
  visit(dir);
  return out;
}

export interface ChildContext {
  /** A fresh sandbox (temp HOME, XDG dirs, cwd) for each test. */
  readonly box: Sandbox;
  /** A fresh capture server for each test. */
  readonly server: CaptureServer;
}

/** Registers per-test setup and teardown of a sandbox and a capture server. */
export function useChildContext(): ChildContext {
  let box: Sandbox | undefined;
  let server: CaptureServer | undefined;
  beforeEach(async () => {
    box = sandbox();
    server = await startCaptureServer();
  });
  afterEach(async () => {
    await server?.close();
    box?.remove();
  });
  return {
    get box() {
      return box!;
    },
    get server() {
      return server!;
    },
  };
}
