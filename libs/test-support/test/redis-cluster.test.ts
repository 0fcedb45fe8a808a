import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisCluster, type RedisClusterGroup } from '../src/redis-cluster';

let cluster: RedisClusterGroup;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster.close();
});

it('forms 3 masters with a replica each, covering every slot', async () => {
  const masters = await cluster.masters();
  expect(masters).toHaveLength(3);
  for (const master of masters) expect(master.replicaPorts).toHaveLength(1);
  const covered = masters
    .flatMap((m) => m.slots)
    .reduce((sum, [from, to]) => sum + (to - from + 1), 0);
  expect(covered).toBe(16_384);
  const client = new Cluster(cluster.seedsEnv.split(',').map((seed) => seed));
  try {
    await client.set('{a}x', '1');
    expect(await client.get('{a}x')).toBe('1');
  } finally {
    client.disconnect();
  }
});
