import { describe, expect, it } from 'vitest';
import { takeToken, type Bucket } from '../../src/broker/token-bucket';

describe('takeToken', () => {
  it('allows a burst, then refills at the rate', () => {
    let bucket: Bucket | undefined;
    const take = (now: number) => {
      const result = takeToken(bucket, now, 2, 3);
      bucket = result.bucket;
      return result.allowed;
    };
    expect([take(0), take(0), take(0), take(0)]).toEqual([true, true, true, false]);
    expect(take(250)).toBe(false);
    expect(take(500)).toBe(true);
    expect(take(10_000)).toBe(true);
    expect(bucket?.tokens).toBe(2);
  });
});
