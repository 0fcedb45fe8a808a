import { useRedis } from '@chat/test-support';
import { afterEach } from 'vitest';
import type { Broker } from '../../src/broker/create-broker';
import { ARCHIVE_URL, openRedisBroker } from '../support/redis';
import { dmStoreContract } from './dm-store-contract';

const redis = useRedis();
const open: Broker[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => Promise.all([b.bus.close(), b.state.close()])));
});

dmStoreContract('RedisDms', async ({ limit, ttlMs, archived }) => {
  const prefix = `d${Math.random().toString(36).slice(2, 8)}`;
  const broker = await openRedisBroker(redis.url, prefix, {
    dmHistoryLimit: limit,
    roomTtlMs: ttlMs,
    ...(archived === true && { databaseUrl: ARCHIVE_URL }),
  });
  open.push(broker);
  return { store: broker.dms, bus: broker.bus };
});
