/**
 * Maintainer commands of the `headcount` bin (not mounted under a product's CLI):
 *
 *   headcount report   --prometheus <url> (--service <name> | --app <module>) [--k 5] [--version <regex>]
 *                      [--tenant <id>] [--authorization <header value>]   (Cortex / Mimir: <url> is
 *                      the query-frontend's Prometheus API, e.g. http://frontend:8080/prometheus)
 *   headcount simulate --app <module> --installs N --days D --seed S [--collector <url> --token <t>]
 *   headcount demo     [--installs 300] [--days 7] [--seed 42] [--k 5] [--keep] [--app <module>]
 *
 * `simulate` with `--collector` sends today's heartbeats of the fleet to that collector (it
 * stamps on receipt, so only `--days 1` makes sense there); without it, it runs the demo stack
 * from a checkout of the repository, like `demo`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { HeadcountOptions } from '../headcount.ts';

export const MAINTAINER_COMMANDS = {
  report: 'report --prometheus <url> --service <name> [--app <module>] [--k 5] [--tenant <id>] [--authorization <value>]: the install base in the terminal',
  simulate: 'simulate --app <module> --installs N --days D --seed S [--collector <url> --token <t>]: a simulated fleet through the SDK',
  demo: 'demo [--installs 300] [--days 7] [--keep]: local Collector + Prometheus, a week of simulated history, the report',
} as const;

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

async function loadApp(module: string): Promise<HeadcountOptions> {
  const mod = (await import(pathToFileURL(resolve(module)).href)) as { default?: HeadcountOptions };
  if (mod.default === undefined) throw new Error(`--app ${module}: it has no default export`);
  return mod.default;
}

/** What scripts/demo.ts exports (typed here: src/ must not import outside src/). */
interface DemoModule {
  runDemo(options: unknown): Promise<void>;
  parseDemoArgs(argv: readonly string[]): unknown;
}

/** scripts/demo.ts exists only in a checkout of the repository (it starts local binaries). */
async function demoModule(): Promise<DemoModule> {
  const url = new URL('../../scripts/demo.ts', import.meta.url);
  try {
    return (await import(url.href)) as DemoModule;
  } catch (error) {
    throw new Error(`the demo stack runs from a checkout of the Headcount repository (${url.pathname} could not be loaded: ${(error as Error).message})`, { cause: error });
  }
}

const number = (name: string, raw: string | undefined, fallback: number): number => {
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a number >= 0`);
  return n;
};

async function report(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      prometheus: { type: 'string' },
      service: { type: 'string' },
      app: { type: 'string' },
      k: { type: 'string' },
      version: { type: 'string' },
      time: { type: 'string' },
      tenant: { type: 'string' },
      authorization: { type: 'string' },
    },
    allowPositionals: true,
  });
  const url = values.prometheus ?? process.env['HEADCOUNT_PROMETHEUS_URL'];
  const app = values.app === undefined ? undefined : await loadApp(values.app);
  const service = values.service ?? app?.product;
  if (url === undefined || service === undefined) {
    io.err(`usage: headcount ${MAINTAINER_COMMANDS.report}`);
    return 2;
  }
  const { installBaseReport } = await import('../report.ts');
  io.out(
    await installBaseReport(url, {
      service,
      k: number('k', values.k, 5),
      ...(values.version === undefined ? {} : { version: values.version }),
      ...(values.time === undefined ? {} : { time: number('time', values.time, 0) }),
      ...(app === undefined ? {} : { catalog: app.catalog }),
      auth: { tenant: values.tenant ?? process.env['HEADCOUNT_TENANT'], authorization: values.authorization ?? process.env['HEADCOUNT_AUTHORIZATION'] },
      width: Math.min(100, process.stdout.columns || 80),
    }),
  );
  return 0;
}

async function simulateCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      app: { type: 'string' },
      installs: { type: 'string', default: '300' },
      days: { type: 'string', default: '7' },
      seed: { type: 'string', default: '42' },
      collector: { type: 'string' },
      token: { type: 'string' },
      k: { type: 'string', default: '5' },
      keep: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.collector === undefined) {
    const demo = await demoModule();
    await demo.runDemo(demo.parseDemoArgs(args));
    return 0;
  }
  if (values.app === undefined || values.token === undefined) {
    io.err(`usage: headcount ${MAINTAINER_COMMANDS.simulate}`);
    return 2;
  }
  const days = number('days', values.days, 1);
  if (days !== 1) {
    io.err('headcount simulate: a collector stamps data on receipt, so history (--days > 1) needs the demo stack: leave out --collector');
    return 2;
  }
  const app = await loadApp(values.app);
  const [{ planFleet }, { simulate }] = await Promise.all([import('./fleet.ts'), import('./run.ts')]);
  const seed = number('seed', values.seed, 42);
  const stateDir = await mkdtemp(join(tmpdir(), 'headcount-simulate-'));
  try {
    const result = await simulate({
      app,
      plan: planFleet(number('installs', values.installs, 300), 1, seed, app.catalog),
      endpoint: values.collector,
      token: values.token,
      seed,
      stateDir,
      concurrency: 32,
      progress: (line) => io.out(line),
    });
    io.out(`${result.heartbeats} heartbeats, ${result.featureRecords} feature records delivered; ${result.failed} failed`);
    return result.failed === 0 ? 0 : 1;
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Runs a maintainer command; returns the exit code, never throws. */
export async function runMaintainerCommand(argv: readonly string[], io: Io): Promise<number> {
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const command = argv[at];
  const args = argv.filter((_, i) => i !== at);
  try {
    switch (command) {
      case 'report':
        return await report(args, io);
      case 'simulate':
        return await simulateCommand(args, io);
      case 'demo': {
        const demo = await demoModule();
        await demo.runDemo(demo.parseDemoArgs(args));
        return 0;
      }
      default:
        io.err(`unknown command ${String(command)}`);
        return 2;
    }
  } catch (error) {
    io.err(`headcount ${String(command)}: ${(error as Error).message}`);
    return 1;
  }
}
