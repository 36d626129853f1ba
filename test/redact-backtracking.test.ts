import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_VALUE_LENGTH, scrubReason } from '../src/redact.ts';

/**
 * The scrubbers run on the send path, once per attribute value: no input may make a pattern
 * backtrack for long. Values are cut at 64 characters, which bounds polynomial patterns; an
 * exponential one would still take seconds to years. The bound below is ~1000× what a call takes
 * (a few µs of CPU), so load on the machine does not make it flaky, and it is CPU time of this
 * process, not wall time.
 */
const BOUND_MS = 20;

function cpuMsPerCall(value: string, calls = 5): number {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) scrubReason(value);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / calls;
}

/** Repeats of the characters the patterns branch on, then a character that makes the match fail late. */
const UNITS = ['a', '1', 'a.', '1.', '1-', 'a-', '0:', 'a:', ' ', '1 ', '@', 'a@', '%41', '%2', ' at ', ' dot ', '[at]', '(.)', '_at_', '-', '--', '/', '\\', '~', 'x1', 'A1b', 'eyJ', '0x', '00', '+1', '(', '1(', 'ab-1', 'a1-', '.a', 'a.1-', 'ff:', 'f', 'ff-', 'ffff.', 'ff ', 'ff_', '=', 'password', 'sk-', 'a-1.', '1 2-', 'a://', '1.1.1.'];
const pathological = UNITS.flatMap((unit) => {
  const run = unit.repeat(Math.ceil(MAX_VALUE_LENGTH / unit.length)).slice(0, MAX_VALUE_LENGTH);
  return [run, `${run.slice(0, -1)}!`, `!${run.slice(1)}`, `${run.slice(0, -2)}@x`, `${run.slice(0, -1)}\u0000`];
});
// Nested defanging: each level is read again after the one outside it.
pathological.push(`${'['.repeat(31)}at${']'.repeat(31)}`, `${'( '.repeat(15)}.${' )'.repeat(15)}x`, ` at ${' dot '.repeat(12)}`);

describe('scrubbers: no catastrophic backtracking', () => {
  it(`${pathological.length} pathological 64-character inputs each take < ${BOUND_MS} ms of CPU`, () => {
    const slow = pathological.map((v) => [v, cpuMsPerCall(v)] as const).filter(([, ms]) => ms >= BOUND_MS);
    expect(slow).toEqual([]);
  });

  it(`random strings over the patterns' special characters take < ${BOUND_MS} ms each (property)`, () => {
    const unit = fc.constantFrom(...'aAf01x9.-_:@ %/\\~=+&[]()<>#*'.split(''), 'at', 'dot', 'eyJ', '0x');
    fc.assert(
      fc.property(fc.string({ unit, minLength: 40, maxLength: MAX_VALUE_LENGTH }), (value) => {
        expect(cpuMsPerCall(value.slice(0, MAX_VALUE_LENGTH), 1)).toBeLessThan(BOUND_MS);
      }),
      { numRuns: 2000, seed: 20261202 },
    );
  });

  it('a value over 64 characters is dropped before any pattern reads it', () => {
    const long = 'a'.repeat(10_000);
    expect(scrubReason(long)).toBe('too-long');
    expect(cpuMsPerCall(long)).toBeLessThan(BOUND_MS);
  });
});
