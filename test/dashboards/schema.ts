/**
 * JSON schemas generated from Grafana's TypeScript types (test/dashboards/grafana-types.ts) with
 * ts-json-schema-generator, compiled with ajv. Objects are closed (`additionalProperties:
 * false`), so a misspelt or unknown field fails just like a wrong type does.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('./grafana-types.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

export const SCHEMA_TYPES = [
  'GrafanaDashboard',
  'StatPanelOptions',
  'TimeSeriesPanelOptions',
  'BarGaugePanelOptions',
  'TablePanelOptions',
  'TimeSeriesFieldConfig',
  'TableFieldConfig',
  'PrometheusQuery',
] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export type Validators = Record<SchemaType, ValidateFunction>;

/** Generates every schema (a few seconds: it type-checks @grafana/schema) and compiles it. */
export function grafanaValidators(): Validators {
  const generator = createGenerator({
    path: entry,
    tsconfig,
    type: '*',
    expose: 'export',
    topRef: true,
    jsDoc: 'none',
    additionalProperties: false,
    skipTypeCheck: true,
  });
  const ajv = new Ajv({ allErrors: true, strict: false });
  const out: Partial<Validators> = {};
  for (const type of SCHEMA_TYPES) out[type] = ajv.compile(generator.createSchema(type) as Record<string, unknown>);
  return out as Validators;
}

/** Readable ajv errors, at most a few. */
export const describeErrors = (validate: ValidateFunction): string =>
  (validate.errors ?? [])
    .slice(0, 30)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
