/**
 * collect()'s output → heartbeat attributes, in process (the child-process version is in
 * test/host-safety.test.ts): declared quantities as buckets, declared flags as 0/1, everything
 * else left out with one warning naming the key, never the value.
 */
import { describe, expect, it } from 'vitest';
import { reportAttributes } from '../../src/active.ts';
import { resolveOptions } from '../../src/headcount.ts';
import { onOptions } from '../helpers/sender.ts';

function withLog() {
  const lines: string[] = [];
  return { lines, o: resolveOptions(onOptions('http://127.0.0.1:9', { log: (l) => lines.push(l) })) };
}

describe('reportAttributes', () => {
  it('buckets declared quantities and turns declared flags into 0/1', () => {
    const { lines, o } = withLog();
    expect(reportAttributes({ quantities: { servers: 42, users: 0 }, flags: { sso_enabled: true, external_db: false } }, o)).toEqual({
      'quantity.servers': '10-99',
      'quantity.users': '0',
      'flag.sso_enabled': '1',
      'flag.external_db': '0',
    });
    expect(lines).toEqual([]);
  });

  it('leaves out undeclared names (never read, no warning here) and bad values, one warning each naming the key only', () => {
    const { lines, o } = withLog();
    const out = reportAttributes(
      { quantities: { tenants: 5, servers: -1, users: Number.NaN, checks_per_day: 'many' }, flags: { beta_ui: true, sso_enabled: 'yes' } },
      o,
    );
    expect(out).toEqual({});
    // Undeclared names are warned about where collect()'s result is read (a capped key walk,
    // test/sdk-hardening.test.ts), not here: only declared names are looked up.
    expect(lines).toEqual([
      'collect(): quantity "servers" must be a finite number >= 0; left out',
      'collect(): quantity "users" must be a finite number >= 0; left out',
      'collect(): quantity "checks_per_day" must be a finite number >= 0; left out',
      'collect(): flag "sso_enabled" must be a boolean; left out',
    ]);
    expect(lines.join('\n')).not.toMatch(/many|yes/);
  });

  it('a report of the wrong shape: no values, one warning', () => {
    const { lines, o } = withLog();
    expect(reportAttributes(undefined, o)).toEqual({});
    expect(lines).toEqual(['collect(): expected { quantities?: {name: number}, flags?: {name: boolean} }; its values were left out']);
  });

  it('a missing section is no section', () => {
    const { lines, o } = withLog();
    expect(reportAttributes({ flags: { sso_enabled: true } }, o)).toEqual({ 'flag.sso_enabled': '1' });
    expect(reportAttributes({ quantities: { servers: 1 } }, o)).toEqual({ 'quantity.servers': '1-9' });
    expect(reportAttributes({}, o)).toEqual({});
    expect(lines).toEqual([]);
  });
});
