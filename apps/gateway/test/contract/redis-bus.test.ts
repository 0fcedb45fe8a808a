import { useRedis } from '@chat/test-support';
import { afterEach } from 'vitest';
import type { Bus } from '../../src/broker/bus';
import { openRedisBus } from '../support/redis';
import { busContract } from './bus-contract';

const redis = useRedis();
const open: Bus[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

busContract('RedisBus', async (storage) => {
  const prefix = `c${Math.random().toString(36).slice(2, 8)}`;
  const nodes: [Bus, Bus] = [
    await openRedisBus(redis.url, prefix, storage),
    await openRedisBus(redis.url, prefix, storage),
  ];
  open.push(...nodes);
  return { nodes, historyLimit: 100 };
});
