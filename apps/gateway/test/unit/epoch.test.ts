import { describe, expect, it } from 'vitest';
import { newEpoch } from '../../src/broker/epoch';

describe('room log epochs', () => {
  it('are 12 base64url characters and never repeat, across refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const epoch = newEpoch();
      expect(epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
      seen.add(epoch);
    }
    expect(seen.size).toBe(2_000);
  });
});
