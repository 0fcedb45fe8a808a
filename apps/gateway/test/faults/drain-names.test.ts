import { useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, refused } from '../support/client';
import { at, redisCluster, stopAll, type RunningGateway } from '../support/cluster';

/**
 * A drain shorter than the grace period ends the grace periods of clients that have not moved
 * yet (their link stalled, say): they are announced as left, but each keeps its name for the
 * rest of its grace period, so nobody else takes it before the client notices and comes back.
 * (The soak found it on Sentinel: a client stalled through a drain came back to NAME_TAKEN.)
 */
const ENV = { LEAVE_GRACE_MS: '6000', DRAIN_TIMEOUT_MS: '1500', NODE_TTL_MS: '2000' };

describe('a drain that cuts a grace period short', () => {
  const redis = useRedis();
  let nodes: RunningGateway[] = [];

  afterEach(async () => {
    await stopAll(nodes);
    nodes = [];
  });

  it('keeps the name of a client that has not moved yet for the rest of its grace period', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    const alice = await connect(n0.url, { name: 'alice' });
    const { resumeToken } = alice.welcome;

    // n0 drains; alice does not reconnect (a stalled link) until the drain is over.
    await n0.gateway.drain();
    nodes.splice(0, 1);
    expect((await refused(n1.url, { name: 'alice' })).code).toBe('NAME_TAKEN');

    // alice notices and resumes on n1: the same user, the same name.
    const back = await connect(n1.url, { name: 'alice', resume: resumeToken });
    expect(back.welcome.user).toEqual(alice.welcome.user);
    back.close();
    alice.close();
  }, 30_000);
});
