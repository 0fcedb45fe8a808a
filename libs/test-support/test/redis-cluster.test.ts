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

it('still answers after every node was killed once and restarted: each master killed, its replica promoted, the old master back as a replica', async () => {
  const ports = cluster.nodes.map((n) => n.port);
  const killed = new Set<number>();
  while (killed.size < ports.length) {
    const masters = await cluster.masters();
    const victim = masters.find((m) => !killed.has(m.port)) ?? masters[0];
    if (victim === undefined) throw new Error('no master');
    const [heir] = victim.replicaPorts;
    const before = cluster.node(victim.port);
    await before.crash();
    const promotion = await cluster.promoted(victim.port, victim.slots);
    expect(promotion.toPort).toBe(heir);
    const back = await cluster.restart(victim.port);
    expect(cluster.node(victim.port)).toBe(back);
    expect(back.child.exitCode).toBeNull();
    await cluster.settled();
    const after = await cluster.masters();
    expect(after.find((m) => m.port === heir)?.replicaPorts).toEqual([victim.port]);
    killed.add(victim.port);
  }
  // Every process the group started is gone; the group still reads the restarted ones.
  const masters = await cluster.masters();
  expect(masters).toHaveLength(3);
  expect(masters.flatMap((m) => [m.port, ...m.replicaPorts]).sort()).toEqual([...ports].sort());
}, 120_000);
