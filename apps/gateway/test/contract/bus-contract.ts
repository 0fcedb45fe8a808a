import { describe, expect, it, vi } from 'vitest';
import type { Bus, BusHandler, RoomStorage } from '../../src/broker/bus';
import type { Envelope, MessageDraft } from '../../src/broker/envelope';
import type { Topic } from '../../src/broker/topics';

/** A pair of nodes' buses on one broker, fresh for each test. */
export interface BusFixture {
  nodes: [Bus, Bus];
  /** Messages the broker keeps per room in this fixture. */
  historyLimit: number;
}

function recorder(bus: Bus) {
  const received: { envelope: Envelope; topic: Topic }[] = [];
  const handler: BusHandler = {
    envelope: (envelope, topic) => received.push({ envelope, topic }),
    down: () => undefined,
    resumed: () => undefined,
  };
  bus.setHandler(handler);
  return received;
}

let counter = 0;
/** A room message draft from user `userId`, with a fresh id. */
export function draft(room: string, text: string, userId = 1): MessageDraft {
  return {
    v: 1,
    type: 'message',
    origin: 'n1',
    id: `id-${++counter}`,
    room,
    from: { id: userId, name: `u${userId}` },
    sid: 's1',
    text,
    ts: Date.now(),
  };
}

/**
 * Appends `text` to `room`, retried while the broker refuses it (settling after a loss, or a
 * master not seen yet: nothing stored meanwhile); the position it was stored at.
 */
export async function storeWhenSettled(
  bus: Bus,
  room: string,
  text: string,
  timeout = 5_000,
): Promise<{ seq: number; epoch: string }> {
  let stored: { seq: number; epoch: string } | undefined;
  await vi.waitFor(
    async () => {
      const outcome = await bus.append(draft(room, text));
      if (outcome.status !== 'stored') throw new Error(outcome.status);
      stored = { seq: outcome.seq, epoch: outcome.epoch };
    },
    { timeout, interval: 20 },
  );
  if (stored === undefined) throw new Error(`${text} never stored`);
  return stored;
}

const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 10 });

