/**
 * The shape `collect()` must return, checked with zod before any value is looked at. Loaded with
 * the SDK pipeline at the first heartbeat (never at `start()`, never before consent).
 */
import * as z from 'zod/mini';

/**
 * Spelled out rather than `z.infer`red, so the published declarations need no zod (a dev
 * dependency, bundled into the code); the schema below is checked against it.
 */
export interface ReportMaps {
  quantities?: Record<string, unknown> | undefined;
  flags?: Record<string, unknown> | undefined;
}

const ReportSchema: z.ZodMiniType<ReportMaps> = z.object({
  quantities: z.optional(z.record(z.string(), z.unknown())),
  flags: z.optional(z.record(z.string(), z.unknown())),
});

/** `collect()`'s output as `{ quantities?, flags? }` records, or undefined when it is not that shape. */
export function parseReport(report: unknown): ReportMaps | undefined {
  const parsed = ReportSchema.safeParse(report ?? {});
  return parsed.success ? parsed.data : undefined;
}
