import type { DirectMessage } from '@chat/protocol';
import { describe, expect, it } from 'vitest';
import { conversationId } from '../../src/broker/dm-store';
import { ENVELOPE_VERSION, type DmDraft } from '../../src/broker/envelope';
import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryDms } from '../../src/broker/memory/memory-dms';
import { DmInbox } from '../../src/delivery/dm-inbox';
import { createLogger } from '../../src/logger';
import type { LocalSession } from '../../src/sessions/registry';

const alice = { id: 1, name: 'alice' };
const bob = { id: 2, name: 'bob' };
const conversation = conversationId(alice.id, bob.id);

function draft(n: number): DmDraft {
  const base = { v: ENVELOPE_VERSION, type: 'dm', origin: 'n1', conversation } as const;
  return { ...base, id: `d${n}`, from: alice, to: bob, text: `dm ${n}`, ts: n, sid: 'alice-sid' };
}

/** A session of bob's that records the DMs it is given. */
function bobSession(): { session: LocalSession; given: DirectMessage[] } {
  const given: DirectMessage[] = [];
  const socket = { emit: (_event: 'dm', dm: DirectMessage) => given.push(dm) };
  return { session: { sid: 'bob-sid', user: bob, socket } as unknown as LocalSession, given };
}

describe('DmInbox', () => {
  // Found by the chaos soak: a DM that reached a session live between its registration and
  // its catch-up was given to it again by the catch-up (from the handshake's older position).
  it('never gives a session a DM twice when it arrived live before the catch-up', async () => {
    const store = new MemoryDms(new MemoryBroker());
    const inbox = new DmInbox(store, createLogger('test', 'silent'));
    await store.append(draft(1), {});
    const stored = await store.append(draft(2), {});
    if (stored.status !== 'stored') throw new Error('not stored');
    const { session, given } = bobSession();
    inbox.deliver({ ...draft(2), seq: stored.seq }, [session], bob.id);
    await inbox.catchUp(session, { [conversation]: 1 });
    expect(given.map((dm) => dm.seq)).toEqual([2]);
  });

  // Found by the chaos soak: a client that resumed before its DM's ack came back was sent
  // its own DM by the catch-up.
  it('never gives a session its own DM back when it catches up', async () => {
    const store = new MemoryDms(new MemoryBroker());
    const inbox = new DmInbox(store, createLogger('test', 'silent'));
    await store.append(draft(1), {});
    await store.append({ ...draft(2), from: bob, to: alice, sid: 'bob-sid' }, {});
    const { session, given } = bobSession();
    await inbox.catchUp(session, { [conversation]: 0 });
    expect(given.map((dm) => dm.seq)).toEqual([1]);
  });
});
