/** A loading step of `loadSdkPipeline` (pipeline.ts): the OTel metrics SDK, in a chunk of its own. */
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export const loaded = MeterProvider !== undefined;
