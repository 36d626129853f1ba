/**
 * The heartbeat's request bodies, built by the real OTel SDK (`sdk-pipeline.ts`). The SDK is a
 * lot of code to compile and evaluate at once (~20 ms of a busy event loop on a 2-core VM), so it
 * is imported at the first heartbeat (not at `start()`) in steps, with the host's queued work let
 * through between them (`loadSdkPipeline`): no single step blocks the event loop for long.
 * `preview()` and a real send both call `buildBodies`, so what an operator previews is what is
 * sent.
 */
import type { Attributes } from '@opentelemetry/api';
import { nextTurn } from '../schedule.ts';
import type { AllowList } from './allowlist.ts';
import type { RedactionCounter } from './redaction-counter.ts';
import type { ReportMaps } from './report-schema.ts';
import type * as SdkPipelineModule from './sdk-pipeline.ts';

export interface FeatureDay {
  /** UTC midnight of the day, ms since epoch. */
  readonly day: number;
  readonly feature: string;
  /** Bucket label of the day's use count (never `0`). */
  readonly uses: string;
}

export interface HeartbeatInput {
  readonly resource: Attributes;
  /** `quantity.*` → bucket label, `flag.*` → `0`/`1`. */
  readonly heartbeat: Attributes;
  readonly features: readonly FeatureDay[];
  /** Timestamps are coarsened to this UTC day (ms since epoch of its midnight). */
  readonly day: number;
}

export interface Bodies {
  /** Uncompressed OTLP protobuf `ExportMetricsServiceRequest`. */
  readonly metrics: Uint8Array;
  /** Uncompressed OTLP protobuf `ExportLogsServiceRequest`, absent when no feature was used. */
  readonly logs?: Uint8Array;
  /** The same redacted requests in OTLP/JSON, for people to read (`headcount preview`). */
  readonly readable: { readonly metrics: unknown; readonly logs?: unknown };
}

type SdkPipeline = typeof SdkPipelineModule;
let loading: Promise<SdkPipeline> | undefined;
// Stryker disable next-line ArrayDeclaration: equivalent, nothing reads `steps` (it only keeps each stage's export used for the bundler)
const steps: unknown[] = [];

/**
 * Imports the SDK pipeline in three steps (each its own chunk in the build, compiled and
 * evaluated on its own): the OTel API, core and resources; the metrics SDK; the logs SDK, the
 * OTLP serialisers and Headcount's pipeline. A turn of the event loop passes between steps.
 * Later calls share the first load; a failed load is retried by the next call.
 */
export function loadSdkPipeline(): Promise<SdkPipeline> {
  loading ??= (async () => {
    // A used export of each step, so the bundler keeps the step a chunk of its own (an import
    // whose result is unused would be folded into the last one).
    // Stryker disable next-line CallExpression: equivalent, sdk-pipeline.ts imports the same modules; skipping a step changes only how the load is spread over turns
    steps.push((await import('./stages/base.ts')).loaded);
    await nextTurn();
    // Stryker disable next-line CallExpression: equivalent, sdk-pipeline.ts imports the same modules; skipping a step changes only how the load is spread over turns
    steps.push((await import('./stages/metrics.ts')).loaded);
    await nextTurn();
    const sdk = await import('./sdk-pipeline.ts');
    await nextTurn();
    return sdk;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Checks `collect()`'s output against its schema (zod, loaded with the SDK pipeline). */
export async function parseCollected(report: unknown): Promise<ReportMaps | undefined> {
  return (await loadSdkPipeline()).parseReport(report);
}

export async function buildBodies(input: HeartbeatInput, allow: AllowList, counter: RedactionCounter, version: string): Promise<Bodies> {
  const sdk = await loadSdkPipeline();
  return sdk.buildBodies(input, allow, counter, version);
}
