/**
 * The shape `collect()` must return, checked with zod before any value is looked at. Loaded with
 * the SDK pipeline at the first heartbeat (never at `start()`, never before consent).
 */
import * as z from 'zod/mini';

const ReportSchema = z.object({
  quantities: z.optional(z.record(z.string(), z.unknown())),
  flags: z.optional(z.record(z.string(), z.unknown())),
});

export type ReportMaps = z.infer<typeof ReportSchema>;

/** `collect()`'s output as `{ quantities?, flags? }` records, or undefined when it is not that shape. */
export function parseReport(report: unknown): ReportMaps | undefined {
  const parsed = ReportSchema.safeParse(report ?? {});
  return parsed.success ? parsed.data : undefined;
}
