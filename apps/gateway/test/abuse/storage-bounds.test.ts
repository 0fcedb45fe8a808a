import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, renewals, texts, type TestClient } from '../support/client';
import { closeAll, at, redisCluster, type RunningGateway } from '../support/cluster';
import { adminClient, useRedis } from '@chat/test-support';

const redis = useRedis();
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

async function open(url: string, options: Parameters<typeof connect>[1]): Promise<TestClient> {
  const client = await connect(url, options);
  clients.push(client);
  return client;
}

async function usedMemory(url: string): Promise<number> {
  const probe = adminClient(url);
  try {
    return Number(/used_memory:(\d+)/.exec(await probe.info('memory'))?.[1]);
  } finally {
    probe.disconnect();
  }
}

/** Messages stored in every room log of the cluster under `prefix`, and how many logs. */
async function storedLogs(
  url: string,
  prefix: string,
): Promise<{ rooms: number; messages: number }> {
  const probe = adminClient(url);
  try {
    const keys = await probe.keys(`${prefix}:log:*`);
    const lengths = await Promise.all(keys.map((key) => probe.xlen(key)));
    return { rooms: keys.length, messages: lengths.reduce((a, b) => a + b, 0) };
  } finally {
    probe.disconnect();
  }
}

describe('bounded storage (issue #11, point 4)', () => {
  it('an anonymous flood from one address grows Redis by a bounded amount', async () => {
    const prefix = `flood${Date.now().toString(36)}`;
    // Each user's own budget is generous (testConfig): the attack is many fresh anonymous users.
    nodes = await redisCluster(redis.url, 2, {
      REDIS_PREFIX: prefix,
      ANON_RATE_PER_IP: '20',
      ANON_BURST_PER_IP: '40',
      MAX_ROOMS: '5',
      MAX_ROOM_KB: '64',
      HISTORY_LIMIT: '100',
    });
    const attackers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        open(at(nodes, i % 2).url, { name: `a${i}`, room: `spam${i}` }),
      ),
    );
    const before = await usedMemory(redis.url);
    const text = 'x'.repeat(2_000);
    const deadline = Date.now() + 3_000;
    let acked = 0;
    await Promise.all(
      attackers.map(async (client) => {
        // Until the deadline, or until the node cuts off an attacker that ignores its refusals.
        while (Date.now() < deadline && client.socket.connected) {
          const acks = await Promise.all(
            Array.from({ length: 10 }, () =>
              client.request('send', { text }).catch(() => undefined),
            ),
          );
          acked += acks.filter((ack) => ack?.ok).length;
        }
      }),
    );
    const stored = await storedLogs(redis.url, prefix);
    const growth = (await usedMemory(redis.url)) - before;
    // The address' budget: 40 at once, then 20/s for 3 s (a little slack for timing).
    expect(acked).toBeLessThanOrEqual(40 + 20 * 4);
    expect(stored.rooms).toBeLessThanOrEqual(5);
    // Stored within the same budget (an attacker cut off mid-flight may miss the acks of a few
    // messages that were stored, so stored can exceed what it saw acked, never the budget).
    expect(stored.messages).toBeLessThanOrEqual(40 + 20 * 4);
    // README's bound: MAX_ROOMS x (MAX_ROOM_KB + 200 B x HISTORY_LIMIT) = 5 x 84 KiB, plus slack
    // for the buckets and Redis' own bookkeeping.
    expect(growth).toBeLessThan(5 * 84 * 1_024 + 512 * 1_024);
  });

  it('a room idle past ROOM_TTL_S loses its log; its positions go on while members stay, and start over (told) once nobody is left', async () => {
    const prefix = `ttl${Date.now().toString(36)}`;
    nodes = await redisCluster(redis.url, 2, { REDIS_PREFIX: prefix, ROOM_TTL_S: '1' });
    const alice = await open(at(nodes, 0).url, { name: 'alice', room: 'quiet' });
    const bob = await open(at(nodes, 1).url, { name: 'bob', room: 'quiet' });
    const carol = await open(at(nodes, 1).url, { name: 'carol', room: 'quiet' });
    for (const text of ['one', 'two', 'three']) await alice.send(text);
    await eventually(() => expect(texts(bob)).toEqual(['one', 'two', 'three']));
    const token = bob.welcome.resumeToken;
    const epoch = await alice.send('four').then((ack) => ack.epoch);
    await eventually(() => expect(texts(bob)).toHaveLength(4));
    bob.close();
    const probe = adminClient(redis.url);
    const expired = () =>
      eventually(async () => expect(await probe.exists(`${prefix}:seq:quiet`)).toBe(0));
    try {
      await expired();
      // alice and carol stayed: their nodes keep the room's positions going, in a new epoch
      // (the log and its epoch are gone: the next message starts one, and carol is told).
      const after = await alice.send('after the silence');
      expect(after.seq).toBe(5);
      expect(after.epoch).toEqual(expect.any(String));
      expect(after.epoch).not.toBe(epoch);
      await eventually(() => expect(texts(carol)).toHaveLength(5));
      expect(renewals(carol)).toEqual([
        { room: 'quiet', seq: 4, replayed: 0, lost: 0, epoch: after.epoch, renewed: true },
      ]);
      const back = await open(at(nodes, 0).url, {
        resume: token,
        room: 'quiet',
        since: 4,
        epoch: after.epoch,
      });
      expect(texts(back)).toEqual(['after the silence']);
      expect(back.synced).toEqual([
        { room: 'quiet', seq: 5, replayed: 1, lost: 0, epoch: after.epoch },
      ]);
      // Once nobody is left, an expired room starts over at seq 1 in a new epoch; a resume
      // from the old one is told so.
      for (const client of [alice, carol, back]) client.close();
      await expired();
      const dave = await open(at(nodes, 1).url, { name: 'dave', room: 'quiet' });
      expect(await dave.send('fresh')).toMatchObject({ seq: 1 });
      const again = await open(at(nodes, 0).url, { name: 'bob', room: 'quiet', since: 5, epoch });
      expect(texts(again)).toEqual(['fresh']);
      expect(again.synced).toEqual([
        { room: 'quiet', seq: 1, replayed: 1, lost: 0, epoch: expect.any(String), restarted: true },
      ]);
      expect(again.synced[0]?.epoch).not.toBe(epoch);
    } finally {
      probe.disconnect();
    }
  });
});
