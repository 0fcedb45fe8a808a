import { adminClient, useRedisCluster, type ClusterMaster } from '@chat/test-support';
import { afterEach, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/create-broker';
import type { Envelope, MessageDraft } from '../../src/broker/envelope';
import { keySlot } from '../../src/broker/redis/key-slot';
import type { Topic } from '../../src/broker/topics';
import { eventually } from '../support/client';
import { openRedisBroker } from '../support/redis';

/** Where rooms live on a Redis Cluster, and where their traffic goes. */
const cluster = useRedisCluster();
const open: Broker[] = [];
let counter = 0;

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => Promise.all([b.bus.close(), b.state.close()])));
});

async function broker(prefix: string): Promise<Broker> {
  const opened = await openRedisBroker({ cluster: cluster().seedsEnv }, prefix);
  open.push(opened);
  return opened;
}

function draft(room: string, text: string): MessageDraft {
  const id = `id-${++counter}`;
  const from = { id: 1, name: 'u1' };
  return { v: 1, type: 'message', origin: 'n1', id, room, from, sid: 's1', text, ts: Date.now() };
}

const servedBy = (masters: ClusterMaster[], name: string): ClusterMaster | undefined => {
  const slot = keySlot(name);
  return masters.find((m) => m.slots.some(([from, to]) => from <= slot && slot <= to));
};

async function commandCalls(port: number, command: string): Promise<number> {
  const redis = adminClient(`redis://127.0.0.1:${port}`);
  try {
    const stats = await redis.info('commandstats');
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  } finally {
    redis.disconnect();
  }
}

async function keysOn(port: number, pattern: string): Promise<number> {
  const redis = adminClient(`redis://127.0.0.1:${port}`);
  try {
    let cursor = '0';
    let found = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      cursor = next;
      found += keys.length;
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

it("spreads 300 rooms over 3 masters (each 20-47%); a room's log and traffic stay on its shard", async () => {
  const prefix = `spread${Date.now().toString(36)}`;
  const { bus } = await broker(prefix);
  const rooms = Array.from({ length: 300 }, (_, i) => `room-${i}`);
  for (const room of rooms) expect((await bus.append(draft(room, 'first'))).status).toBe('stored');
  const masters = await cluster().masters();
  expect(masters).toHaveLength(3);
  for (const master of masters) {
    const logs = await keysOn(master.port, `${prefix}:log:*`);
    expect(logs / rooms.length).toBeGreaterThanOrEqual(0.2);
    expect(logs / rooms.length).toBeLessThanOrEqual(0.47);
  }
  // One more message per room: each master publishes exactly the messages of its own rooms, and
  // the shard of the shared state sees none of the others' (no key or channel for everyone).
  const channel = (room: string) => `${prefix}#room#${room}#`;
  const before = await Promise.all(masters.map((m) => commandCalls(m.port, 'spublish')));
  const evalsBefore = await Promise.all(masters.map((m) => commandCalls(m.port, 'evalsha')));
  for (const room of rooms) expect((await bus.append(draft(room, 'second'))).status).toBe('stored');
  const after = await Promise.all(masters.map((m) => commandCalls(m.port, 'spublish')));
  const evalsAfter = await Promise.all(masters.map((m) => commandCalls(m.port, 'evalsha')));
  masters.forEach((master, i) => {
    const own = rooms.filter((room) => servedBy(masters, channel(room)) === master).length;
    expect((after[i] ?? 0) - (before[i] ?? 0)).toBe(own);
    expect((evalsAfter[i] ?? 0) - (evalsBefore[i] ?? 0)).toBe(own);
  });
});

it('gives a node no bytes of a room it has no members in', async () => {
  const prefix = `quiet${Date.now().toString(36)}`;
  const a = await broker(prefix);
  const b = await broker(prefix);
  const received = (bus: Broker['bus']) => {
    const seen: { topic: Topic; envelope: Envelope }[] = [];
    bus.setHandler({
      envelope: (envelope, topic) => seen.push({ envelope, topic }),
      down: () => undefined,
      resumed: () => undefined,
    });
    return seen;
  };
  const onA = received(a.bus);
  const onB = received(b.bus);
  await a.bus.subscribe({ kind: 'room', room: 'busy' });
  await b.bus.subscribe({ kind: 'room', room: 'other' });
  for (let i = 0; i < 50; i++) await a.bus.append(draft('busy', `busy ${i}`));
  await b.bus.append(draft('other', 'for b'));
  await eventually(() => expect(onB).toHaveLength(1));
  await eventually(() => expect(onA).toHaveLength(50));
  expect(onB.map(({ topic }) => topic)).toEqual([{ kind: 'room', room: 'other' }]);
  const masters = await cluster().masters();
  const owner = servedBy(masters, `${prefix}#room#busy#`);
  if (!owner) throw new Error('no master serves the room');
  const redis = adminClient(`redis://127.0.0.1:${owner.port}`);
  try {
    const reply = (await redis.call('PUBSUB', 'SHARDNUMSUB', `${prefix}#room#busy#`)) as [
      string,
      number,
    ];
    expect(reply[1]).toBe(1);
  } finally {
    redis.disconnect();
  }
});
