import { adminClient, useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Bus, BusHandler } from '../../src/broker/bus';
import type { ClusterState } from '../../src/broker/cluster-state';
import { conversationId, type DmStore } from '../../src/broker/dm-store';
import type { Envelope } from '../../src/broker/envelope';
import { BrokerSettlingError } from '../../src/broker/errors';
import { openRedisBroker } from '../support/redis';
import { draft, storeWhenSettled } from './bus-contract';
import { dmDraft } from './dm-store-contract';

/**
 * The broker's data generation on one Redis (scripts/broker-identity.ts, ROOM_EPOCH in
 * scripts/fragments.ts): every loss found starts one, and a room log renews its epoch at its
 * first append in a new one, so no position after a loss equals one given before it.
 */
const redis = useRedis();
const open: Bus[] = [];
const TTL = 60_000;

afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

async function broker(): Promise<{
  bus: Bus;
  state: ClusterState;
  dms: DmStore;
  seen: Envelope[];
  prefix: string;
}> {
  const prefix = `g${Math.random().toString(36).slice(2, 8)}`;
  const { bus, state, dms } = await openRedisBroker(redis.url, prefix);
  open.push(bus);
  const seen: Envelope[] = [];
  const handler: BusHandler = {
    envelope: (envelope) => seen.push(envelope),
    down: () => undefined,
    resumed: () => undefined,
  };
  bus.setHandler(handler);
  return { bus, state, dms, seen, prefix };
}

let counter = 0;

describe('the broker data generation (one Redis)', () => {
  it('a check-in that finds its mark rolled back starts a new generation; one that does not keeps it', async () => {
    const { state } = await broker();
    const first = await state.checkIn('n', 'n:1', TTL);
    const kept = await state.checkIn('n', 'n:2', TTL, { expected: 'n:1', settleMs: 50 });
    expect(kept).toEqual({ epoch: first.epoch, previousMark: 'n:1' });
    // Redis holds n:2, but the node wrote n:7 last: a rollback.
    const lost = await state.checkIn('n', 'n:8', TTL, { expected: 'n:7', settleMs: 50 });
    expect(lost.previousMark).toBe('n:2');
    expect(lost.epoch).not.toBe(first.epoch);
    expect((await state.checkIn('other', 'o:1', TTL)).epoch).toBe(lost.epoch);
  });

  it('a room log renews its epoch at its first append after a loss: seqs go on, older entries go with the old epoch', async () => {
    const { bus, state, seen } = await broker();
    const room = `r${++counter}`;
    await bus.subscribe({ kind: 'room', room });
    await state.checkIn('n', 'n:1', TTL);
    const one = await storeWhenSettled(bus, room, 'one');
    expect(await storeWhenSettled(bus, room, 'two')).toEqual({ seq: 2, epoch: one.epoch });

    await state.checkIn('n', 'n:3', TTL, { expected: 'n:9', settleMs: 50 });
    // Reads do not renew: the log is as it was until its next append.
    expect((await bus.latest(room, 0)).epoch).toBe(one.epoch);
    const three = await storeWhenSettled(bus, room, 'three');
    expect(three.seq).toBe(3);
    expect(three.epoch).not.toBe(one.epoch);
    expect(await storeWhenSettled(bus, room, 'four')).toEqual({ seq: 4, epoch: three.epoch });
    const range = await bus.range(room, 0, 10);
    expect(range).toMatchObject({ head: 4, first: 3, epoch: three.epoch });
    expect(range.messages.map((m) => [m.text, m.seq, m.epoch])).toEqual([
      ['three', 3, three.epoch],
      ['four', 4, three.epoch],
    ]);
    // Live deliveries name each message's epoch: nodes see where the new one begins.
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    expect(seen.map((e) => e.type === 'message' && `${e.text}@${e.epoch}`)).toEqual([
      `one@${one.epoch}`,
      `two@${one.epoch}`,
      `three@${three.epoch}`,
      `four@${three.epoch}`,
    ]);
  });

  it('a loss a client witnessed starts a new generation too, and opens the settle window', async () => {
    const { bus, state } = await broker();
    const room = `r${++counter}`;
    const before = await state.checkIn('n', 'n:1', TTL);
    const one = await storeWhenSettled(bus, room, 'one');
    const generation = await state.lossWitnessed('n', 300);
    expect(generation).not.toBe(before.epoch);
    expect((await state.checkIn('n', 'n:2', TTL, { expected: 'n:1', settleMs: 50 })).epoch).toBe(
      generation,
    );
    await expect(bus.append(draft(room, 'refused'))).rejects.toBeInstanceOf(BrokerSettlingError);
    const two = await storeWhenSettled(bus, room, 'two');
    expect(two.seq).toBe(2);
    expect(two.epoch).not.toBe(one.epoch);
    expect((await bus.range(room, 0, 10)).messages.map((m) => m.text)).toEqual(['two']);
  });

  it('a process appends nothing for a settle window after its first check-in: a loss before it started is found by older nodes first', async () => {
    const { bus, state } = await broker();
    const room = `r${++counter}`;
    expect(bus.starting()).toBe(false);
    await state.checkIn('n', 'n:1', TTL, { expected: '', settleMs: 300 });
    expect(bus.starting()).toBe(true);
    await expect(bus.append(draft(room, 'early'))).rejects.toBeInstanceOf(BrokerSettlingError);
    expect((await bus.latest(room, 0)).head).toBe(0);
    await vi.waitFor(() => expect(bus.starting()).toBe(false), { timeout: 2_000 });
    expect(await storeWhenSettled(bus, room, 'later')).toMatchObject({ seq: 1 });
    // Later check-ins do not open it again.
    await state.checkIn('n', 'n:2', TTL, { expected: 'n:1', settleMs: 300 });
    expect(bus.starting()).toBe(false);
  });

  it('a private message is refused, nothing stored, while Redis lost data this node has not checked in since', async () => {
    const { dms, state, prefix } = await broker();
    await state.checkIn('n', 'n:1', TTL);
    expect(await dms.append(dmDraft('before'), {})).toMatchObject({ status: 'stored', seq: 1 });
    const admin = adminClient(redis.url);
    try {
      // Redis forgets everything of this node and the conversation (as FLUSHALL would).
      const forgotten = await admin.keys(`${prefix}*`);
      expect(forgotten.length).toBeGreaterThan(0);
      await admin.del(...forgotten);
      await expect(dms.append(dmDraft('refused'), {})).rejects.toBeInstanceOf(BrokerSettlingError);
      // The node checks in (finding the loss), raises what it knows, and the conversation goes on.
      await state.checkIn('n', 'n:2', TTL, { expected: 'n:1', settleMs: 50 });
      await dms.raise(conversationId(11, 12), 1);
      await vi.waitFor(
        async () =>
          expect(await dms.append(dmDraft('after'), {})).toMatchObject({
            status: 'stored',
            seq: 2,
          }),
        { timeout: 2_000, interval: 20 },
      );
    } finally {
      admin.disconnect();
    }
  });
});
