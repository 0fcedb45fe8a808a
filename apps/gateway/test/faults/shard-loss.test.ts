import { adminClient, useRedisCluster, type ClusterMaster } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/create-broker';
import { keySlot } from '../../src/broker/redis/key-slot';
import { RedisNames } from '../../src/broker/redis/names';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { at, closeAll, redisCluster, type RunningGateway } from '../support/cluster';
import { openRedisBroker } from '../support/redis';
import {
  converse,
  expectPositionsUnique,
  notices,
  othersOf,
  prefixOf,
  type Sender,
} from '../support/reset-checks';

/**
 * One shard of a Redis Cluster that loses its data (its master flushed, as a fail-over to a
 * replica that missed writes would): a rollback for the rooms on it, noticed and handled like
 * the single Redis' (test/faults/broker-reset.test.ts), while the other shards go on.
 */
const cluster = useRedisCluster();
const where = () => ({ cluster: cluster().seedsEnv });

const servedBy = (masters: ClusterMaster[], name: string): ClusterMaster | undefined => {
  const slot = keySlot(name);
  return masters.find((m) => m.slots.some(([from, to]) => from <= slot && slot <= to));
};

/** A master other than the one holding the shared state, and a room that lives on it. */
async function roomAwayFromState(prefix: string): Promise<{ room: string; master: ClusterMaster }> {
  const masters = await cluster().masters();
  const state = servedBy(masters, new RedisNames(prefix, true).stateTag());
  for (let i = 0; ; i++) {
    const room = `room-${i}`;
    const master = servedBy(masters, `${prefix}#room#${room}#`);
    if (master && master !== state) return { room, master };
  }
}

async function flush(master: ClusterMaster): Promise<void> {
  const admin = adminClient(`redis://127.0.0.1:${master.port}`);
  try {
    await admin.flushall();
  } finally {
    admin.disconnect();
  }
}

describe('a shard of a Redis Cluster that loses its data', () => {
  const brokers: Broker[] = [];
  let nodes: RunningGateway[] = [];
  const clients: TestClient[] = [];

  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.bus.close()));
    await closeAll(clients, nodes);
  });

  it("is reported at the next check-in as a rollback, though the cluster's epoch is kept", async () => {
    const prefix = `k${Date.now().toString(36)}`;
    const broker = await openRedisBroker(where(), prefix);
    brokers.push(broker);
    const first = await broker.state.checkIn('n1', 'n1:1', 60_000);
    expect((await broker.state.checkIn('n1', 'n1:2', 60_000)).previousMark).toBe('n1:1');
    await flush((await roomAwayFromState(prefix)).master);
    const after = await broker.state.checkIn('n1', 'n1:3', 60_000);
    expect(after.epoch).toBe(first.epoch);
    expect(after.previousMark).not.toBe('n1:2');
    // Known again from then on: one loss is reported once.
    expect((await broker.state.checkIn('n1', 'n1:4', 60_000)).previousMark).toBe('n1:3');
  });

  it('rooms on it go on above what was delivered, the lost messages are reported, nobody leaves', async () => {
    nodes = await redisCluster(where(), 3, { NODE_TTL_MS: '2000', HISTORY_MEMORY_KB: '0' });
    const [n0, n1, n2] = [at(nodes, 0), at(nodes, 1), at(nodes, 2)];
    const prefix = prefixOf(n0);
    const { room, master } = await roomAwayFromState(prefix);
    const open = async (url: string, options: Parameters<typeof connect>[1]) => {
      const client = await connect(url, options);
      clients.push(client);
      return client;
    };
    const alice = await open(n0.url, { name: 'alice', room });
    const bob = await open(n1.url, { name: 'bob', room });
    const carol = await open(n2.url, { name: 'carol', room });
    const talkers: [string, Sender][] = [
      ['alice', alice],
      ['bob', bob],
    ];
    const sent = new Map<string, string>();
    const all = await converse(talkers, 'm', 1, 10, sent);
    await eventually(() => expect(texts(carol)).toEqual(all));
    const marks = [alice, bob, carol].map((c) => c.lines.length);

    await flush(master);
    // The nodes notice at their next check-in and raise the room back to what they delivered.
    const seqKey = new RedisNames(prefix, true).roomSeq(room);
    const admin = adminClient(`redis://127.0.0.1:${master.port}`);
    try {
      await eventually(async () => expect(await admin.get(seqKey)).toBe('10'), 10_000);
    } finally {
      admin.disconnect();
    }

    all.push(...(await converse(talkers, 'm', 11, 5, sent)));
    for (const [name, client] of Object.entries({ alice, bob, carol })) {
      await eventually(() => expect(texts(client)).toEqual(othersOf(all, sent, name)));
    }
    expect(carol.messages.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expectPositionsUnique([alice, bob, carol].map((c) => c.messages));
    [alice, bob, carol].forEach((c, i) => expect(notices(c.lines, marks[i])).toEqual([]));
    // A newcomer replaying from the start gets what the shard holds and is told what it lost.
    const dave = await open(n0.url, { name: 'dave', room, since: 0 });
    expect(texts(dave)).toEqual(all.slice(10));
    expect(dave.synced.at(-1)).toMatchObject({ lost: 10, replayed: 5 });
  });
});
