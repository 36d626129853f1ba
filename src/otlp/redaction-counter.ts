/**
 * Counts of attributes the redacting processors dropped (`redacting.ts`): key and reason, never
 * the value. No OTel import: the active part holds one before the SDK is loaded.
 */
import { scrubReason } from '../redact.ts';

export type Where = 'resource' | 'metric' | 'log';

/**
 * Keys of Headcount's own wire namespaces (`service.version`, `os.type`, `quantity.servers`, ...)
 * are shown as they are: they name what was dropped, and their dotted shape alone would look like
 * a host name to the scrubber. Any other key is shown only when it passes the scrubber.
 */
const WIRE_KEY = /^(?:service|headcount|os|host|process|quantity|flag|feature)\.[a-z][a-z0-9_.]{0,62}$/;

/** Counts of dropped attributes, `[where, key, reason]` (as JSON) → count. Values are never kept. */
export class RedactionCounter {
  readonly #counts = new Map<string, number>();
  #total = 0;

  add(where: Where, key: string, reason: string): void {
    const safeKey = WIRE_KEY.test(key) || scrubReason(key) === undefined ? key : '<redacted key>';
    // A tuple, not `where:key:reason`: a key may itself hold a colon (`deploy:tier`).
    const id = JSON.stringify([where, safeKey, reason]);
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
    this.#total++;
  }

  get total(): number {
    return this.#total;
  }

  entries(): Array<{ where: string; key: string; reason: string; count: number }> {
    return [...this.#counts].map(([id, count]) => {
      const [where, key, reason] = JSON.parse(id) as [string, string, string];
      return { where, key, reason, count };
    });
  }
}
