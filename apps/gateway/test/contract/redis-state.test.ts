import { useRedis } from '@chat/test-support';
import { afterEach } from 'vitest';
import type { Bus } from '../../src/broker/bus';
import { openRedisBroker } from '../support/redis';
import { stateContract } from './state-contract';

const redis = useRedis();
const open: Bus[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

stateContract('RedisState', async () => {
  const prefix = `s${Math.random().toString(36).slice(2, 8)}`;
  const { bus, state } = await openRedisBroker(redis.url, prefix);
  open.push(bus);
  return { state, bus };
});
