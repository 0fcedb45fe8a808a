import type { StartedRedisContainer } from '@testcontainers/redis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisBus } from '../../src/bus/redis-bus';
import { createLogger } from '../../src/logger';
import { startRedis } from '../support/redis';
import { busContract } from './bus-contract';

let redis: StartedRedisContainer;
const open: RedisBus[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});
afterAll(async () => {
  await redis?.stop();
});

busContract('RedisBus', async () => {
  const prefix = `c${Math.random().toString(36).slice(2, 8)}`;
  const make = () => {
    const bus = new RedisBus({
      url: redis.getConnectionUrl(),
      prefix,
      historyLimit: 100,
      commandTimeoutMs: 2_000,
      logger: createLogger('test', 'silent'),
    });
    bus.connect();
    open.push(bus);
    return bus;
  };
  const nodes: [RedisBus, RedisBus] = [make(), make()];
  await Promise.all(
    nodes.map(
      (bus) =>
        new Promise<void>((resolve) => {
          bus.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve });
        }),
    ),
  );
  return { nodes, historyLimit: 100 };
});
