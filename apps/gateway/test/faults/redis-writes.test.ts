import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, type TestClient } from '../support/client';
import { closeAll, at, redisCluster, type RunningGateway } from '../support/cluster';
import { adminClient, useRedis } from '@chat/test-support';

const redis = useRedis();
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];
let admin: Redis | undefined;

afterEach(async () => {
  await admin?.config('SET', 'maxmemory', '0');
  await admin?.call('REPLICAOF', 'NO', 'ONE');
  admin?.disconnect();
  await closeAll(clients, nodes);
});

const readyz = async (node: RunningGateway) => {
  const res = await fetch(`${node.url}/readyz`);
  return { status: res.status, reason: ((await res.json()) as { reason?: string }).reason };
};

/** Writes 100 kB values until Redis refuses one (it is at `maxmemory`); returns the keys. */
async function fill(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < 1_000; i++) {
    const key = `fill:${i}`;
    try {
      await redis.set(key, 'x'.repeat(100_000));
    } catch (error) {
      expect(String(error)).toMatch(/OOM/);
      return keys;
    }
    keys.push(key);
  }
  throw new Error('Redis never refused a write');
}

describe('Redis refuses writes', () => {
  it('out of memory (maxmemory, noeviction): /readyz is 503 with the reason, then 200 again', async () => {
    nodes = await redisCluster(redis.url, 2);
    const alice = await connect(at(nodes, 0).url, { name: 'alice' });
    clients.push(alice);
    admin = adminClient(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1mb');
    const keys = await fill(admin);

    const ack = await alice.request('send', { text: 'hello' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    for (const node of nodes) {
      await eventually(async () =>
        expect(await readyz(node)).toEqual({
          status: 503,
          reason: expect.stringMatching(/^redis refuses writes: OOM /),
        }),
      );
    }

    await admin.config('SET', 'maxmemory', '0');
    if (keys.length > 0) await admin.del(...keys);
    for (const node of nodes) {
      await eventually(async () => expect((await readyz(node)).status).toBe(200));
    }
    expect(await alice.request('send', { text: 'hello again' })).toMatchObject({ ok: true });
  });

  it('read-only (the Redis became a replica): /readyz is 503 with READONLY, then 200 again', async () => {
    nodes = await redisCluster(redis.url, 1);
    admin = adminClient(redis.url);
    // A master that does not exist: the replica keeps serving reads and refuses every write.
    await admin.call('REPLICAOF', '127.0.0.1', '1');
    await eventually(async () =>
      expect(await readyz(at(nodes, 0))).toEqual({
        status: 503,
        reason: expect.stringMatching(/^redis refuses writes: READONLY /),
      }),
    );
    await admin.call('REPLICAOF', 'NO', 'ONE');
    await eventually(async () => expect((await readyz(at(nodes, 0))).status).toBe(200));
  });
});
