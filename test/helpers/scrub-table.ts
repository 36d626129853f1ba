/** Table-driven scrubber tests: one test per case, named by the promise it pins. */
import { expect, it } from 'vitest';
import { scrubReason, type ScrubReason } from '../../src/redact.ts';

/** `[promise, value, reason]`: the reason `headcount status` counts, or undefined for a value that must pass. */
export type ScrubCase = readonly [promise: string, value: string, reason: ScrubReason | undefined];

export function scrubTable(cases: readonly ScrubCase[]): void {
  for (const [promise, value, reason] of cases) {
    it(`${promise}: ${JSON.stringify(value)} → ${reason ?? 'passes'}`, () => {
      expect(scrubReason(value)).toBe(reason);
    });
  }
}
