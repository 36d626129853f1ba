#!/usr/bin/env node
/**
 * `headcount` — what an operator uses to see and control telemetry, and what a product mounts
 * under its own CLI with `runCli(args, options)`.
 *
 *   headcount status|preview|enable|disable|reset-id|last|privacy-doc --app ./telemetry.js
 *
 * `--app` names a module whose default export is the product's `HeadcountOptions`.
 */
import { realpathSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createHeadcount, resolveOptions, type HeadcountOptions } from './headcount.ts';
import { readLedger, writePreference } from './local.ts';
import { catalogFingerprint } from './catalog.ts';
import { collectorAllowListEnv } from './otlp/allowlist.ts';
import { renderPrivacyDoc } from './privacy-doc.ts';
import { FileStateStore } from './store.ts';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

export const COMMANDS = {
  status: 'on or off and why, endpoint, install id, last and next send, redactions',
  preview: 'the exact request bodies the next heartbeat would send (--json for machines)',
  enable: 'persist the operator\'s opt-in (a token is still needed)',
  disable: 'persist the opt-out and delete the install id',
  'reset-id': 'forget the install id; the next send uses a new one',
  last: 'the ledger of real sends: time, signal, bytes, sha256, HTTP status',
  'privacy-doc': 'the catalog as a Markdown table for the privacy notice',
  'collector-env': "the collector's allow-list for this catalog, as an env file (--out <file>: written atomically)",
  erase: 'erase <install-id> --prometheus <url> --key-file <file> [--tenant <id>] [--authorization <value>]: delete every series of one install (maintainers)',
} as const;

/**
 * `headcount erase <install-id> --prometheus <url> --key-file <file>`: needs no app options. The
 * key file is the collector's pseudonym key: Prometheus holds only the id's keyed pseudonym.
 */
async function eraseCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { prometheus: { type: 'string' }, 'key-file': { type: 'string' }, tenant: { type: 'string' }, authorization: { type: 'string' } },
    allowPositionals: true,
    strict: false,
  });
  const id = positionals[1];
  const url = typeof values.prometheus === 'string' ? values.prometheus : process.env['HEADCOUNT_PROMETHEUS_URL'];
  const keyFile = typeof values['key-file'] === 'string' ? values['key-file'] : process.env['HEADCOUNT_PSEUDONYM_KEY_FILE'];
  if (id === undefined || url === undefined || keyFile === undefined) {
    io.err('usage: headcount erase <install-id> --prometheus <url> --key-file <collector pseudonym key> [--tenant <id>] [--authorization <value>]   (or HEADCOUNT_PROMETHEUS_URL, HEADCOUNT_PSEUDONYM_KEY_FILE, HEADCOUNT_TENANT, HEADCOUNT_AUTHORIZATION)');
    return 2;
  }
  try {
    const { eraseInstall, readPseudonymKey } = await import('./erase.ts');
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const auth = { tenant: str(values.tenant) ?? process.env['HEADCOUNT_TENANT'], authorization: str(values.authorization) ?? process.env['HEADCOUNT_AUTHORIZATION'] };
    const result = await eraseInstall(url, id, await readPseudonymKey(keyFile), { auth });
    io.out(`erased install ${id.trim().toLowerCase()} (stored as ${result.pseudonym}): ${result.seriesDeleted} series deleted`);
    return 0;
  } catch (error) {
    io.err(`headcount erase: ${(error as Error).message}`);
    return 1;
  }
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: headcount <command> [--app <module>] [--json]',
    '',
    ...Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(width)}  ${d}`),
    '',
    '--app: a module whose default export is the product\'s HeadcountOptions.',
    '',
    'Maintainers (the headcount bin): report --prometheus <url> --service <name> | simulate | demo',
  ].join('\n');
}

/**
 * `KEY='value'` lines: read the same by docker compose's `env_file` and by a POSIX shell's `.`
 * (an unquoted `|` would be a pipe there). Values are catalog names joined by `|`; anything that
 * a single-quoted string cannot hold as-is is refused rather than escaped differently for each reader.
 */
export function envFileText(env: Readonly<Record<string, string>>): string {
  const lines = Object.entries(env).map(([key, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key) || /['\n\r\\$`]/.test(value)) throw new Error(`${key}: cannot be written to an env file safely`);
    return `${key}='${value}'`;
  });
  return ['# Generated from the catalog by `headcount collector-env`. Do not edit by hand.', ...lines, ''].join('\n');
}

