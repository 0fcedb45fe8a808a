import type { ChatMessage, Synced } from '@chat/protocol';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_VERSION, type MessageEnvelope } from '../../src/broker/envelope';
import { MemoryBudget } from '../../src/delivery/recent-window';
import { RoomFeed, type FeedDeps } from '../../src/delivery/room-feed';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { Registry, type LocalSession } from '../../src/sessions/registry';

type Event = ['synced', Synced] | ['message', ChatMessage];

/** A feed of `lobby` whose log is known up to seq 2, and one member's socket as a list. */
function lobby(): { feed: RoomFeed; ann: LocalSession; got: Event[] } {
  const got: Event[] = [];
  const socket = {
    id: 'ann-socket',
    emit: (...event: Event) => void got.push(event),
    join: () => undefined,
  };
  const ann = { socket, user: { id: 1, name: 'ann' }, sid: 'ann', batch: false, room: 'lobby' };
  const nobody = { emit: () => true, except: () => nobody };
  const feed = new RoomFeed('lobby', {
    batchWindowMs: 0,
    load: { busy: () => false, inTurn: () => false },
    presence: { perSecond: 2, burst: 5 },
    recent: { maxMessages: 100, maxBytes: 1e6, budget: new MemoryBudget(1e9) },
    // No live member yet (the member is still syncing): broadcasts reach nobody.
    io: {
      to: () => nobody,
      sockets: { adapter: { rooms: new Map() } },
    } as unknown as FeedDeps['io'],
    registry: new Registry(),
    metrics: new Metrics(),
    logger: createLogger('test', 'silent'),
    fetch: () => Promise.resolve({ messages: [], first: 3, head: 2 }),
    raise: (atLeast) => Promise.resolve(atLeast),
  });
  feed.sequencer.start(2);
  return { feed, ann: ann as unknown as LocalSession, got };
}

function message(seq: number, epoch: string): MessageEnvelope {
  const base = { v: ENVELOPE_VERSION, type: 'message', origin: 'n2', room: 'lobby' } as const;
  return {
    ...base,
    seq,
    epoch,
    id: `m${seq}`,
    from: { id: 2, name: 'bob' },
    sid: 'bob',
    text: `m${seq}`,
    ts: seq,
  };
}

describe('RoomFeed, a join under way when the log starts a new epoch', () => {
  // Found by the CI soak: the room's first member on this node read the log (epoch `old`, up to
  // seq 2) and, while its history was being sent, the log's next message came in a new epoch:
  // it was given seq 3 as if of `old`, where another message had been.
  it('tells the member of the new epoch before its first message when its sync read the old one', () => {
    const { feed, ann, got } = lobby();
    feed.beginSync(ann);
    feed.sequencer.offer(message(3, 'new'));
    feed.endSync(ann, 2, 'old');
    expect(got).toEqual([
      ['synced', { room: 'lobby', seq: 2, replayed: 0, lost: 0, epoch: 'new', renewed: true }],
      ['message', expect.objectContaining({ seq: 3, text: 'm3' })],
    ]);
  });

  it('tells it nothing more when its sync read the new epoch already', () => {
    const { feed, ann, got } = lobby();
    feed.beginSync(ann);
    feed.sequencer.offer(message(3, 'new'));
    feed.endSync(ann, 2, 'new');
    expect(got).toEqual([['message', expect.objectContaining({ seq: 3, text: 'm3' })]]);
  });
});
