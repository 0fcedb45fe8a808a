import { useRedisCluster } from '@chat/test-support';
import { afterEach } from 'vitest';
import type { Broker } from '../../src/broker/create-broker';
import { ARCHIVE_URL, openRedisBroker } from '../support/redis';
import { busContract } from './bus-contract';
import { dmStoreContract } from './dm-store-contract';
import { stateContract } from './state-contract';

/** The three contracts on a Redis Cluster (3 masters, 3 replicas), as on one Redis. */
const cluster = useRedisCluster();
const open: Broker[] = [];
const where = () => ({ cluster: cluster().seedsEnv });
const prefix = (kind: string) => `${kind}${Math.random().toString(36).slice(2, 8)}`;

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => Promise.all([b.bus.close(), b.state.close()])));
});

async function broker(kind: string, ...args: [string?, Parameters<typeof openRedisBroker>[2]?]) {
  const opened = await openRedisBroker(where(), args[0] ?? prefix(kind), args[1]);
  open.push(opened);
  return opened;
}

busContract('RedisBus on a cluster', async (storage) => {
  const shared = prefix('c');
  const first = await broker('c', shared, storage);
  const second = await broker('c', shared, storage);
  return { nodes: [first.bus, second.bus], historyLimit: 100 };
});

stateContract('RedisState on a cluster', async () => {
  const { bus, state } = await broker('s');
  return { state, bus };
});

dmStoreContract('RedisDms on a cluster', async ({ limit, ttlMs, archived }) => {
  const { dms, bus } = await broker('d', undefined, {
    dmHistoryLimit: limit,
    roomTtlMs: ttlMs,
    ...(archived === true && { databaseUrl: ARCHIVE_URL }),
  });
  return { store: dms, bus };
});
