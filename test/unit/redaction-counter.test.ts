import { describe, expect, it } from 'vitest';
import { RedactionCounter } from '../../src/otlp/redaction-counter.ts';

describe('RedactionCounter', () => {
  it('shows a dropped key that holds a colon whole, with its own reason', () => {
    const counter = new RedactionCounter();
    counter.add('resource', 'deploy:tier', 'key-not-allowed');
    counter.add('resource', 'deploy:tier', 'key-not-allowed');
    counter.add('metric', 'quantity.servers', 'bucket-not-allowed');
    expect(counter.entries()).toEqual([
      { where: 'resource', key: 'deploy:tier', reason: 'key-not-allowed', count: 2 },
      { where: 'metric', key: 'quantity.servers', reason: 'bucket-not-allowed', count: 1 },
    ]);
    expect(counter.total).toBe(3);
  });

  it('never keeps a key the scrubber catches', () => {
    const counter = new RedactionCounter();
    counter.add('log', 'alice@example.com', 'key-not-allowed');
    expect(counter.entries()).toEqual([{ where: 'log', key: '<redacted key>', reason: 'key-not-allowed', count: 1 }]);
  });
});
