import { useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/broker/bus';
import { openRedisBus } from '../support/redis';
import { draft } from '../contract/bus-contract';

const redis = useRedis();
const open: Bus[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

describe('commands issued in one turn (one write for all but the first)', () => {
  it('are stored in the order issued, each answered with its own position', async () => {
    const bus = await openRedisBus(redis.url, `t${Math.random().toString(36).slice(2, 8)}`);
    open.push(bus);
    // 50 sends in one turn, then 3 in three separate turns.
    const together = Array.from({ length: 50 }, (_, i) => bus.append(draft('lobby', `m${i}`)));
    const outcomes = await Promise.all(together);
    for (let i = 50; i < 53; i++) outcomes.push(await bus.append(draft('lobby', `m${i}`)));
    expect(outcomes.map((o) => (o.status === 'stored' ? o.seq : o.status))).toEqual(
      Array.from({ length: 53 }, (_, i) => i + 1),
    );
    const stored = await bus.range('lobby', 0, 100);
    expect(stored.messages.map((m) => m.text)).toEqual(
      Array.from({ length: 53 }, (_, i) => `m${i}`),
    );
  });
});
