import { describe, expect, it } from 'vitest';
import { SentCids } from '../../src/broker/redis/sent-cids';

describe('the cid records a node writes back after a loss', () => {
  it('keeps each record for as long as Redis does, with the time it has left', () => {
    let now = 1_000;
    const sent = new SentCids(() => now);
    sent.add('a', 'id-a 1', 10_000);
    now += 4_000;
    sent.add('b', 'id-b 2', 10_000);
    now += 1_000;
    expect(sent.live()).toEqual([
      { key: 'a', value: 'id-a 1', ttlMs: 5_000 },
      { key: 'b', value: 'id-b 2', ttlMs: 9_000 },
    ]);
    now += 5_000;
    expect(sent.live()).toEqual([{ key: 'b', value: 'id-b 2', ttlMs: 4_000 }]);
  });

  it('holds at most 100,000 records, dropping the oldest', () => {
    const sent = new SentCids(() => 0);
    for (let i = 0; i < 100_005; i++) sent.add(`k${i}`, `v${i}`, 60_000);
    const live = sent.live();
    expect(live).toHaveLength(100_000);
    expect(live[0]?.key).toBe('k5');
    expect(live.at(-1)?.key).toBe('k100004');
  });

  it('keeps a record seen twice (stored, then received or read back) once', () => {
    let now = 0;
    const sent = new SentCids(() => now);
    sent.add('a', 'id-a 1', 10_000);
    now += 1_000;
    sent.add('a', 'id-a 1', 9_000);
    sent.add('b', 'id-b 2', 10_000);
    expect(sent.live()).toEqual([
      { key: 'a', value: 'id-a 1', ttlMs: 9_000 },
      { key: 'b', value: 'id-b 2', ttlMs: 10_000 },
    ]);
    // Once it expired, the key can be kept again.
    now += 9_000;
    sent.add('a', 'id-a 1', 5_000);
    expect(sent.live().map((r) => r.key)).toEqual(['b', 'a']);
  });
});
