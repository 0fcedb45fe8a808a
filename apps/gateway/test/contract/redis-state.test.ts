import type { StartedRedisContainer } from '@testcontainers/redis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisBus } from '../../src/bus/redis-bus';
import { createLogger } from '../../src/logger';
import { RedisState } from '../../src/state/redis-state';
import { startRedis } from '../support/redis';
import { stateContract } from './state-contract';

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

stateContract('RedisState', async () => {
  const prefix = `s${Math.random().toString(36).slice(2, 8)}`;
  const bus = new RedisBus({
    url: redis.getConnectionUrl(),
    prefix,
    historyLimit: 100,
    commandTimeoutMs: 2_000,
    logger: createLogger('test', 'silent'),
  });
  open.push(bus);
  const up = new Promise<void>((resolve) =>
    bus.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve }),
  );
  bus.connect();
  await up;
  return { state: new RedisState(bus.pub, prefix), bus };
});
