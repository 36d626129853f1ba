/**
 * A loading step of `loadSdkPipeline` (pipeline.ts): the OTel API, core and resources, in a chunk
 * of their own. The transport takes the context API and `suppressTracing` from here too.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';

export { context } from '@opentelemetry/api';
export { suppressTracing } from '@opentelemetry/core';
export const loaded = resourceFromAttributes !== undefined;
