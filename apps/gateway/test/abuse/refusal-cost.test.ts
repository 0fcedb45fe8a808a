import { afterEach, describe, expect, it } from 'vitest';
import { connect, type TestClient } from '../support/client';
import { closeAll, at, redisCluster, type RunningGateway } from '../support/cluster';
import { adminClient, useRedis } from '@chat/test-support';

const redis = useRedis();
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

/** Scripts Redis has run so far (every append, stored or refused, is one EVALSHA). */
async function scriptRuns(url: string): Promise<number> {
  const probe = adminClient(url);
  try {
    const info = await probe.info('commandstats');
    const match = /cmdstat_evalsha:calls=(\d+)/.exec(info);
    return Number(match?.[1] ?? 0);
  } finally {
    probe.disconnect();
  }
}

describe('refusals are cheap (issue #11, point 10)', () => {
  it('refuses a flooder over its budget on the node, without a Redis round trip per send', async () => {
    nodes = await redisCluster(redis.url, 1, { RATE_PER_SEC: '1', RATE_BURST: '5' });
    const flooder = await connect(at(nodes, 0).url, { name: 'flooder', room: 'flood' });
    clients.push(flooder);
    // Fewer than the 100 refusals after which a client that ignores them is cut off.
    const sends = 95;
    const before = await scriptRuns(redis.url);
    const acks = await Promise.all(
      Array.from({ length: sends }, (_, i) => flooder.request('send', { text: `m${i}` })),
    );
    const after = await scriptRuns(redis.url);
    const refused = acks.filter((ack) => !ack.ok);
    // What the flooder notices: its budget (5, plus at most a refill or two), then RATE_LIMITED.
    expect(acks.length - refused.length).toBeGreaterThanOrEqual(5);
    expect(acks.length - refused.length).toBeLessThanOrEqual(8);
    for (const ack of refused) {
      expect(ack).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', retryable: true } });
    }
    // What Redis notices: a handful of script runs for 95 sends, not one per send.
    expect(after - before).toBeLessThan(20);
  });
});
