import { useRedis } from '@chat/test-support';
import { afterEach } from 'vitest';
import type { RedisBus } from '../../src/bus/redis-bus';
import { RedisState } from '../../src/state/redis-state';
import { openRedisBus } from '../support/redis';
import { stateContract } from './state-contract';

const redis = useRedis();
const open: RedisBus[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

stateContract('RedisState', async () => {
  const prefix = `s${Math.random().toString(36).slice(2, 8)}`;
  const bus = await openRedisBus(redis.url, prefix);
  open.push(bus);
  return { state: new RedisState(bus.pub, prefix), bus };
});
