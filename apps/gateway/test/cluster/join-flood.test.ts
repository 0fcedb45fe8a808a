import type { ChatError } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

// Issue #11, point 3, bounded: one client joining as fast as acks come back (the issue saw
// 5,432 joins in 10 s, 543 notices per second for every member); here 2 s or 1,000 joins.
const FLOOD_MS = 2_000;
const MAX_JOINS = 1_000;

let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

async function open(node: number, name: string, room: string): Promise<TestClient> {
  const client = await connect(at(nodes, node).url, { name, room });
  clients.push(client);
  return client;
}

interface Flood {
  accepted: number;
  refusals: ChatError[];
  /** Where the flooder is when it stops. */
  room: string;
  ms: number;
}

/** Joins `target` and back to `lobby`, with `since: 0` into the target, as fast as acked. */
async function flood(attacker: TestClient, target: string): Promise<Flood> {
  const result: Flood = { accepted: 0, refusals: [], room: 'lobby', ms: 0 };
  const started = Date.now();
  // Until the node cuts off a client that keeps going into refusals (sessions/flood-guard.ts).
  for (
    let i = 0;
    i < MAX_JOINS && Date.now() - started < FLOOD_MS && attacker.socket.connected;
    i++
  ) {
    const room = result.room === 'lobby' ? target : 'lobby';
    const payload = room === target ? { room, since: 0 } : { room };
    const ack = await attacker.request('join', payload).catch(() => undefined);
    if (!ack) break;
    if (ack.ok) {
      result.accepted++;
      result.room = room;
    } else {
      result.refusals.push(ack.error);
    }
  }
  result.ms = Date.now() - started;
  return result;
}

const aboutAttacker = (watcher: TestClient) =>
  watcher.lines.filter((l) => l === 'attacker joined' || l === 'attacker left');

describe('a client flooding joins (issue #11, point 3)', () => {
  it('is refused over its join budget with a retryable RATE_LIMITED, and the room hears a bounded number of notices', async ({
    annotate,
  }) => {
    nodes = await memoryCluster(2, { JOIN_RATE_PER_SEC: '2', JOIN_BURST: '10' });
    const watcher = await open(1, 'watcher', 'target');
    await watcher.send('history the flooder would pull');
    const attacker = await open(0, 'attacker', 'lobby');

    const result = await flood(attacker, 'target');
    const figures = () => ({
      joins: result.accepted + result.refusals.length,
      accepted: result.accepted,
      ms: result.ms,
      noticesToWatcher: aboutAttacker(watcher).length,
    });

    // The budget: 10 at once, then 2 per second (and 1 for the handshake's own join).
    expect(result.accepted).toBeLessThanOrEqual(10 + Math.ceil((2 * result.ms) / 1_000));
    expect(result.refusals.length).toBeGreaterThan(0);
    expect(result.refusals[0]).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringContaining('too many joins') as string,
      retryable: true,
    });
    // Everyone else in the target room heard a handful of notices, not hundreds, and ends up
    // with the truth about where the attacker is (gone, if the node cut it off).
    const inTarget = attacker.socket.connected && result.room === 'target';
    const expected = inTarget ? 'attacker joined' : 'attacker left';
    await eventually(() => expect(aboutAttacker(watcher).at(-1)).toBe(expected));
    expect(aboutAttacker(watcher).length).toBeLessThanOrEqual(result.accepted);
    await annotate(`join flood ${JSON.stringify(figures())}`);
    // And the room still works for its members.
    const other = await open(0, 'other', 'target');
    await other.send('still served');
    await eventually(() => expect(watcher.lines).toContain('[other] still served'));
  });

  it('coalesces one user flapping in and out of a room into a few notices per second for its members', async ({
    annotate,
  }) => {
    // No join budget here: only the presence coalescing stands between the flood and the room.
    nodes = await memoryCluster(2, { JOIN_RATE_PER_SEC: '100000', JOIN_BURST: '100000' });
    const watcher = await open(1, 'watcher', 'target');
    const attacker = await open(0, 'attacker', 'lobby');

    const result = await flood(attacker, 'target');
    const figures = () => ({
      joins: result.accepted + result.refusals.length,
      accepted: result.accepted,
      ms: result.ms,
      noticesToWatcher: aboutAttacker(watcher).length,
    });

    expect(result.refusals).toEqual([]);
    expect(result.accepted).toBeGreaterThan(50);
    const expected = result.room === 'target' ? 'attacker joined' : 'attacker left';
    await eventually(() => expect(aboutAttacker(watcher).at(-1)).toBe(expected));
    // PRESENCE_BURST (5) at once, then at most one per 1/PRESENCE_RATE_PER_SEC (500 ms) held
    // back and collapsed, plus the settling one: about a dozen over 2 s, not hundreds.
    const seconds = Math.ceil(result.ms / 1_000);
    await annotate(`presence flood ${JSON.stringify(figures())}`);
    expect(aboutAttacker(watcher).length).toBeLessThanOrEqual(5 + 2 * 2 * seconds + 1);
    // Notices alternate: members never see two `joined` (or two `left`) in a row.
    const shown = aboutAttacker(watcher);
    for (let i = 1; i < shown.length; i++) expect(shown[i]).not.toBe(shown[i - 1]);
  });

  it('still shows exactly one joined and one left for ordinary comings and goings', async () => {
    nodes = await memoryCluster(2, { JOIN_RATE_PER_SEC: '2', JOIN_BURST: '10' });
    const watcher = await open(1, 'watcher', 'target');
    const visitor = await open(0, 'visitor', 'lobby');
    for (let i = 0; i < 2; i++) {
      expect(await visitor.request('join', { room: 'target' })).toMatchObject({ ok: true });
      await eventually(() => expect(watcher.joined).toHaveLength(i + 1));
      expect(await visitor.request('join', { room: 'lobby' })).toMatchObject({ ok: true });
      await eventually(() => expect(watcher.left).toHaveLength(i + 1));
    }
    expect(watcher.lines.filter((l) => l.startsWith('visitor'))).toEqual([
      'visitor joined',
      'visitor left',
      'visitor joined',
      'visitor left',
    ]);
    // Over the budget a join is refused and changes nothing: the visitor stays where it was.
    let refusal: unknown;
    let room = 'lobby';
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      const next = room === 'lobby' ? 'elsewhere' : 'lobby';
      const ack = await visitor.request('join', { room: next });
      if (ack.ok) room = next;
      else refusal = ack.error;
    }
    expect(refusal).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(await visitor.request('who', {})).toMatchObject({ ok: true, room });
  });

  it('refuses replays (handshakes and joins with since) over the per-address budget at the handshake', async () => {
    nodes = await memoryCluster(1, { REPLAY_RATE_PER_IP: '1', REPLAY_BURST_PER_IP: '3' });
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      try {
        clients.push(await connect(at(nodes, 0).url, { room: 'target', since: 0 }));
        outcomes.push('ok');
      } catch (error) {
        const refusal = (error as { data: ChatError }).data;
        expect(refusal).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
        expect(refusal.message).toContain('too many replays');
        outcomes.push('refused');
      }
    }
    expect(outcomes.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(outcomes.filter((o) => o === 'refused').length).toBeGreaterThanOrEqual(2);
    // Joins without `since` from the same address are not replays and still go through.
    clients.push(await connect(at(nodes, 0).url, { room: 'target' }));
  });
});
