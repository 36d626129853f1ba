/**
 * The fail-closed allow-list, generated from the catalog: every attribute key and value that
 * may leave an install. Anything else is dropped. Shared by the redacting processors (sender)
 * and the collector allow-list generator, so both enforce the same list.
 */
import { BUCKET_LABELS } from '../bucket.ts';
import type { Catalog } from '../catalog.ts';
import { renderCollectorLists } from '../collector-env.ts';
import { SERVICE_NAME_PATTERN, VERSION_PATTERN } from '../patterns.ts';

export const HEARTBEAT_METRIC = 'headcount.heartbeat';
export const FEATURE_EVENT = 'headcount.feature';
export const SCOPE_NAME = 'headcount';
/** Version of the wire schema below; sent as the instrumentation scope's version. */
export const SCHEMA_VERSION = '1';

export const QUANTITY_PREFIX = 'quantity.';
export const FLAG_PREFIX = 'flag.';
export const FEATURE_NAME_KEY = 'feature.name';
export const FEATURE_USES_KEY = 'feature.uses';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const oneOf = (...values: string[]) => (v: string) => values.includes(v);
const matches = (pattern: RegExp) => (v: string) => pattern.test(v);

/** Resource keys and the values each may take. Nothing else is ever on the resource. */
export const RESOURCE_KEYS: Readonly<Record<string, (value: string) => boolean>> = {
  'service.name': matches(SERVICE_NAME_PATTERN),
  'service.version': matches(VERSION_PATTERN),
  'service.instance.id': matches(UUID_V4),
  'headcount.channel': oneOf('stable', 'rc', 'dev'),
  'headcount.deployment': oneOf('container', 'kubernetes', 'other'),
  'os.type': oneOf('linux', 'darwin', 'windows', 'freebsd', 'other'),
  'host.arch': oneOf('amd64', 'arm64', 'arm32', 'x86', 'ppc64', 's390x', 'other'),
  'process.runtime.name': oneOf('nodejs'),
  'process.runtime.version': matches(/^\d{1,3}\.\d{1,3}$/),
};

export type Validator = (value: string) => boolean;

export interface AllowList {
  readonly resource: ReadonlyMap<string, Validator>;
  /** Data point attributes of `headcount.heartbeat`. */
  readonly heartbeat: ReadonlyMap<string, Validator>;
  /** Attributes of `headcount.feature` log records. */
  readonly feature: ReadonlyMap<string, Validator>;
}

const isBucket = oneOf(...BUCKET_LABELS);
const isUsesBucket = oneOf(...BUCKET_LABELS.filter((b) => b !== '0'));
const isFlag = oneOf('0', '1');

export function allowListFor(catalog: Catalog): AllowList {
  const heartbeat = new Map<string, Validator>();
  for (const name of catalog.quantities.keys()) heartbeat.set(QUANTITY_PREFIX + name, isBucket);
  for (const name of catalog.flags.keys()) heartbeat.set(FLAG_PREFIX + name, isFlag);
  const features = new Set(catalog.features.keys());
  return {
    resource: new Map(Object.entries(RESOURCE_KEYS)),
    heartbeat,
    feature: new Map<string, Validator>([
      [FEATURE_NAME_KEY, (v) => features.has(v)],
      [FEATURE_USES_KEY, isUsesBucket],
    ]),
  };
}

/**
 * The collector's allow-list for one product, as the environment variables its config reads
 * (`HEADCOUNT_PRODUCTS`, `HEADCOUNT_HEARTBEAT_KEYS`, `HEADCOUNT_FEATURE_NAMES`: JSON lists of
 * names that the collector tests by membership). Generated from the same catalog as the
 * sender's allow-list, so both sides accept exactly the same names. See src/collector-env.ts.
 */
export function collectorAllowListEnv(products: readonly string[], catalog: Catalog): Record<string, string> {
  return renderCollectorLists({
    products,
    heartbeatKeys: [...[...catalog.quantities.keys()].map((n) => QUANTITY_PREFIX + n), ...[...catalog.flags.keys()].map((n) => FLAG_PREFIX + n)],
    features: [...catalog.features.keys()],
  });
}
