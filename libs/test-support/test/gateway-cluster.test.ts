import { describe, expect, it } from 'vitest';
import { spawnGateway, type GatewayProcess } from '../src/gateway-process';
import { useGatewayCluster } from '../src/gateway-cluster';
import { adminClient } from '../src/redis';

describe('spawnGateway', () => {
  it('starts a ready gateway that drains and exits 0 on stop()', async () => {
    const gateway = await spawnGateway({ NODE_ID: 'solo' });
    expect(gateway.nodeId).toBe('solo');
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    expect(await gateway.stop()).toEqual({ code: 0, signal: null });
    expect(gateway.logs.some((line) => line.includes('"msg":"drained"'))).toBe(true);
  });

  it('rejects with the logs, and leaves nothing running, when the gateway cannot start', async () => {
    await expect(spawnGateway({ LOG_LEVEL: 'shouting' })).rejects.toThrow(
      /exited during start-up:\n.*LOG_LEVEL/,
    );
  });
});

describe('useGatewayCluster', () => {
  const cluster = useGatewayCluster({ env: { LOG_LEVEL: 'warn' } });
  let first: GatewayProcess | undefined;

  it('starts gateways on the suite Redis, in the order asked', async () => {
    const [a, b] = await cluster.startMany(['a', 'b'], { REDIS_PREFIX: 'ordered' });
    expect([a?.nodeId, b?.nodeId]).toEqual(['a', 'b']);
    expect(cluster.processes).toEqual([a, b]);
    first = a;
    const admin = adminClient(cluster.redisUrl);
    try {
      expect(await admin.ping()).toBe('PONG');
    } finally {
      admin.disconnect();
    }
  });

  it('killed the previous test’s gateways before this one', async () => {
    expect(cluster.processes).toEqual([]);
    expect(await first?.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const c = await cluster.start('c');
    expect(await c.crash()).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
