/**
 * Renders a catalog as the Markdown field table of a product's privacy notice: what is sent,
 * why, and an example of the value as it leaves the install. Generated, never hand-edited.
 */
import { BUCKET_LABELS } from './bucket.ts';
import { catalogFingerprint, type Catalog } from './catalog.ts';
import { envPrefixFor, variableNames } from './config.ts';
import { FEATURE_NAME_KEY, FEATURE_USES_KEY, FLAG_PREFIX, QUANTITY_PREFIX } from './otlp/allowlist.ts';

export interface PrivacyDocOptions {
  readonly product: string;
  readonly catalog: Catalog;
  readonly envPrefix?: string;
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderPrivacyDoc({ product, catalog, envPrefix = envPrefixFor(product) }: PrivacyDocOptions): string {
  const v = variableNames(envPrefix);
  const lines: string[] = [
    `# ${product}: anonymous install telemetry`,
    '',
    `<!-- Generated from the catalog by \`headcount privacy-doc\`. Do not edit by hand. -->`,
    '',
    `Telemetry is **off** unless the operator sets \`${v.token}\`. It stays off whenever`,
    `\`${v.doNotTrack}=1\`, \`${v.disabled}=1\` or \`${v.offline}=1\` is set, in CI, and when`,
    '`NODE_ENV` is `test` or `development` (unless `' + v.force + '=1`).',
    'While off, nothing is sent and no file is written. An install that never opted in has no',
    `install id; an explicit opt-out (\`${v.disabled}=1\`, \`${v.doNotTrack}=1\`, \`headcount disable\`)`,
    'deletes the one it had.',
    '',
    'When on, one heartbeat a day carries the fields below. Numbers leave only as ranges',
    `(${BUCKET_LABELS.map((b) => `\`${b}\``).join(', ')}), never exact. No hostnames, IP addresses,`,
    'user names, paths, emails or free text are sent; every value passes an allow-list and',
    'PII scrubbers before it leaves, and the collector strips the sender\'s IP address.',
    'The collector accepts only the fields, names and value ranges listed here and replaces the',
    'install id by its pseudonym before anything is stored. To have an install\'s data erased, give',
    'the maintainer its install id (`headcount status` shows it).',
    '',
    '## Always sent',
    '',
    '| Field | Why | Example |',
    '| --- | --- | --- |',
    '| `service.instance.id` | A random install id (UUID), rotated every 30 days and deleted on an explicit opt-out; counts installs without identifying anyone. The collector stores only a keyed pseudonym of it (a hash with a secret key the maintainer keeps), never the id itself. | `9f1c…-…` |',
    '| `service.version`, `headcount.channel` | Which releases run, and whether stable, release-candidate or development builds. | `1.4.0`, `stable` |',
    '| `os.type`, `host.arch` | Which platforms to build and test for. | `linux`, `amd64` |',
    '| `process.runtime.name`, `process.runtime.version` | Which Node.js versions to support (major.minor only). | `nodejs`, `22.23` |',
    '| `headcount.deployment` | Container, Kubernetes or other, to prioritise packaging. | `container` |',
    '',
  ];
  if (catalog.quantities.size > 0) {
    lines.push('## Quantities (sent as ranges)', '', '| Field | Why | Example |', '| --- | --- | --- |');
    for (const [name, e] of catalog.quantities) {
      lines.push(`| \`${QUANTITY_PREFIX}${name}\` | ${esc(e.purpose)}${e.unit ? ` (${esc(e.unit)})` : ''} | \`10-99\` |`);
    }
    lines.push('');
  }
  if (catalog.flags.size > 0) {
    lines.push('## Flags (sent as 0 or 1)', '', '| Field | Why | Example |', '| --- | --- | --- |');
    for (const [name, e] of catalog.flags) lines.push(`| \`${FLAG_PREFIX}${name}\` | ${esc(e.purpose)} | \`1\` |`);
    lines.push('');
  }
  if (catalog.features.size > 0) {
    lines.push(
      '## Features (a count per day, sent as a range)',
      '',
      `Each feature used on a day becomes one event with \`${FEATURE_NAME_KEY}\` and \`${FEATURE_USES_KEY}\` (a range), dated to the day.`,
      '',
      '| Feature | Why | Example |',
      '| --- | --- | --- |',
    );
    for (const [name, e] of catalog.features) lines.push(`| \`${name}\` | ${esc(e.purpose)} | \`${FEATURE_USES_KEY}=1-9\` |`);
    lines.push('');
  }
  lines.push(
    '## See and control it',
    '',
    '- `headcount status`: on or off, and why; endpoint; install id; last and next send.',
    '- `headcount preview`: the exact bodies the next heartbeat would send.',
    `- \`${v.debug}=1\`: print the bodies instead of sending them.`,
    '- `headcount last`: the local ledger of every send (time, size, hash, HTTP status).',
    '- `headcount disable` / `headcount enable`, `headcount reset-id`.',
    `- \`${v.accept}=${catalogFingerprint(catalog)}\`: consent to exactly the fields above. If a later`,
    '  release reports more, its fingerprint changes and telemetry stays off until you accept it.',
    '',
  );
  return lines.join('\n');
}
