/** Spawns a fresh Node process and times it from spawn to exit. */
import { spawn } from 'node:child_process';

export interface ChildRun<T> {
  /** Wall time from spawn() to the child's exit, as the parent sees it. */
  readonly wallMs: number;
  /** The JSON object the child printed as its last stdout line. */
  readonly out: T;
}

/** The environment children start from: the parent's, minus anything that would change what they measure. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('ACME_') || k === 'NODE_OPTIONS' || k.startsWith('BENCH_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function runChild<T>(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ChildRun<T>> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', () => {
      t1 = process.hrtime.bigint();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`child ${args.slice(0, 2).join(' ')} exited with ${code ?? signal}: ${stderr.trim().slice(0, 2000)}`));
        return;
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ wallMs: Number(t1 - t0) / 1e6, out: JSON.parse(last) as T });
      } catch {
        reject(new Error(`child printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`));
      }
    });
  });
}
