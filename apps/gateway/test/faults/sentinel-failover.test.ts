import { spawnGateway, startSentinelGroup } from '@chat/test-support';
import { describe, expect, it } from 'vitest';
import {
  expectCleanFailover,
  failoverUnderTraffic,
  useFailoverFixture,
} from '../support/failover-run';

/** The promise under test: a message flows again this soon after a replica is promoted. */
const FAILOVER_BOUND_MS = 10_000;
const PASSWORD = 'sentinel-test-secret';

const fixture = useFailoverFixture();

describe('Redis Sentinel fail-over (master SIGKILLed under traffic)', () => {
  it('follows the promoted replica without a restart: delivery within 10 s, every message once or counted lost, no false leaves', async () => {
    const sentinels = await startSentinelGroup({ password: PASSWORD });
    fixture.redis = sentinels;
    const env = {
      REDIS_SENTINELS: sentinels.sentinelsEnv,
      REDIS_SENTINEL_MASTER: sentinels.masterName,
      REDIS_PASSWORD: PASSWORD,
      ANON_RATE_PER_IP: '100000',
      ANON_BURST_PER_IP: '100000',
    };
    const gateways = await Promise.all(
      ['s1', 's2', 's3'].map((id) => spawnGateway({ ...env, NODE_ID: id })),
    );
    fixture.gateways = gateways;
    const outcome = await failoverUnderTraffic(
      'sentinel fail-over',
      gateways,
      async () => {
        const promoted = sentinels.promoted();
        await sentinels.master.crash();
        const promotion = await promoted;
        expect(promotion).toMatchObject({
          fromPort: sentinels.master.port,
          toPort: sentinels.replica.port,
        });
        return promotion.at;
      },
      FAILOVER_BOUND_MS,
      fixture.clients,
    );
    expectCleanFailover(outcome, gateways, FAILOVER_BOUND_MS);
    // While no writable master exists, /readyz said so (not merely "not ready").
    const { unready } = outcome;
    expect(unready.length).toBeGreaterThan(0);
    for (const sample of unready) {
      expect(sample.reason).toMatch(/no writable redis master|READONLY|canary|no write/);
    }
    expect(unready.some((s) => s.reason?.startsWith('no writable redis master'))).toBe(true);
  }, 120_000);
});