/** The Bus contract; run against every implementation. */
export function busContract(
  name: string,
  fixture: (storage?: Partial<RoomStorage>) => Promise<BusFixture>,
) {
  describe(`Bus contract: ${name}`, () => {
    it('delivers room messages only to subscribers, with increasing seqs, in order', async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const seenA = recorder(a);
      const seenB = recorder(b);
      const room = `r${++counter}`;
      await b.subscribe({ kind: 'room', room });
      const outcomes = [];
      for (let i = 0; i < 20; i++) outcomes.push(await a.append(draft(room, `m${i}`)));
      expect(outcomes.map((o) => o.status === 'stored' && o.seq)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      await eventually(() => expect(seenB).toHaveLength(20));
      expect(seenB.map((r) => r.envelope.type === 'message' && r.envelope.text)).toEqual(
        Array.from({ length: 20 }, (_, i) => `m${i}`),
      );
      expect(seenB[0]?.topic).toEqual({ kind: 'room', room });
      expect(seenA).toHaveLength(0);
    });

    it('stops delivering after unsubscribe', async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const seenB = recorder(b);
      const room = `r${++counter}`;
      await b.subscribe({ kind: 'room', room });
      await a.append(draft(room, 'one'));
      await eventually(() => expect(seenB).toHaveLength(1));
      await b.unsubscribe({ kind: 'room', room });
      await a.append(draft(room, 'two'));
      await b.subscribe({ kind: 'room', room: `${room}x` });
      await a.append(draft(`${room}x`, 'three'));
      await eventually(() => expect(seenB).toHaveLength(2));
      expect(seenB.map((r) => r.envelope.type === 'message' && r.envelope.text)).toEqual([
        'one',
        'three',
      ]);
    });

    it('publishes unstored envelopes and counts receiving nodes', async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const seenB = recorder(b);
      const topic: Topic = { kind: 'user', userId: 7 + ++counter };
      const canary = (nonce: string) => ({
        v: 1 as const,
        type: 'canary' as const,
        origin: 'n1',
        nonce,
      });
      expect(await a.publish(topic, canary('x'))).toEqual({ status: 'published', receivers: 0 });
      await b.subscribe(topic);
      expect(await a.publish(topic, canary('y'))).toEqual({ status: 'published', receivers: 1 });
      await eventually(() =>
        expect(seenB).toEqual([{ envelope: expect.objectContaining({ nonce: 'y' }), topic }]),
      );
    });

    it('stores history: range after a seq, latest N, first and head', async () => {
      const { nodes } = await fixture();
      const room = `r${++counter}`;
      const empty = await nodes[0].latest(room, 10);
      expect(empty).toEqual({ messages: [], first: 1, head: 0 });
      for (let i = 1; i <= 5; i++) await nodes[0].append(draft(room, `m${i}`));
      const after = await nodes[1].range(room, 2, 2);
      expect(after.messages.map((m) => m.seq)).toEqual([3, 4]);
      expect(after).toMatchObject({ first: 1, head: 5 });
      const latest = await nodes[1].latest(room, 3);
      expect(latest.messages.map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
      expect((await nodes[1].latest(room, 0)).messages).toEqual([]);
      expect(latest.messages[0]).toMatchObject({ type: 'message', room, from: { id: 1 } });
    });

    it('trims history to about the limit and reports the first seq still stored', async () => {
      const { nodes, historyLimit } = await fixture();
      const room = `r${++counter}`;
      const total = historyLimit * 3;
      for (let i = 1; i <= total; i++) await nodes[0].append(draft(room, `m${i}`));
      const range = await nodes[0].range(room, 0, total);
      expect(range.head).toBe(total);
      expect(range.first).toBeGreaterThan(1);
      expect(range.messages.length).toBeGreaterThanOrEqual(historyLimit);
      expect(range.messages[0]?.seq).toBe(range.first);
      expect(range.messages.at(-1)?.seq).toBe(total);
    });

    it('deduplicates a retried append by cid, per sender', async () => {
      const { nodes } = await fixture();
      const room = `r${++counter}`;
      const first = await nodes[0].append(draft(room, 'once'), { cid: 'c1' });
      const again = await nodes[1].append(draft(room, 'once'), { cid: 'c1' });
      const otherSender = await nodes[1].append(draft(room, 'other', 2), { cid: 'c1' });
      expect(first).toMatchObject({ status: 'stored', seq: 1 });
      expect(again).toEqual({ status: 'duplicate', id: expect.any(String), seq: 1 });
      expect(otherSender).toMatchObject({ status: 'stored', seq: 2 });
      expect((await nodes[0].latest(room, 10)).messages.map((m) => m.text)).toEqual([
        'once',
        'other',
      ]);
    });

    it('answers a retry from another broker generation from its cid record alone, storing nothing', async () => {
      const { nodes } = await fixture();
      const room = `r${++counter}`;
      await nodes[0].append(draft(room, 'kept'), { cid: 'c1' });
      const older = { firstGeneration: 'older' };
      expect(await nodes[1].append(draft(room, 'kept'), { cid: 'c1', ...older })).toEqual({
        status: 'duplicate',
        id: expect.any(String),
        seq: 1,
      });
      expect(await nodes[1].append(draft(room, 'gone'), { cid: 'c2', ...older })).toEqual({
        status: 'unsure',
      });
      const current = nodes[1].generation();
      const now = current === undefined ? {} : { firstGeneration: current };
      expect(await nodes[1].append(draft(room, 'new'), { cid: 'c3', ...now })).toMatchObject({
        status: 'stored',
        seq: 2,
      });
      expect((await nodes[0].latest(room, 10)).messages.map((m) => m.text)).toEqual([
        'kept',
        'new',
      ]);
    });

    it('publishes at most once per dedupe key, across nodes', async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const seenB = recorder(b);
      const topic: Topic = { kind: 'user', userId: 900 + ++counter };
      await b.subscribe(topic);
      const dm = { v: 1 as const, type: 'canary' as const, origin: 'n1', nonce: 'once' };
      const dedupe = { key: `k${counter}`, id: 'first-id' };
      expect(await a.publish(topic, dm, { dedupe })).toEqual({ status: 'published', receivers: 1 });
      expect(await b.publish(topic, dm, { dedupe: { ...dedupe, id: 'second-id' } })).toEqual({
        status: 'duplicate',
        id: 'first-id',
      });
      await a.publish(topic, { ...dm, nonce: 'marker' });
      await eventually(() => expect(seenB).toHaveLength(2));
      expect(seenB.map((r) => r.envelope.type === 'canary' && r.envelope.nonce)).toEqual([
        'once',
        'marker',
      ]);
    });

    it('rate-limits with one bucket shared across nodes', async () => {
      const { nodes } = await fixture();
      const room = `r${++counter}`;
      const limit = { bucket: `b${counter}`, perSecond: 0.001, burst: 3 };
      const results = [];
      for (let i = 0; i < 4; i++) {
        results.push(
          (await nodes[i % 2 === 0 ? 0 : 1].append(draft(room, `m${i}`), { limit })).status,
        );
      }
      expect(results).toEqual(['stored', 'stored', 'stored', 'rate-limited']);
      expect(
        await nodes[0].publish(
          { kind: 'user', userId: 1 },
          { v: 1, type: 'canary', origin: 'n', nonce: 'x' },
          { limit },
        ),
      ).toEqual({ status: 'rate-limited' });
      expect((await nodes[0].latest(room, 10)).messages).toHaveLength(3);
    });

    it('trims a room by bytes as well as by count; the newest message always stays', async () => {
      const { nodes } = await fixture({ maxRoomBytes: 4_000 });
      const room = `r${++counter}`;
      for (let i = 1; i <= 20; i++) await nodes[0].append(draft(room, `${i} ${'x'.repeat(900)}`));
      const range = await nodes[1].range(room, 0, 100);
      expect(range.head).toBe(20);
      // Each draft is about 1,100 bytes of JSON: three fit in 4,000.
      expect(range.messages.map((m) => m.seq)).toEqual([18, 19, 20]);
      expect(range.first).toBe(18);
      await nodes[0].append(draft(room, 'y'.repeat(5_000)));
      expect((await nodes[1].latest(room, 10)).messages.map((m) => m.seq)).toEqual([21]);
    });

    it('refuses a message that would start a room beyond maxRooms; stored rooms go on', async () => {
      const { nodes } = await fixture({ maxRooms: 2 });
      const rooms = [1, 2, 3].map((i) => `r${++counter}x${i}`);
      expect((await nodes[0].append(draft(rooms[0] ?? '', 'a'))).status).toBe('stored');
      expect((await nodes[1].append(draft(rooms[1] ?? '', 'b'))).status).toBe('stored');
      expect(await nodes[0].append(draft(rooms[2] ?? '', 'c'))).toEqual({ status: 'rooms-full' });
      expect(await nodes[1].append(draft(rooms[0] ?? '', 'a2'))).toMatchObject({
        status: 'stored',
        seq: 2,
      });
      expect(await nodes[1].latest(rooms[2] ?? '', 10)).toEqual({
        messages: [],
        first: 1,
        head: 0,
      });
    });

    it('expires an idle room: its log is gone, it starts over at seq 1, a new room fits', async () => {
      const { nodes } = await fixture({ roomTtlMs: 400, maxRooms: 1 });
      const room = `r${++counter}`;
      for (let i = 1; i <= 3; i++) await nodes[0].append(draft(room, `old${i}`));
      expect((await nodes[1].latest(room, 10)).head).toBe(3);
      await vi.waitFor(
        async () =>
          expect(await nodes[1].latest(room, 10)).toEqual({ messages: [], first: 1, head: 0 }),
        { timeout: 5_000, interval: 50 },
      );
      expect(await nodes[0].append(draft(`${room}b`, 'other'))).toMatchObject({
        status: 'stored',
        seq: 1,
      });
      await vi.waitFor(
        async () =>
          expect(await nodes[0].append(draft(room, 'new'))).toMatchObject({
            status: 'stored',
            seq: 1,
          }),
        { timeout: 5_000, interval: 50 },
      );
      const after = await nodes[1].range(room, 3, 10);
      // A reader resuming after seq 3 sees a head below it: the log restarted.
      expect(after).toMatchObject({ head: 1, first: 1, messages: [] });
    });

    it('spends an address budget on top of the per-user one, both or neither', async () => {
      const { nodes } = await fixture();
      const room = `r${++counter}`;
      const addressLimit = { bucket: `addr-${room}`, perSecond: 0.001, burst: 4 };
      const user = (id: number) => ({ bucket: `u-${room}-${id}`, perSecond: 0.001, burst: 3 });
      const send = (id: number, node: 0 | 1) =>
        nodes[node].append(draft(room, `from ${id}`, id), { limit: user(id), addressLimit });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(1, 0)).status);
      for (let i = 0; i < 3; i++) statuses.push((await send(2, 1)).status);
      expect(statuses).toEqual([
        'stored',
        'stored',
        'stored',
        'rate-limited',
        'stored',
        'rate-limited',
        'rate-limited',
      ]);
      // User 1's refusal did not spend the address' token, nor user 2's refusals user 2's.
      expect((await nodes[0].append(draft(room, 'alone', 2), { limit: user(2) })).status).toBe(
        'stored',
      );
      expect((await nodes[0].latest(room, 10)).messages).toHaveLength(5);
    });

    it('gives a log an epoch with its first entry and keeps it; every read and delivery names it', async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const seenB = recorder(b);
      const room = `r${++counter}`;
      await b.subscribe({ kind: 'room', room });
      expect((await b.latest(room, 0)).epoch).toBeUndefined();
      const first = await a.append(draft(room, 'one'));
      if (first.status !== 'stored') throw new Error(`not stored: ${first.status}`);
      expect(await a.append(draft(room, 'two'))).toMatchObject({ epoch: first.epoch });
      const range = await b.range(room, 0, 10);
      expect(range.epoch).toBe(first.epoch);
      expect(range.messages.map((m) => m.epoch)).toEqual([first.epoch, first.epoch]);
      expect((await b.latest(room, 1)).epoch).toBe(first.epoch);
      await eventually(() => expect(seenB).toHaveLength(2));
      expect(seenB.map((r) => r.envelope.type === 'message' && r.envelope.epoch)).toEqual([
        first.epoch,
        first.epoch,
      ]);
    });

    it("never assigns a seq at or below the sender's floor, and raises the counter", async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const room = `r${++counter}`;
      await a.append(draft(room, 'one'));
      const raised = await a.append(draft(room, 'two'), { floor: 9 });
      expect(raised).toMatchObject({ status: 'stored', seq: 10 });
      expect(await b.append(draft(room, 'three'))).toMatchObject({ status: 'stored', seq: 11 });
      const range = await b.range(room, 0, 10);
      expect(range.messages.map((m) => m.seq)).toEqual([1, 10, 11]);
      expect(range.head).toBe(11);
    });

    it('raises a room counter only upward', async () => {
      const { nodes } = await fixture();
      const [a, b] = nodes;
      const room = `r${++counter}`;
      expect(await a.raise(room, 7)).toBe(7);
      expect(await a.raise(room, 3)).toBe(7);
      const after = await b.append(draft(room, 'after'));
      expect(after).toMatchObject({ status: 'stored', seq: 8 });
      const range = await b.range(room, 0, 10);
      // 1..7 are holes: never stored, never reused.
      expect(range).toMatchObject({
        head: 8,
        first: 8,
        epoch: after.status === 'stored' && after.epoch,
      });
    });
  });
}