/** Writes `text` to `file` through a temporary file and a rename: the file is whole or untouched. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

const fmtTime = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

/** Runs one command for `options`. Returns the exit code; never throws. */
export async function runCli(args: readonly string[], options: HeadcountOptions, io: CliIo = defaultIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { json: { type: 'boolean', default: false }, app: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
  });
  const command = positionals[0];
  if (values.help === true || command === undefined) {
    io.out(usage());
    return command === undefined && values.help !== true ? 2 : 0;
  }
  if (!(command in COMMANDS)) {
    io.err(`headcount: unknown command "${command}"\n${usage()}`);
    return 2;
  }
  const json = values.json === true;
  if (command === 'erase') return eraseCommand(args, io);
  try {
    const o = resolveOptions(options);
    const store = options.store ?? new FileStateStore(o.stateDir);
    switch (command as keyof typeof COMMANDS) {
      case 'status': {
        const status = await createHeadcount({ ...options, log: () => undefined }).status();
        // This process has not sent anything: the running product's figures come from the ledger
        // and the stored last-sent time.
        const ledger = await readLedger(o.stateDir);
        const redactedInSends = ledger.reduce((n, e) => n + (typeof e.redacted === 'number' ? e.redacted : 0), 0);
        if (json) {
          io.out(JSON.stringify({ ...status, redactedInRecordedSends: redactedInSends }, null, 2));
          return 0;
        }
        io.out(
          [
            `telemetry: ${status.enabled ? 'ON' : 'off'} (${status.reason})`,
            `product:   ${status.product} ${status.version ?? '(version not sent: not x.y.z)'}`,
            `endpoint:  ${status.endpoint ?? '-'}${status.debug ? ' (debug: printing instead of sending)' : ''}`,
            `install:   ${status.installId ?? '(none)'}${status.idCreatedAt ? ` since ${fmtTime(status.idCreatedAt)}` : ''}`,
            `last send: ${fmtTime(status.lastSentAt)}${status.lastResult === undefined ? '' : `, result: ${status.lastResult}`}`,
            `next send: ${status.nextSendAt === undefined ? (status.nextSendNote ?? '-') : `${fmtTime(status.nextSendAt)}${status.nextSendNote === undefined ? '' : ` ${status.nextSendNote}`}`}`,
            `state:     ${status.stateDir} (${status.store}${status.storeNote ? `: ${status.storeNote}` : ''})${status.notes.map((n) => `\n  note: ${n}`).join('')}`,
            `redacted:  ${redactedInSends} attribute(s) in the ${ledger.length} recorded send(s)${status.redactions.entries.map((e) => `\n  ${e.where} ${e.key}: ${e.reason} ×${e.count}`).join('')}`,
            `catalog:   ${catalogFingerprint(o.catalog)} (consent to exactly this list: ${status.variables.accept}=${catalogFingerprint(o.catalog)})`,
            `switch off: ${status.variables.disabled}=1 (or ${status.variables.doNotTrack}=1)`,
          ].join('\n'),
        );
        return 0;
      }
      case 'preview': {
        const preview = await createHeadcount({ ...options, log: (l) => io.err(`[headcount] ${l}`) }).preview();
        if (json) {
          io.out(JSON.stringify(preview.requests.map((r) => ({ ...r, body: Buffer.from(r.body).toString('base64') })), null, 2));
          return 0;
        }
        io.out(`telemetry is ${preview.enabled ? 'ON' : 'off'} (${preview.reason}); a heartbeat now would send:`);
        for (const r of preview.requests) {
          io.out(`\nPOST ${r.url || `/v1/${r.signal}`}  ${r.body.byteLength} B protobuf, ${r.wireBytes} B deflate on the wire, sha256 ${r.sha256}`);
          io.out(JSON.stringify(r.readable, null, 2));
        }
        return 0;
      }
      case 'enable':
        await writePreference(o.stateDir, 'enabled');
        io.out(`telemetry enabled for ${o.product} (still needs ${o.envPrefix}TELEMETRY_TOKEN)`);
        return 0;
      case 'disable': {
        const previous = await store.read().catch(() => undefined);
        await writePreference(o.stateDir, 'disabled');
        await store.clear();
        // The deleted id is printed once: it is what a maintainer needs for `headcount erase`.
        const erased = previous === undefined ? 'there was no install id' : `install id ${previous.installId} deleted (ask the maintainer to erase its data with it)`;
        io.out(`telemetry disabled for ${o.product} in ${o.stateDir}; ${erased}`);
        io.out('this applies to processes that use this state dir (run as the service user, or set the same state dir)');
        return 0;
      }
      case 'reset-id':
        await store.clear();
        io.out('install id forgotten; the next heartbeat uses a new one');
        return 0;
      case 'last': {
        const entries = await readLedger(o.stateDir);
        if (json) io.out(JSON.stringify(entries, null, 2));
        else if (entries.length === 0) io.out('no sends recorded');
        else for (const e of entries) io.out(`${e.time}  ${e.signal.padEnd(7)}  ${String(e.bytes).padStart(5)} B  HTTP ${e.status || 'none'}  sha256 ${e.sha256}`);
        return 0;
      }
      case 'privacy-doc':
        io.out(renderPrivacyDoc({ product: o.product, catalog: o.catalog, envPrefix: o.envPrefix }));
        return 0;
      case 'collector-env': {
        const text = envFileText(collectorAllowListEnv([o.product], o.catalog));
        if (typeof values.out === 'string') {
          await writeAtomic(resolve(values.out), text);
          io.out(`wrote ${values.out}`);
        } else io.out(text);
        return 0;
      }
    }
  } catch (error) {
    io.err(`headcount ${command}: ${(error as Error).message}`);
    return 1;
  }
  return 2;
}

/** The `headcount` bin: loads the product's options from `--app`. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { app: { type: 'string' } }, allowPositionals: true, strict: false });
  if (positionals[0] === 'erase') return eraseCommand(argv, defaultIo);
  if (positionals[0] === 'report' || positionals[0] === 'simulate' || positionals[0] === 'demo') {
    const { runMaintainerCommand } = await import('./simulate/cli.ts');
    return runMaintainerCommand(argv, defaultIo);
  }
  if (typeof values.app !== 'string') {
    if (argv.includes('-h') || argv.includes('--help') || argv.length === 0) {
      defaultIo.out(usage());
      return argv.length === 0 ? 2 : 0;
    }
    defaultIo.err('headcount: --app <module> is required (a module whose default export is the HeadcountOptions)');
    return 2;
  }
  let options: HeadcountOptions;
  try {
    const mod = (await import(pathToFileURL(resolve(values.app)).href)) as { default?: HeadcountOptions };
    if (mod.default === undefined) throw new Error('it has no default export');
    options = mod.default;
  } catch (error) {
    defaultIo.err(`headcount: cannot load --app ${values.app}: ${(error as Error).message}`);
    return 2;
  }
  return runCli(argv, options);
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
