import { describe, expect, it, vi } from 'vitest';
import type { StoredRange } from '../../src/broker/bus';
import type { MessageEnvelope } from '../../src/broker/envelope';
import { RoomSequencer } from '../../src/delivery/room-sequencer';

function message(seq: number): MessageEnvelope {
  return {
    v: 1,
    type: 'message',
    origin: 'n',
    seq,
    id: `m${seq}`,
    room: 'lobby',
    from: { id: 1, name: 'a' },
    sid: 's',
    text: `t${seq}`,
    ts: seq,
  };
}

/** A room log holding seqs first..head except `holes`, and a sequencer over it. */
function setup(first: number, head: number) {
  const delivered: number[] = [];
  const lost: [number, number][] = [];
  const failures: unknown[] = [];
  const log = { first, head, down: false, holes: new Set<number>() };
  const sequencer = new RoomSequencer({
    fetch: async (after, limit): Promise<StoredRange> => {
      if (log.down) throw new Error('down');
      const messages: MessageEnvelope[] = [];
      for (let s = Math.max(after + 1, log.first); s <= log.head && messages.length < limit; s++) {
        if (!log.holes.has(s)) messages.push(message(s));
      }
      return { messages, first: log.first, head: log.head };
    },
    raise: async (atLeast) => {
      for (let s = log.head + 1; s <= atLeast; s++) log.holes.add(s);
      log.head = Math.max(log.head, atLeast);
      return log.head;
    },
    deliver: (m) => delivered.push(m.seq),
    lost: (from, to) => lost.push([from, to]),
    failed: (error) => failures.push(error),
    repaired: () => undefined,
  });
  return { sequencer, delivered, lost, failures, log };
}

describe('RoomSequencer', () => {
  it('delivers in order from the start head, dropping duplicates', () => {
    const { sequencer, delivered } = setup(1, 5);
    sequencer.offer(message(5));
    sequencer.start(5);
    for (const seq of [6, 7, 7, 6, 8]) sequencer.offer(message(seq));
    expect(delivered).toEqual([6, 7, 8]);
    expect(sequencer.delivered).toBe(8);
  });

  it('holds messages that arrive before start and keeps the ones after the head', () => {
    const { sequencer, delivered } = setup(1, 3);
    sequencer.offer(message(3));
    sequencer.offer(message(4));
    sequencer.start(3);
    expect(delivered).toEqual([4]);
  });

  it('fetches a gap from the log and delivers it in order', async () => {
    const { sequencer, delivered, log } = setup(1, 2);
    sequencer.start(2);
    log.head = 6;
    sequencer.offer(message(6));
    await sequencer.repair();
    expect(delivered).toEqual([3, 4, 5, 6]);
  });

  it('reports what the log no longer holds', async () => {
    const { sequencer, delivered, lost, log } = setup(1, 2);
    sequencer.start(2);
    log.first = 5;
    log.head = 6;
    await sequencer.repair();
    expect(lost).toEqual([[3, 4]]);
    expect(delivered).toEqual([5, 6]);
  });

  it('catches up after an outage without delivering twice', async () => {
    const { sequencer, delivered, failures, log } = setup(1, 1);
    sequencer.start(1);
    log.down = true;
    log.head = 4;
    sequencer.offer(message(4));
    await sequencer.repair();
    expect(failures).toHaveLength(1);
    expect(delivered).toEqual([]);
    log.down = false;
    await sequencer.repair();
    sequencer.offer(message(3));
    expect(delivered).toEqual([2, 3, 4]);
  });

  it('raises a log that went back below what it delivered, and delivers nothing twice', async () => {
    const { sequencer, delivered, lost, log } = setup(1, 9);
    sequencer.start(9);
    // Redis came back from an older snapshot: the log ends at 6, its counter too.
    log.head = 6;
    await sequencer.repair();
    expect(log.head).toBe(9);
    expect(delivered).toEqual([]);
    log.head = 10;
    sequencer.offer(message(10));
    await vi.waitFor(() => expect(delivered).toEqual([10]));
    expect(lost).toEqual([]);
  });

  it('reports holes inside the log as lost and does not wait for them', async () => {
    const { sequencer, delivered, lost, log } = setup(1, 2);
    sequencer.start(2);
    log.head = 8;
    log.holes = new Set([3, 4, 6]);
    sequencer.offer(message(8));
    await vi.waitFor(() => expect(delivered).toEqual([5, 7, 8]));
    expect(lost).toEqual([
      [3, 4],
      [6, 6],
    ]);
  });

  it('reach() resolves once delivery passes a seq, fetching if live delivery is slow', async () => {
    const { sequencer, log, delivered } = setup(1, 1);
    sequencer.start(1);
    log.head = 3;
    await sequencer.reach(3, 5_000);
    expect(delivered).toEqual([2, 3]);
  });

  it('reach() gives up when the log is unreachable', async () => {
    const { sequencer, log } = setup(1, 1);
    sequencer.start(1);
    log.head = 3;
    log.down = true;
    await expect(sequencer.reach(3, 400)).rejects.toThrow(/did not catch up/);
  });

  it('raises a log that expired and started over at seq 1 while the room was live', async () => {
    const { sequencer, delivered, lost, log } = setup(1, 5);
    sequencer.start(0);
    for (let seq = 1; seq <= 5; seq++) sequencer.offer(message(seq));
    // The room's keys expire and a node without a floor stores seq 1 of a new log: this node
    // raises the counter above what it delivered instead of delivering seqs 1 and 2 again.
    Object.assign(log, { first: 1, head: 1 });
    sequencer.offer(message(1));
    await sequencer.repair();
    expect(log.head).toBe(5);
    log.head = 6;
    sequencer.offer(message(6));
    await vi.waitFor(() => expect(delivered).toEqual([1, 2, 3, 4, 5, 6]));
    expect(lost).toEqual([]);
  });
});
