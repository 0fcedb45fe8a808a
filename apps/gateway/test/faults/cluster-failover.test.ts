import { spawnGateway, startRedisCluster } from '@chat/test-support';
import { describe, expect, it } from 'vitest';
import { keySlot } from '../../src/broker/redis/key-slot';
import {
  expectCleanFailover,
  failoverUnderTraffic,
  useFailoverFixture,
} from '../support/failover-run';

/** The promise under test: a message flows again this soon after a replica is promoted. */
const FAILOVER_BOUND_MS = 15_000;

const fixture = useFailoverFixture();

describe('Redis Cluster fail-over (the master of the room’s shard SIGKILLed under traffic)', () => {
  it('follows the promoted replica without a restart: delivery within 15 s, every message once or counted lost, no false leaves', async () => {
    const cluster = await startRedisCluster();
    fixture.redis = cluster;
    const env = {
      REDIS_CLUSTER: cluster.seedsEnv,
      REDIS_PREFIX: 'fo',
      ANON_RATE_PER_IP: '100000',
      ANON_BURST_PER_IP: '100000',
    };
    const gateways = await Promise.all(
      ['k1', 'k2', 'k3'].map((id) => spawnGateway({ ...env, NODE_ID: id })),
    );
    fixture.gateways = gateways;
    const slot = keySlot('fo#room#lobby#');
    const victim = (await cluster.masters()).find((m) =>
      m.slots.some(([from, to]) => from <= slot && slot <= to),
    );
    if (!victim) throw new Error('no master serves the lobby');
    const outcome = await failoverUnderTraffic(
      'cluster fail-over',
      gateways,
      async () => {
        const promoted = cluster.promoted(victim.port, victim.slots);
        await cluster.node(victim.port).crash();
        const promotion = await promoted;
        expect(victim.replicaPorts).toContain(promotion.toPort);
        return promotion.at;
      },
      FAILOVER_BOUND_MS,
      fixture.clients,
    );
    expectCleanFailover(outcome, gateways, FAILOVER_BOUND_MS);
    // While the room's shard had no master, /readyz said the broker was unreachable.
    expect(outcome.unready.length).toBeGreaterThan(0);
    for (const sample of outcome.unready) {
      expect(sample.reason).toMatch(/redis unreachable|canary|no write/);
    }
  }, 120_000);
});
